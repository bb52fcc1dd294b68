"""The rule layer of the urgency scorer: cues, negation, languages, config, bounds, invariants.

These pin what the rules read (``Scorer(..., model=None)``): their cues, reasons and categories
feed the learned half and explain every card. The scorer as shipped, rules plus the learned
half, is tested in test_learned.py and measured on whole labelled sets by bench/score_eval.py.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import Brand, Triage
from bot.models import Mention, Score
from bot.scoring import CATEGORIES, MAX_SCORED_CHARS, Scorer

BRAND = Brand(name="Acme", terms=("acme", "acme corp"), handles=("acme", "acmesupport"))
TRIAGE = Triage(urgency_threshold=60, products=("Roadrunner", "Anvil Pro"))


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer(BRAND, TRIAGE, model=None)


# for hypothesis tests (function-scoped fixtures are refused)
_SHARED = Scorer(BRAND, TRIAGE, model=None)


def mention(text: str, **fields) -> Mention:
    return Mention(source="x", external_id="1", text=text, **fields)


def test_polite_refund_request_is_urgent_billing(scorer):
    result = scorer.score(mention("Kindly refund my money"))
    assert result == Score(
        urgency=result.urgency,
        urgent=True,
        category="billing",
        sentiment=0.49,  # VADER alone reads this as positive
        reasons=["money: 'refund my money'", "asks for help"],
    )
    assert result.urgency >= 60


@pytest.mark.parametrize(
    "text",
    [
        "no problems at all with my acme order",
        "never had an issue with acme in 10 years",
        "my acme roadrunner has been going strong, zero problems",
        "not broken anymore, thanks @acmesupport!",
        "Keine Probleme mit meiner Acme Bestellung",
        "Comprei na Acme e não tive nenhum problema",
    ],
)
def test_negated_problems_are_not_urgent(scorer, text):
    assert scorer.score(mention(text)).urgent is False


def test_not_working_is_urgent(scorer):
    result = scorer.score(mention("my acme roadrunner is not working"))
    assert (result.urgent, result.category, result.reasons[0]) == (
        True,
        "product",
        "broken: 'not working'",
    )


def test_double_charge_with_polite_question(scorer):
    result = scorer.score(
        mention("my card was charged twice by acme, could you look into it? @acmesupport")
    )
    assert (result.urgent, result.category) == (True, "billing")
    assert result.reasons[0] == "money: 'charged twice'"
    assert "addressed to @acmesupport" in result.reasons


def test_small_account_with_strong_cues_is_urgent(scorer):
    result = scorer.score(mention("@acme my account got hacked and I'm locked out!!", followers=12))
    assert (result.urgent, result.category) == (True, "account")
    assert not any("followers" in reason for reason in result.reasons)


def test_reach_alone_never_makes_urgent(scorer):
    for text in (
        "Spent the afternoon at the Acme flagship store.",
        "Acme annual report published today",
        "acme",
    ):
        result = scorer.score(
            mention(text, followers=1_000_000, metrics={"reposts": 5000, "replies": 900}),
            repeat=True,
        )
        assert result.urgent is False, text
        assert result.urgency < 20, text


def test_reach_raises_a_complaint_and_says_so(scorer):
    text = "acme app keeps crashing"
    small = scorer.score(mention(text, followers=10))
    big = scorer.score(mention(text, followers=12_000))
    assert big.urgency > small.urgency
    assert "12k followers" in big.reasons


def test_repeat_complainant_raises(scorer):
    text = "the acme delivery is late"
    once = scorer.score(mention(text))
    again = scorer.score(mention(text), repeat=True)
    assert again.urgency >= once.urgency + 5
    assert "repeat complaint (24 h)" in again.reasons


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("@acme me cobraron dos veces el pedido, quiero un reembolso", "billing"),
        ("Mi Roadrunner de Acme no funciona, ayuda por favor", "product"),
        ("@acme vous m'avez débité deux fois, je veux un remboursement", "billing"),
        ("Mon compte Acme a été piraté, aide svp", "account"),
        ("Mein Acme Roadrunner funktioniert nicht mehr. Hilfe!", "product"),
        ("Meine Acme Bestellung ist nie angekommen, seit zwei Wochen", "delivery"),
        ("Meu Roadrunner da Acme não funciona, alguém me ajuda?", "product"),
        ("Vou cancelar minha assinatura da Acme, cansei", "churn"),
    ],
)
def test_non_english_cues(scorer, text, category):
    result = scorer.score(mention(text, lang=None))
    assert (result.urgent, result.category) == (True, category)


def test_accents_and_apostrophes_are_optional(scorer):
    plain = scorer.score(mention("Rueckerstattung bitte, nao funciona, can't log in"))
    fancy = scorer.score(mention("Rückerstattung bitte, não funciona, can’t log in"))
    assert plain.urgent and fancy.urgent


@pytest.mark.parametrize(
    "text",
    [
        "love acme, fastest refund ever!",
        "thanks @acme for fixing it so fast",
        "thanks for the refund acme",
        "Danke @acme, Rückerstattung ist angekommen. Alles gut!",
        "acme anvil pro down to £199 this weekend",
        "Hiring! Acme Corp is looking for a customer care lead",
    ],
)
def test_praise_and_resolved_are_not_urgent(scorer, text):
    assert scorer.score(mention(text)).urgent is False


def test_sarcasm_is_not_praise(scorer):
    result = scorer.score(mention("great, acme app down again. thanks for nothing"))
    assert (result.urgent, result.category) == (True, "outage")


def test_safety_wins_the_category(scorer):
    result = scorer.score(mention("my acme charger caught fire, I want a refund"))
    assert (result.urgent, result.category) == (True, "safety")
    assert result.reasons[0] == "safety: 'caught fire'"


def test_negative_tone_reason_uses_real_minus(scorer):
    result = scorer.score(mention("acme roadrunner broke, terrible, awful, I hate it"))
    tone = [r for r in result.reasons if r.startswith("negative tone")]
    assert tone and tone[0].startswith("negative tone \u2212")


def test_custom_cues_and_muted_phrases():
    triage = Triage(
        urgency_threshold=60,
        cues=(("dead pixel", 70), ("stale biscuits", 65)),
        muted=("fire sale", "crash test"),
        products=("Roadrunner",),
    )
    custom = Scorer(BRAND, triage, model=None)
    pixel = custom.score(mention("my acme roadrunner has a dead pixel"))
    assert (pixel.urgent, pixel.category, pixel.reasons[0]) == (
        True,
        "product",
        "cue: 'dead pixel'",
    )
    biscuits = custom.score(mention("acme sent me stale biscuits"))
    assert (biscuits.urgent, biscuits.category, biscuits.reasons[0]) == (
        True,
        "other",
        "cue: 'stale biscuits'",
    )
    # a muted phrase cancels the cue it overlaps, not the same cue elsewhere
    assert custom.score(mention("acme fire sale starts today")).urgency < 30
    assert custom.score(mention("acme crash test results are in")).urgency < 30
    assert custom.score(mention("acme fire sale, and my heater caught fire")).urgent is True
    # without the config the cue is unknown and the mute is off
    plain = Scorer(BRAND, Triage(), model=None)
    assert plain.score(mention("acme sent me stale biscuits")).urgent is False


def test_brand_terms_do_not_count_as_cues():
    brand = Brand(name="Fire Co", terms=("fire co", "smoke house"), handles=("fireco",))
    quiet = Scorer(brand, Triage(), model=None)
    lunch = quiet.score(mention("Lunch at Smoke House with the Fire Co team"))
    assert lunch.urgency < 20  # only VADER's tone of the word "fire" is left
    assert not any(r.startswith("safety") for r in lunch.reasons)
    assert quiet.score(mention("my Fire Co heater caught fire")).urgent is True


def test_handle_address_reason(scorer):
    result = scorer.score(mention("@AcmeSupport where is my order? tracking hasn't moved"))
    assert (result.urgent, result.category) == (True, "delivery")
    assert "addressed to @acmesupport" in result.reasons
    other = scorer.score(mention("@acmefan where is my order? tracking hasn't moved"))
    assert not any(r.startswith("addressed to") for r in other.reasons)


def test_brand_own_posts_score_zero(scorer):
    result = scorer.score(
        mention("We're aware some customers can't check out. Fix coming.", author="@Acme")
    )
    assert result == Score(0, False, "other", 0.0, ["posted by the brand (@acme)"])


def test_title_is_scored_with_text(scorer):
    result = scorer.score(mention("Bought it in March.", title="Acme double charged me"))
    assert (result.urgent, result.category) == (True, "billing")


def test_empty_brand_config_works():
    bare = Scorer(Brand(name="", terms=()), Triage(), model=None)
    assert bare.score(mention("my order never arrived, where is my parcel")).urgent is True
    assert bare.score(mention("")).urgency == 0


def test_reasons_quote_at_most_40_chars(scorer):
    text = "charged " + "x" * 30 + " twice " + "y" * 500
    for reason in scorer.score(mention(text)).reasons:
        assert len(reason) <= 60


def test_huge_text_is_bounded(scorer):
    unit = "@acme my Roadrunner was charged twice and stopped working, nobody answers!!! "
    big = (unit * (165_000 // len(unit) + 1))[:165_000]
    start = time.perf_counter()
    result = scorer.score(mention(big))
    assert time.perf_counter() - start < 2.0
    assert result.urgent is True
    assert MAX_SCORED_CHARS <= 2000


def test_deterministic(scorer):
    m = mention("ACME WHY IS YOUR APP NOT WORKING!!! 😡", followers=2500)
    assert scorer.score(m) == scorer.score(m)


_texts = st.one_of(
    st.text(max_size=300),
    st.lists(
        st.sampled_from(
            [
                "acme",
                "@acme",
                "refund",
                "not",
                "working",
                "charged",
                "twice",
                "no",
                "problems",
                "never",
                "arrived",
                "thanks",
                "fire",
                "hacked",
                "cancel",
                "!!!",
                "😡",
                "please",
                "help",
                "down",
                "great,",
                "again",
                "Rückerstattung",
                "não",
                "funciona",
                "LOCKED",
                "out",
                "lawyer",
                "’",
                "'",
                ".",
                ",",
                "\n",
            ]
        ),
        max_size=30,
    ).map(" ".join),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=_texts,
    a=st.integers(min_value=0, max_value=10**8),
    b=st.integers(min_value=0, max_value=10**8),
    reposts=st.integers(min_value=0, max_value=10**6),
    repeat=st.booleans(),
)
def test_followers_never_lower_urgency(text, a, b, reposts, repeat):
    low, high = sorted((a, b))
    metrics = {"reposts": reposts}
    base = _SHARED.score(mention(text, followers=None, metrics=metrics), repeat=repeat)
    first = _SHARED.score(mention(text, followers=low, metrics=metrics), repeat=repeat)
    second = _SHARED.score(mention(text, followers=high, metrics=metrics), repeat=repeat)
    assert base.urgency <= first.urgency <= second.urgency


@settings(max_examples=150, deadline=None)
@given(
    text=_texts,
    title=st.text(max_size=40),
    followers=st.one_of(st.none(), st.integers(min_value=0, max_value=10**9)),
    lang=st.sampled_from([None, "en", "es", "fr", "de", "pt", "ja"]),
)
def test_score_shape_invariants(text, title, followers, lang):
    result = _SHARED.score(mention(text, title=title, followers=followers, lang=lang))
    assert 0 <= result.urgency <= 100
    assert result.urgent == (result.urgency >= 60)
    assert result.category in CATEGORIES
    assert len(result.reasons) <= 3
    assert all(isinstance(r, str) and 0 < len(r) <= 60 for r in result.reasons)
    assert -1.0 <= result.sentiment <= 1.0


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Acme lost my parcel, third week waiting", "delivery"),
        ("where is my acme package?? ordered it 2 weeks ago", "delivery"),
        ("the acme courier dumped the box at the wrong house", "delivery"),
        ("acme order still not here after a month", "delivery"),
        ("acme billed me for a plan I had cancelled", "billing"),
        ("acme took payment but no order confirmation ever came", "billing"),
        ("acme: can't reset my password, the verification code never arrives", "account"),
        ("acme site keeps timing out at checkout", "outage"),
        ("acme app stuck on the loading screen since this morning", "outage"),
        ("Acme hat mir zweimal abgebucht, das ist Betrug", "billing"),
        ("Mi paquete de Acme todavía no me llegó", "delivery"),
        ("Ich kann mein Acme Passwort nicht zurücksetzen", "account"),
        ("O app da Acme não carrega desde ontem", "outage"),
    ],
)
def test_everyday_cue_words(scorer, text, category):
    result = scorer.score(mention(text))
    assert (result.urgent, result.category) == (True, category), result.reasons


@pytest.mark.parametrize(
    "text",
    [
        "thanks @acme for looking into it: my parcel never arrived",
        "love you acme, but my roadrunner caught fire this morning",
        "thanks for the quick reply acme, but I still haven't got my refund",
    ],
)
def test_thanks_before_an_open_problem_does_not_damp_it(scorer, text):
    result = scorer.score(mention(text))
    assert result.urgent, result.reasons
    assert "thankful or resolved tone" not in result.reasons


@pytest.mark.parametrize(
    "text",
    [
        "my acme parcel arrived early, lovely packaging",
        "acme courier was so friendly today",
        "how do I change the address on an acme order that hasn't shipped yet?",
        "thanks acme for sorting my parcel, it finally arrived",
    ],
)
def test_everyday_delivery_words_alone_are_not_urgent(scorer, text):
    assert scorer.score(mention(text)).urgent is False


# --- general patterns added after the whole-set error review ----------------------------------


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # a brand or product name between a determiner and its noun ("my Acme account")
        ("We are about to close our acme account over this", "churn"),
        ("where is my Anvil Pro replacement, ordered a month ago", "delivery"),
        # common misspellings of the complaint verbs
        ("my acme parcel never arived", "delivery"),
        ("still havent recieved my acme order", "delivery"),
        ("ordred from acme three weeks ago and nothing yet", "delivery"),
    ],
)
def test_names_as_modifiers_and_typos(scorer, text, category):
    result = scorer.score(mention(text))
    assert (result.urgent, result.category) == (True, category), result.reasons


def test_quotation_marks_do_not_break_a_phrase(scorer):
    result = scorer.score(mention('acme added a "hidden" fee to my order'))
    assert result.reasons[0].startswith("money:"), result.reasons


@pytest.mark.parametrize(
    "text",
    [
        "I'm cancelling my Acme membership this week",
        "we're switching to Globex, acme support is gone",
        "Voy a darme de baja de Acme",
        "Je vais résilier mon contrat Acme",
        "Ich werde meinen Acme Vertrag kündigen",
        "Vou encerrar a minha conta na Acme",
    ],
)
def test_a_stated_decision_to_leave_is_urgent_churn(scorer, text):
    result = scorer.score(mention(text))
    assert (result.urgent, result.category) == (True, "churn"), result.reasons


@pytest.mark.parametrize(
    "text",
    [
        "we're switching to acme from Globex next month",
        "I'm not cancelling my acme account, calm down",
        "Je quitte Lyon demain avec mon Acme Roadrunner",
    ],
)
def test_moving_to_the_brand_or_not_leaving_is_not_churn(scorer, text):
    assert scorer.score(mention(text)).urgent is False


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("this acme app never works", "outage"),
        ("my acme toaster never worked properly", "product"),
        ("Mi tostadora Acme nunca funciona", "product"),
        ("Le grille-pain Acme ne fonctionne jamais", "product"),
        ("Der Acme Toaster funktioniert nie", "product"),
        ("A torradeira da Acme nunca funciona", "product"),
    ],
)
def test_never_works_in_every_language(scorer, text, category):
    result = scorer.score(mention(text))
    assert (result.urgent, result.category) == (True, category), result.reasons


def test_never_works_about_a_person_is_not_a_fault(scorer):
    assert scorer.score(mention("the acme founder never works on Sundays")).urgent is False


def test_take_my_money_is_an_idiom_but_failing_to_deliver_is_not(scorer):
    assert scorer.score(mention("new acme anvil pro looks great, take my money")).urgent is False
    result = scorer.score(mention("acme is happy to take my money but failed to deliver the box"))
    assert (result.urgent, result.category) == (True, "delivery"), result.reasons


@pytest.mark.parametrize(
    "text",
    [
        "why was I billed by acme for two plans?",
        "acme is holding my deposit, please release the funds",
        "acme, I need my money, the order was cancelled on your side",
    ],
)
def test_disputed_or_held_money_is_urgent_billing(scorer, text):
    result = scorer.score(mention(text))
    assert (result.urgent, result.category) == (True, "billing"), result.reasons


def test_need_the_money_in_general_is_not_billing(scorer):
    assert scorer.score(mention("saving up, I need the money for an acme anvil")).urgent is False


def test_in_store_payment_systems_down_are_an_outage(scorer):
    for text in (
        "acme card machines down at every shop in town",
        "acme tills are down nationwide, cash only",
    ):
        result = scorer.score(mention(text))
        assert (result.urgent, result.category) == (True, "outage"), (text, result.reasons)


@pytest.mark.parametrize(
    "text",
    [
        "acme says it was left at a pickup point which doesn't exist",
        "my acme package is lost somewhere in the sorting centre",
    ],
)
def test_parcel_at_a_missing_place_or_lost_in_the_network(scorer, text):
    result = scorer.score(mention(text))
    assert (result.urgent, result.category) == (True, "delivery"), result.reasons


def test_a_promised_date_alone_is_not_urgent(scorer):
    assert scorer.score(mention("acme promised it would arrive on monday, excited")).urgent is False


def test_account_takeover_heads_the_money_lost_through_it(scorer):
    result = scorer.score(
        mention("someone hacked my acme login and bought two kettles with my card, fraud")
    )
    assert (result.urgent, result.category) == (True, "account"), result.reasons
    # a plain fraud report without a takeover stays billing
    plain = scorer.score(mention("acme fraud department, there are 3 charges I never made"))
    assert plain.category == "billing", plain.reasons


@pytest.mark.parametrize(
    "text",
    [
        "the acme courier left my box in the hedge, everything is fine though, funny day",
        "acme checkout was down this morning but all fixed now",
    ],
)
def test_everything_fine_or_all_fixed_damps(scorer, text):
    result = scorer.score(mention(text))
    assert result.urgent is False, result.reasons
    assert "thankful or resolved tone" in result.reasons


def test_fine_until_does_not_damp(scorer):
    result = scorer.score(
        mention("everything is fine until I plug in the acme kettle: it's broken")
    )
    assert result.urgent is True, result.reasons


def test_asking_for_a_recommendation_is_not_praise(scorer):
    result = scorer.score(
        mention("considering leaving acme, support got slow. can someone recommend alternatives?")
    )
    assert result.urgent is True, result.reasons
    assert "thankful or resolved tone" not in result.reasons
    assert scorer.score(mention("would recommend acme, lovely kettle")).urgent is False


def test_exasperation_idioms_count_as_complaint(scorer):
    for text in ("acme, enough is enough", "Acme, ya basta", "Acme, ras le bol", "Acme, es reicht"):
        result = scorer.score(mention(text))
        assert any(r.startswith("complaint:") for r in result.reasons), (text, result.reasons)


# --- topic + trouble layer (new sentences, in neither eval set) -------------------------------


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("my acme parcel is still nowhere, tracking stuck since Tuesday", "delivery"),
        ("the acme wallet balance vanished overnight, 230 dollars gone", "billing"),
        ("Roadrunner keyboard keeps dropping keystrokes for 3 weeks now", "product"),
        ("acme app keeps crashing at checkout since the update, what do I do", "outage"),
        ("my acme password reset code never arrives, locked out of everything", "account"),
        ("mi pedido de acme sigue perdido desde hace 9 dias, nadie responde", "delivery"),
    ],
)
def test_topic_with_trouble_is_urgent(scorer, text, category):
    result = scorer.score(mention(text))
    assert result.urgent, (text, result)
    assert result.category == category
    assert len(result.reasons) <= 3


def test_topic_trouble_reason_quotes_the_words(scorer):
    result = scorer.score(mention("the acme courier took my box to the wrong street again"))
    assert result.urgent
    assert any(r.startswith("delivery") for r in result.reasons)


@pytest.mark.parametrize(
    "text",
    [
        # a topic alone, or a trouble word alone
        "just ordered the new Roadrunner sleeve from acme",
        "still thinking about what to get my dad this year, maybe acme",
        # negated or resolved
        "acme parcel came a day early, zero issues with the delivery",
        "my acme app works fine now after the update, thanks team",
        # hypothetical and how-to questions
        "does the Anvil Pro battery last a full day if I game a lot?",
        "how do I change the card on my acme account?",
        # praise that uses trouble words
        "my Roadrunner battery is still at 60% after a full day, unreal",
        # another ACME: the certificate protocol
        "our acme client failed to renew the certificate again, dns timeout",
    ],
)
def test_topic_trouble_negatives(scorer, text):
    assert scorer.score(mention(text)).urgent is False, text


def test_topic_trouble_is_damped_by_a_review_headline(scorer):
    review = scorer.score(
        mention("Anvil Pro long-term review: the battery still drains fast on 5G", title="")
    )
    plain = scorer.score(mention("my Anvil Pro battery still drains fast on 5G"))
    assert review.urgency < plain.urgency


# --- general patterns from the second blind set (own sentences) ---------------------------------


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # "no longer" / "anymore" about something that stopped working is a loss, not a fix
        ("My Roadrunner trackpad does not click anymore and it is only six weeks old", "product"),
        ("Since the update I can no longer log in to the Acme app on my tablet", "account"),
        # a polite request for future help is not thanks for a fix
        (
            "My Anvil Pro freezes on the logo every morning. I would be very grateful for some "
            "advice before I lose my work.",
            "product",
        ),
        # an essential supply lost with a vulnerable person relying on it
        (
            "Acme cut off our gas this morning and we have a newborn in the house. It is freezing.",
            "safety",
        ),
        # moving to another provider is a decision to leave
        ("Moving our office line over to another provider next week, Acme had its chance", "churn"),
        # a charge disputed with "even though"
        ("Acme billed me for March even though I closed the plan in February", "billing"),
        # no internet, in several languages
        ("Sin internet de Acme desde ayer por la tarde, alguien sabe algo?", "outage"),
        ("Acme's checkout looks down, every page just spins", "outage"),
        # someone getting into the account
        ("someone got into my acme acc last night and changed the email", "account"),
        # switching itself off, in Portuguese
        ("Meu Roadrunner ainda desliga sozinho depois de dez minutos", "product"),
    ],
)
def test_blind2_general_patterns_are_urgent(scorer, text, category):
    result = scorer.score(mention(text))
    assert result.urgent, result
    assert result.category == category, result


@pytest.mark.parametrize(
    "text",
    [
        # news and commentary about the brand, nobody speaking for themselves
        "Regulator confirms investigation into Acme billing after a spike in complaints",
        "Acme shares down 3% after the outage announcement",
        "Acme said service was fully restored by midnight after the outage.",
        "Opinion: Acme's delivery problem is a management problem",
        "Working on a story about Acme refunds going missing. My DMs are open.",
        # resolved: money given back, fix applied, replaced within a day
        "acme gave me my money back for the faulty charger, fair play",
        "The crashes were a bad release, rolled back within the hour, credit applied. Nice.",
        "Acme replaced the cracked unit within two days. Good people.",
        # another thing with the brand's name
        "Acme Bakery on the high street is NOT us, sorry! Please stop sending us their complaints",
        # a sub-brand name is not a topic ("Acme Delivery", "Acme Pay")
        "Acme Delivery driver helped my neighbour carry the box upstairs. 8 months pregnant too.",
        # idioms and old advice
        "Their chatbot told me to turn it off and on again. Classic.",
        "my screen reader says Acme like 'acne' and now I can't unhear it",
        # the press as a verb or an office; a reply to a complaint
        "Acme's press office says the recall covers March units only.",
        "Acme replied to my complaint with a voucher and an apology. Happy with that.",
        # a duration stated as a property, and impatience that is not a fault
        "Heads up: the Acme broadband contract is 24 months, read it before you sign",
        "me refreshing the acme tracking page every 5 minutes like it helps",
        # "top up" is not praise, but it is not trouble either
        "Just used the Acme app to top up my meter, took seconds",
        # the vulnerable-customer rule needs a lost supply
        "Acme sent a lovely card when our baby was born",
    ],
)
def test_blind2_general_patterns_negatives(scorer, text):
    result = scorer.score(mention(text))
    assert not result.urgent, result


def test_no_longer_about_a_problem_still_reads_as_resolved(scorer):
    # the stopped-working reading must not undo a real fix
    assert not scorer.score(mention("My Acme app no longer crashes since the update")).urgent
    assert not scorer.score(mention("Acme Roadrunner is not broken anymore, thanks")).urgent


def test_prefilter_word_lists_cover_every_phrase():
    """The scorer skips the sarcasm and thanks searches unless one of these words is in the
    text: a phrase added without one of them would silently never match."""
    from bot import scoring

    for phrase in scoring._split_top(scoring._SARCASM):
        assert any(word in phrase for word in scoring._SARCASM_WORDS), phrase
    opener = scoring._THANKS_FOR.split("(?:", 1)[1].split(")", 1)[0]
    for word in opener.split("|"):
        assert any(w in word for w in scoring._THANKS_WORDS), word
