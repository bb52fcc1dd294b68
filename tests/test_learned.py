"""The learned half of the urgency score (bot/learned.py) and the scorer as shipped with it."""

from __future__ import annotations

import json
import math
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.config import Brand, Triage
from bot.learned import (
    DEFAULT_MODEL_PATH,
    CategoryModel,
    UrgencyModel,
    load_default,
    text_features,
    train,
    train_categories,
)
from bot.models import Mention
from bot.scoring import CATEGORIES, Scorer, fold

BRAND = Brand(name="Acme", terms=("acme", "acme corp"), handles=("acme", "acmesupport"))
TRIAGE = Triage(urgency_threshold=60, products=("Roadrunner", "Anvil Pro"))


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer(BRAND, TRIAGE)


@pytest.fixture(scope="module")
def rules() -> Scorer:
    return Scorer(BRAND, TRIAGE, model=None)


_SHIPPED = Scorer(BRAND, TRIAGE)  # for hypothesis tests (function-scoped fixtures are refused)


def mention(text: str, **fields) -> Mention:
    fields.setdefault("source", "x")
    return Mention(external_id="1", text=text, **fields)


# --- the shipped model file ---------------------------------------------------------------------


def test_the_shipped_model_loads_and_says_what_it_was_trained_on():
    model = load_default()
    assert DEFAULT_MODEL_PATH.name == "urgency_model.json"
    assert 0.0 < model.cut < 1.0
    assert model.weights and model.stack and model.categories is not None
    assert set(model.categories.labels) == set(CATEGORIES)
    # never the test sets
    assert model.trained_on and not {"eval_blind14.jsonl", "eval_blind15.jsonl"} & set(
        model.trained_on
    )


@pytest.mark.parametrize(
    "content, words",
    [
        ("not json", "Expecting value"),
        ('{"format": "something-else/9"}', "not a mentionops-urgency/1 model file"),
        ('{"format": "mentionops-urgency/1", "weights": {}}', "missing or out of range"),
    ],
)
def test_a_broken_model_file_says_which_file_and_what_is_wrong(tmp_path, content, words):
    path = tmp_path / "model.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError) as caught:
        UrgencyModel.load(path)
    assert words in str(caught.value)
    if "format" in content:
        assert str(path) in str(caught.value)


def test_a_saved_model_reads_back_the_same(tmp_path):
    model = load_default()
    path = tmp_path / "copy.json"
    model.save(path)
    again = UrgencyModel.load(path)
    text = fold("my acme order never came and nobody answers")
    signals = {"rule": 0.8, "neg": 0.4, "fam:delivery": 0.8}
    assert again.logit(text, signals) == pytest.approx(model.logit(text, signals), abs=1e-3)
    assert again.categories.category(text, "other") == model.categories.category(text, "other")


# --- the text model is the sum it claims to be ---------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from("abc xyz'é!?\n"), max_size=300))
def test_the_fast_logit_equals_the_sum_over_the_features(text):
    model = load_default()
    folded = fold(text)
    feats = text_features(folded, model.grams)
    expected = model.bias
    if feats:
        expected += sum(model.weights.get(f, 0.0) for f in feats) / math.sqrt(len(feats))
    assert model.text_logit(folded, {}) == pytest.approx(expected, abs=1e-9)


def test_a_long_word_and_a_long_text_are_bounded():
    model = load_default()
    word = "a" * 5000
    assert math.isfinite(model.text_logit(word, {}))
    started = time.perf_counter()
    model.text_logit("refund " * 40_000, {})
    assert time.perf_counter() - started < 0.05  # reads a bounded excerpt


# --- training -----------------------------------------------------------------------------------

TOY = [
    ("my order never arrived", True),
    ("order never arrived again", True),
    ("charged twice for my order", True),
    ("still charged twice, no refund", True),
    ("love my new oven", False),
    ("great oven, love it", False),
    ("new oven arrived today, love it", False),
    ("lovely delivery, thanks", False),
] * 3


def toy_examples():
    return [(text_features(t), {}, y) for t, y in TOY]


def test_training_learns_a_small_problem_and_is_deterministic():
    first = train(toy_examples(), epochs=30, min_count=1)
    second = train(toy_examples(), epochs=30, min_count=1)
    assert first.weights == second.weights and first.bias == second.bias
    assert first.probability("parcel never arrived", {}) > 0.5
    assert first.probability("love this oven", {}) < 0.5


def test_averaging_seeds_is_the_average_of_the_runs():
    one = train(toy_examples(), epochs=5, seed=1, min_count=1)
    two = train(toy_examples(), epochs=5, seed=2, min_count=1)
    both = train(toy_examples(), epochs=5, seed=1, seeds=2, min_count=1)
    for feature, weight in both.weights.items():
        assert weight == pytest.approx(
            (one.weights.get(feature, 0.0) + two.weights.get(feature, 0.0)) / 2, abs=1e-9
        )


def test_the_category_model_learns_from_words_and_the_rules_hint():
    rows = [
        ("charged twice refund please", "other", "billing"),
        ("refund still missing", "billing", "billing"),
        ("parcel never arrived", "delivery", "delivery"),
        ("courier lost my parcel", "other", "delivery"),
    ] * 4
    model = train_categories(rows, ["billing", "delivery", "other"], min_count=1)
    assert model.category("where is my refund", "other") == "billing"
    assert model.category("my parcel is lost", "other") == "delivery"
    assert CategoryModel.from_json(model.to_json()).category("parcel", "other") == "delivery"


# --- the scorer with the learned half ----------------------------------------------------------

URGENT = [
    ("@acmesupport my Roadrunner battery swelled overnight and the case is cracked, it smells "
     "of burning. Unplugged it. What do I do?", "safety"),
    ("Acme took £89.99 twice for the same order (#55120). Bank shows both as settled. "
     "Please refund the duplicate.", "billing"),
    ("Order 44871 says delivered on Friday but nothing came, not with neighbours either. "
     "Can someone at Acme look into it?", "delivery"),
    ("Locked out of my Acme account since the password reset this morning, the code never "
     "arrives and chat keeps closing on me", "account"),
    ("hola @acme, pagué el pedido hace dos semanas y sigue sin llegar, nadie me contesta",
     "delivery"),
    ("Acme hat mir das Plus-Abo nach der Kündigung weiter abgebucht, 3 Monate. Ich will "
     "mein Geld zurück.", "billing"),
]

NOT_URGENT = [
    "Had a problem with my Acme delivery last week but support sorted it within the hour. "
    "Really impressed.",
    "Does the Anvil Pro have a proofing mode for bread? Thinking of getting one.",
    "Acme is hiring customer support agents in Leeds, apply on their careers page",
    "I'm not cancelling my Acme Plus, it's worth every penny for us",
    "if my Roadrunner ever broke down on the commute I'd honestly just walk lol",
    "Three years with my Anvil Pro and zero problems. Best kitchen purchase I've made.",
]


@pytest.mark.parametrize("text, category", URGENT)
def test_clear_complaints_are_urgent_with_their_category(scorer, text, category):
    score = scorer.score(mention(text, followers=12))
    assert (score.urgent, score.category) == (True, category), score.reasons


@pytest.mark.parametrize("text", NOT_URGENT)
def test_praise_questions_and_resolved_stories_are_not_urgent(scorer, text):
    score = scorer.score(mention(text, followers=12))
    assert score.urgent is False, score.reasons


@settings(max_examples=60, deadline=None)
@given(
    text=st.sampled_from([t for t, _ in URGENT] + NOT_URGENT + ["acme", "@acme hi"]),
    followers=st.integers(min_value=0, max_value=50_000_000),
    reposts=st.integers(min_value=0, max_value=1_000_000),
)
def test_reach_only_ever_raises_and_never_decides_alone(text, followers, reposts):
    shipped = _SHIPPED
    quiet = shipped.score(mention(text, followers=0))
    loud = shipped.score(mention(text, followers=followers, metrics={"reposts": reposts}))
    assert loud.urgency >= quiet.urgency
    assert loud.urgency - quiet.urgency <= 15
    if text in NOT_URGENT:
        assert loud.urgent is False


def test_the_model_explains_itself_with_telling_words_never_the_brand(scorer, rules):
    text = "@acmesupport order 77120 was meant to come Tuesday, it's Friday, nothing, no reply"
    ours, theirs = scorer.score(mention(text)), rules.score(mention(text))
    assert ours.urgent
    lifted = [r for r in ours.reasons if r.startswith("reads like an urgent complaint")]
    if not theirs.urgent:  # the model lifted it: it says why
        assert lifted
    for reason in lifted:
        quoted = reason.split(":", 1)[1]
        assert not {"acme", "zbrand", "zhandle", "zproduct"} & set(quoted.lower().split("'"))


def test_a_veto_is_explained(scorer, rules):
    text = (
        "was double charged by acme on tuesday, support reversed it by wednesday morning. "
        "fair play"
    )
    ours, theirs = scorer.score(mention(text)), rules.score(mention(text))
    assert ours.urgent is False
    if theirs.urgent:
        assert any(r.startswith("reads as handled or not a complaint") for r in ours.reasons)


def test_text_that_does_not_name_the_brand_is_left_to_the_rules(scorer, rules):
    for text in ("my parcel never arrived and nobody answers", "charged twice!!! refund me"):
        assert scorer.score(mention(text)) == rules.score(mention(text))


def test_another_thing_called_acme_is_left_to_the_rules(scorer, rules):
    text = "our acme client failed to renew the certificate again, dns timeout"
    assert scorer.score(mention(text)) == rules.score(mention(text))
    assert scorer.score(mention(text)).urgent is False


def test_the_brands_own_posts_score_zero(scorer):
    score = scorer.score(mention("Our checkout is down, we're on it", author="acmesupport"))
    assert (score.urgency, score.urgent) == (0, False)


def test_muted_phrases_are_hidden_from_the_model_too():
    text = "acme fire sale this weekend, everything must go, my roadrunner order"
    muted = Scorer(BRAND, Triage(products=TRIAGE.products, muted=("fire sale",)))
    captured: list = []
    muted.score(mention(text), _capture=captured)
    seen, _signals = captured[0]
    assert "fire sale" not in seen and "zproduct order" in seen


def test_the_model_reads_the_brands_names_as_placeholders():
    brand = Brand(name="Globex", terms=("globex",), handles=("globexhelp",))
    scorer = Scorer(brand, Triage(products=("Zapper 3",)))
    captured: list = []
    scorer.score(mention("@globexhelp my Globex Zapper 3 died, globex please"), _capture=captured)
    seen, _signals = captured[0]
    assert seen.split() == ["@zhandle", "my", "zbrand", "zproduct", "died,", "zbrand", "please"]


def test_a_custom_threshold_moves_the_learned_verdict_with_it():
    text = "Order 44871 says delivered on Friday but nothing came. Can someone at Acme look?"
    strict = Scorer(BRAND, Triage(urgency_threshold=99, products=TRIAGE.products))
    lenient = Scorer(BRAND, Triage(urgency_threshold=5, products=TRIAGE.products))
    assert lenient.score(mention(text)).urgent is True
    assert strict.score(mention(text)).urgent is False


def test_a_huge_post_is_scored_fast(scorer):
    unit = "@acme my Roadrunner was charged twice and stopped working, nobody answers!!! "
    big = (unit * (165_000 // len(unit) + 1))[:165_000]
    scorer.score(mention(big))
    started = time.perf_counter()
    score = scorer.score(mention(big))
    assert time.perf_counter() - started < 0.5  # the bench measures ~20 ms; CI machines vary
    assert score.urgent


def test_the_model_file_is_valid_json_a_text_editor_can_open():
    data = json.loads(DEFAULT_MODEL_PATH.read_text(encoding="utf-8"))
    assert data["format"] == "mentionops-urgency/1"


def test_an_admins_cue_adds_its_weight_to_the_learned_score():
    text = "the acme app shows a dead pixel warning on my roadrunner display"
    plain = Scorer(BRAND, TRIAGE).score(mention(text))
    tuned = Scorer(
        BRAND, Triage(products=TRIAGE.products, cues=(("dead pixel", 70),))
    ).score(mention(text))
    assert tuned.urgency >= max(70, plain.urgency)
    assert tuned.urgent is True
