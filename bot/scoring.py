"""Urgency scoring: VADER sentiment plus weighted complaint cues, in plain words.

VADER alone misses most urgent complaints ("Kindly refund my money" reads as positive, a stolen
card reads as neutral) and it is English-only, so the score is built from:

* **cue families** (money, down, broken, delivery, safety, account, legal, churn, complaint), each
  phrase with a weight, matched as whole words and phrases, case- and accent-insensitively, with
  ’ and ' treated alike, in English, Spanish, French, German and Portuguese. A cue preceded in
  its clause by a negation ("no problems at all", "not broken anymore", "never had an issue") does
  not count. The strongest family decides the category.
* **topic + trouble**: a topic word matched on its stem (money, delivery, outage, product,
  account, safety, leaving; several languages) with a trouble marker (a failed action, something
  still going on, a bad state, nobody answering) in its sentence or a neighbouring one reads as a
  problem about that topic; either alone adds nothing. Hypotheticals and how-to questions do not
  count, reviews and guides count less (see ``_TOPICS``).
* **support cues** that only add to a complaint: repeated failure ("third time", "no reply"),
  a request for help, a direct address to the brand's handle, shouting and sarcasm.
* **VADER compound** on a bounded excerpt (VADER is quadratic on long texts).
* **reach, engagement and a repeat complainant**: they may only raise urgency, only when there is
  some complaint signal, and together by at most ``MAX_BOOST`` points, so they never make a
  mention urgent on their own and are never required.
* a thankful or resolved tone ("thanks for the quick refund", "working again") damps the cues.

Config from ``Triage``: ``cues`` adds phrases with their own weight; ``products`` names products
(a broken cue next to one is a ``product`` problem). ``muted`` phrases are masks: a cue whose
match overlaps an occurrence of a muted phrase is dropped (muting "fire sale" stops "fire"
counting inside "fire sale", but "fire" elsewhere in the text still counts). The brand's own
``terms`` and product names are masked the same way, so they never count as cues. Posts by the
brand's own handles score 0.

The ``Scorer`` compiles everything once; ``score`` is pure and deterministic, and the object is
read-only after construction, so one instance may be shared between threads.
"""

# The cue tables below are long regular expressions, one phrase family per line.
# ruff: noqa: E501

from __future__ import annotations

import bisect
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from bot.config import Brand, Triage
from bot.learned import UrgencyModel, load_default
from bot.models import Mention, Score
from bot.text import handle_key

__all__ = ["CATEGORIES", "MAX_CUE_CHARS", "MAX_SCORED_CHARS", "Scorer"]

CATEGORIES = (
    "billing",
    "delivery",
    "outage",
    "product",
    "account",
    "safety",
    "legal",
    "churn",
    "other",
)

# VADER sees at most this much text: the head and the tail of a long post.
MAX_SCORED_CHARS = 2000
_VADER_HEAD = 1500
_VADER_TAIL = MAX_SCORED_CHARS - _VADER_HEAD
# Cue matching sees at most this much text (head and tail as well).
MAX_CUE_CHARS = 10_000
_CUE_HEAD = 8000
_CUE_TAIL = MAX_CUE_CHARS - _CUE_HEAD
# Reasons quote at most this many characters of the post.
MAX_QUOTE = 40
# Reach + engagement + repeat complainant together add at most this many points.
MAX_BOOST = 15

MINUS = "\u2212"

# --- cue tables --------------------------------------------------------------------------------
# Patterns are regular expressions over folded text (lower case, accents removed, ’ -> ').
# In a pattern a space matches any run of spaces or hyphens and an apostrophe is optional, so
# "can't log in" also matches "cant log-in". Groups must be non-capturing.
# Each row: (weight, negatable, patterns). A negatable cue does not count when a negation word
# comes shortly before it in the same clause ("no problems", "not broken", "never crashes").

_DOT_COM = r"\w+\.com"  # cues that start "<name>.com" (see Scorer.__init__)
_NUM = r"(?:\d+|two|three|four|five|six|seven|eight|nine|ten|several|many|multiple)"
_SEP = r"[^.!?\n]{0,40}?"  # a short stretch within one sentence

_FAMILIES: dict[str, list[tuple[int, bool, tuple[str, ...]]]] = {
    "money": [
        (
            65,
            True,
            (
                rf"charg\w*{_SEP} twice",
                rf"bill\w*{_SEP} twice",
                rf"debit\w*{_SEP} twice",
                rf"took{_SEP} twice",
                r"twice for the same",
                r"double (?:charged|charge|charges|charging|billed|billing|payment|debit)",
                r"duplicate (?:charges?|payments?|transactions?|debits?)",
                r"(?:two|2|three|3) (?:identical |separate |duplicate )?(?:charges|payments|transactions|debits)",
                rf"charg\w* (?:me )?{_NUM} times",
                r"over ?(?:charged|charging|charge|billed|billing)",
                r"unauthori[sz]ed (?:charges?|payments?|transactions?|debits?|purchases?)",
                r"(?:didn't|did not|never) authori[sz]e",
                r"(?:don't|do not|didn't|did not|can't) recogni[sz]e",
                r"charge ?backs?",
                r"dispute (?:the|a|this) (?:charge|payment)",
                r"fraud\w*",
                r"took my money",
                # "take my money" (present) is the eager-buyer idiom; only past or ongoing taking counts
                r"(?:stole|stolen|taken|taking|kept|keep|keeping) my money",
                r"(?:want|give me|get) my money back",
                r"money back",
                r"pay me back",
                r"charg\w*(?: my card)? after (?:i )?cancel\w*",
                r"keeps? charging",
                r"still charging",
                r"(?:transaction|payment|charge|purchase)s?[^.!?\n]{0,30}? (?:i|that i) (?:never|didn't|did not) (?:made|make|authori[sz]ed|ordered)",
                r"(?:never|didn't|did not) (?:signed|sign) up",
                r"(?:never|didn't|did not) (?:made|make) (?:this|that|the|a)? ?(?:transaction|payment|purchase)",
                r"i'?ve never ordered",
                r"froze[^.!?\n]{0,30}? (?:money|balance|funds|payout)",
                r"took (?:the |a |my |full )?payment",
                r"(?:kept|keeping|keep|keeps|has had|have had|holding|still has|still have) (?:my|the|our) (?:money|payment|deposit|cash)",
                r"money (?:left|gone from|came out of|was taken from|taken from|still taken from) (?:my )?(?:account|card|bank)",
                r"(?:payment|transaction|order) failed but",
                r"(?:paid|payment (?:was )?taken|charged|money (?:was )?taken) but (?:no|never|nothing|the order|my order|there's no|it)",
                r"charg\w*[^.!?\n]{0,40}? (?:i (?:had |already )?cancel\w*|(?:that|which) (?:was|were|i) (?:cancel\w*|returned)|(?:i )?never (?:received|got|ordered))",
                r"(?:balance|credit)[^.!?\n]{0,30}? (?:disappeared|vanished|gone|missing)",
                # es / fr / de / pt
                r"cobr\w+ dos veces",
                r"cobro (?:duplicado|doble)",
                r"cargo (?:duplicado|no reconocido)",
                r"estafa",
                r"fraude",
                r"debit\w* (?:deux|2) fois",
                r"(?:preleve|facture)\w* (?:deux|2) fois",
                r"deux fois",
                r"je ne (?:le |la )?reconnais pas",
                r"arnaque",
                r"doppelt (?:abgebucht|berechnet|belastet|bezahlt)",
                r"betrug",
                r"abzocke",
                r"geld zuruck",
                r"cobrad[oa]s? (?:duas|2) vezes",
                r"cobr\w* (?:duas|2) vezes",
                r"cobr\w* de mas",
                r"cobr\w* (?:a mais|indevid\w*)",
                r"preleve\w* (?:a tort|sans (?:mon|mon accord))",
                r"zweimal (?:abgebucht|berechnet|belastet|bezahlt|abgezogen|kassiert)",
                r"(?:zu viel|falsch|unberechtigt) (?:abgebucht|berechnet|belastet)",
                r"cobranca (?:duplicada|indevida)",
                r"(?:eu )?nao reconheco",
                r"golpe",
                r"exijo la devolucion",
                r"debt collect\w*|debt recovery|bailiffs?",
                r"addebitat[oia]|(?:rivoglio|voglio indietro) (?:i )?(?:miei )?soldi",
                r"(?:not|won't|will not|refuse to|refusing to|am not) (?:be )?(?:paying|pay) (?:it|that|this|for (?:it|that|this))",
                r"why (?:double|twice|so much)",
            ),
        ),
        (
            62,
            False,
            (
                r"refund (?:me|my money|it|this|that|them|one of them|the (?:difference|duplicate|charge|money|extra|delivery|fee|last)\w*)",
                r"(?:want|need|like|demand|request|requesting|expect|expecting) (?:a |my |the |an |that |this |it )?(?:full )?refund\w*",
                r"(?:no|still no|never got (?:a|my|the)|never received (?:a|my|the)|haven't (?:got|had|received) (?:a|my|the|any)) refund",
                r"(?:not|never|hasn't|haven't|still not|yet to be) (?:been )?refunded",
                r"(?:refused|refuses|refusing) (?:a |my |to |the )?(?:refund|pay)\w*",
                r"please refund",
                r"refund (?:now|asap|please|immediately)",
                r"(?:waiting|waited|wait) (?:on|for) (?:a |my |the )?refund",
                r"where(?:'s| is) my (?:money|refund)",
                r"quiero (?:un |mi )?reembolso",
                r"(?:veux|voudrais|exige) (?:un |mon )?remboursement",
                r"(?:mochte|will|fordere) (?:eine |meine )?ruckerstattung",
                r"quero (?:o |um |meu )?reembolso",
                r"devolucion de mi dinero",
                r"cobr\w* y no (?:recibi|me llego|llego|tengo)",
                r"no me (?:devuelve|devuelven|devolvieron|han devuelto|quieren devolver) (?:el |mi )?dinero",
                r"ne (?:me )?(?:rembourse|remboursent) (?:pas|toujours pas|jamais)",
                r"(?:pas|jamais|toujours pas) (?:ete |encore )?rembourse\w*",
                r"(?:erstattet|erstatten|zahlt|zahlen) (?:mir )?(?:das geld |mein geld |den betrag )?(?:nicht|nie)(?: zuruck)?",
                r"(?:kein|mein) geld (?:nicht )?zuruck",
                r"nao (?:me )?devolve\w* (?:o |meu )?dinheiro",
                r"nao (?:fui )?reembolsad[oa]",
                r"where(?:'s| is) my (?:[$\u00a3\u20ac]|\d)",
                r"remboursez(?: moi)?",
                r"quero (?:o |meu )?estorno",
                r"wrong (?:amount|price|invoice|charge|total)",
                # questioning a charge is a billing dispute ("why did you bill me twice?")
                r"why (?:did|do|does|are|is|was|were|have|has) (?:you|they|{brand}|i|we|my card|my account) (?:been |being |getting |get |just |still )?(?:charg|bill|debit)\w*",
                # a held or owed sum the customer needs back
                r"(?:need|want) (?:that|this|my|our) money(?: back)?",
                r"release (?:the |my |that |this |our )?(?:money|funds|hold|payment|charge|authori[sz]ation|pending \w+)",
                r"when (?:will |is |does |do )?(?:i (?:get )?)?my (?:refund|money)",
                r"(?:discount|promo|voucher|coupon|offer)(?: code)? (?:wasn't|was not|not|never|didn't|did not|isn't|won't) (?:applied|apply|work|taken off)",
                r"paid (?:the )?full price",
                r"gift ?card (?:balance )?(?:doesn't|won't|didn't|does not|not|isn't|is not|was not|wasn't) (?:work|accepted|apply|working|valid)",
                r"cancel\w*[^.!?\n]{0,30}? but[^.!?\n]{0,20}? (?:charged|billed|debited|paid|took)",
                r"(?:charged|billed|invoiced|debited|took)[^.!?\n]{0,50}? (?:even though|despite|although)",
                r"(?:invoice|receipt|bill|statement) (?:shows|has|says|is)[^.!?\n]{0,15}? wrong",
            ),
        ),
        (
            45,
            False,
            (
                r"refund\w*",
                r"reembols\w*",
                r"rembours\w*",
                r"ruckerstattung",
                r"rueckerstattung",
                r"devolucao",
                r"charged (?:me|us|my card|my account)",
                r"billed (?:me|us)",
                r"charging (?:me|us)",
                r"scam\w*",
                r"theft",
                r"rip ?off",
                r"auto ?renew\w*",
                r"(?:pending|hidden|extra|surprise) (?:charges?|fees?|holds?|payments?|transactions?)",
                r"authori[sz]ation (?:holds?|charges?)",
                r"restocking fee",
                r"(?:charged|billed|debited|took) (?:me )?(?:[$\u00a3\u20ac] ?)?\d",
                r"(?:me )?(?:han )?cobrad[oa]",
                r"cobranca",
                r"estorno",
                r"debite\w*",
                r"prelevement\w*",
                r"abgebucht",
                r"me (?:han )?cobr\w+",
                r"(?:m'a|m'ont|on m'a) (?:facture|debite|preleve)\w*",
                r"get (?:this|it|that|my money|the money) back",
                r"mi dinero",
                r"meu dinheiro",
            ),
        ),
    ],
    "down": [
        (
            62,
            True,
            (
                r"(?<!month\x27s\s)(?<!week\x27s\s)(?<!year\x27s\s)(?<!yesterday\x27s\s)outage(?! (?:postmortem|post-mortem|report|review|retrospective|yesterday|last))",
                r"(?:has|have|had) been down",
                r"been down (?:for|since|all)",
                r"(?:site|website|web site|app|server|servers|checkout|check out|login|log in|payments?|system|systems|service|portal|api|platform|network|everything|card readers?|card machines?|payment terminals?|terminals?|tills?|pos|\w+\.com|{brand}) (?:is |are |was |were |went |has gone |have gone |goes |seems |seem |looks |look |appears |been |has been |keeps going |keep going )?(?:completely |totally |all |just )?(?:down(?! (?:\d|by|to|from|on|with|the))|offline|unavailable|unreachable)",
                r"down (?:again|for everyone|for me|right now|atm|all day|for hours|since)",
                r"(?:is|are) down(?! (?:\d|by|to|from|on|with|the|a|about|for sale))",
                r"service (?:is )?unavailable",
                r"(?:can't|cannot|can not|unable to|couldn't|could not|won't let me) (?:check ?out|pay|place (?:an|my|the) order|complete (?:my |the |an )?(?:order|purchase|checkout|payment)|access (?:anything|the site|the app|my order))",
                r"error (?:500|502|503|504)",
                r"(?:http|status|returning|throwing|getting|got|get|a|with) 50[0234]s?",
                r"50[0234]s? (?:errors?|on every|everywhere|for every|on all)",
                r"something went wrong",
                r"(?:payment|transaction|order)s? (?:could not be|couldn't be|can't be|cannot be) (?:processed|completed|placed)",
                r"(?:every|all) (?:transactions?|payments?|orders?|cards?)[^.!?\n]{0,20}? (?:declined|fail\w*|rejected)",
                r"(?:checkout|check out|payment|payments|payment page|login|log in|app|site|website) (?:is |keeps |keep )?(?:completely |totally )?(?:failing|broken|crashing|not working|erroring|throwing errors)",
                r"white screen",
                r"(?:keeps? |is |are |just |constantly )?(?:timing out|times out|timed out)",
                r"stuck (?:on|at) (?:the |a )?(?:loading|spinning|splash|login|log in|payment) (?:screen|page|wheel|icon|spinner)",
                r"(?:just )?(?:spins|spinning|loads|loading) (?:forever|endlessly|for ever|nonstop)",
                r"(?:nobody|no one|no-one|noone|none of us|we|customers) (?:can|can't|cannot|are able to) (?:log ?in|sign ?in|sign up|check ?out|pay|order|place orders|access)",
                r"(?:ladt|laedt) (?:einfach |gar )?nicht",
                r"(?:can't|cannot|unable to|won't let me|can not) (?:add|put) (?:anything|items?|things|it|stuff|products?)[^.!?\n]{0,15}? (?:basket|cart|bag|trolley)",
                r"(?:checkout|payment page|site|app|website|till) (?:keeps |is |just )?(?:declining|rejecting|refusing) (?:my |every |all |any )?(?:cards?|payments?)",
                r"(?:payments?|orders?|transactions?|cards?) (?:are |is |aren't |isn't |won't |not |still not |keep |keeps )(?:going|go) through",
                r"(?:app|site|website|checkout|page) (?:keeps |just )?crash(?:es|ing)? (?:when|every|whenever|each|as soon|on)",
                r"(?:can't|cannot|can not|unable to) (?:see|view|track|find) (?:my |any )?(?:orders?|account|basket|cart|deliveries)",
                r"(?:impossible de|je n'arrive pas a|je ne peux pas) (?:passer (?:une |ma )?commande|payer|commander)",
                r"(?:site|appli|app|application) (?:a )?plante\w*",
                r"inaccessible",
                r"down (?:in|at|across) (?:every|all|most|several|multiple|many) (?:of (?:the|your) )?(?:stores?|shops?|branches|locations|sites)",
                r"down (?:everywhere|nationwide|countrywide)",
                r"inaccesible",
                r"nao (?:carrega|abre|entra)",
                r"(?:ne )?(?:se )?charge (?:pas|plus)",
                r"no (?:carga|abre) (?:la )?(?:pagina|web|app)",
                r"blank (?:page|screen)",
                r"(?:not|won't|doesn't|isn't) load\w*",
                r"session expired",
                r"offline",
                r"en panne",
                r"hors service",
                r"impossible de (?:passer (?:une )?commande|payer|commander)",
                r"(?:esta )?caid[oa]",
                r"fuera de servicio",
                r"no puedo pagar",
                r"sturzt[^.!?\n]{0,20}? ab",
                r"absturz\w*",
                r"nicht erreichbar",
                r"ausgefallen",
                r"storung",
                r"fora do ar",
                r"nao (?:consigo|da pra) (?:finalizar|pagar|comprar)",
            ),
        ),
        (35, True, (r"status page", r"error messages?", r"errors", r"card readers?", r"cash only")),
    ],
    "broken": [
        (
            60,
            True,
            (
                r"(?:not|isn't|aren't|ain't|isnt|arent) working",
                r"(?:doesn't|does not|don't|do not|won't|will not|didn't|doesnt|dont|wont) work",
                r"stopped (?:working|charging|heating|cooling|responding|turning on)",
                r"no longer works",
                r"(?:it|this|that|thing|mine|one|app|site|website) (?:has |had |just |still )?never (?:works?|worked)",
                r"never (?:works?|worked) (?:properly|right|correctly|reliably|at all|once|as (?:advertised|it should|intended))",
                r"(?:won't|will not|doesn't|does not|didn't|wont|doesnt|can't) (?:turn on|switch on|power on|power up|start|boot|charge|open|close|connect|pair|heat)",
                r"bricked",
                r"dead on arrival",
                r"doa",
                r"defective",
                r"faulty",
                r"(?:is|was|arrived|came|already|completely|totally|it's|its|still|also) (?:broken|faulty|defective|smashed|shattered|in pieces|damaged|dented|cracked)",
                r"sent (?:me )?(?:a |an )?(?:used|damaged|broken|opened|fake|counterfeit|dirty|second ?hand) (?:one|item|product|unit|\w+)",
                r"leaking (?:water|oil|fluid|everywhere|all over)",
                r"leaks (?:from|everywhere|all over|water|oil)",
                r"(?:screen|glass|lid|case|casing|handle|body|display|hinge|door|leg|wheel|strap)[^.!?\n]{0,10}? (?:cracked|shattered|snapped|broke|broken|fell off|came off|comes off|falls off)",
                r"battery (?:only )?lasts? (?:only )?(?:an|one|\d+|a few|half an|ten|five|twenty) (?:hour|minutes?|mins)",
                r"(?:refuse|refuses|refused|refusing|won't|will not|wont) (?:to )?(?:honou?r|cover|accept)[^.!?\n]{0,15}? (?:warranty|guarantee|return|exchange|repair)",
                r"(?:llego|vino|esta|salio) (?:rot[oa]|danad[oa]|defectuos[oa])",
                r"(?:recue?|arrivee?|livree?|est) cassee?",
                r"(?:veio|chegou|esta) (?:quebrad[oa]|com defeito|danificad[oa])",
                r"broke (?:again|already|down|after)",
                r"broken (?:again|already)",
                r"(?:just |already |has |have )?died",
                r"(?:is|it's|went|completely|just|totally|already) dead",
                r"dies (?:in|after|every)",
                r"keeps? (?:crashing|rebooting|restarting|freezing|shutting (?:off|down)|turning off|dying|disconnecting|stalling)",
                r"(?:reboots|restarts|rebooting|restarting) (?:itself|every|constantly)",
                r"shut\w* (?:off|down) (?:after|every|by itself|randomly)",
                r"same fault",
                r"(?:no|nunca) funciona",
                r"no (?:enciende|arranca|carga)",
                r"(?:se )?rompio",
                r"averiad[oa]",
                r"defectuos[oa]",
                r"ne (?:marche|fonctionne|s'allume|demarre|charge) (?:pas|plus|jamais)",
                r"defectueu[xs]e?",
                r"ecran noir",
                r"funktioniert (?:nicht|gar nicht|nicht mehr|nie)",
                r"geht (?:einfach |gar )?(?:nicht|nichts) (?:mehr )?(?:an)?",
                r"kaputt",
                r"defekt",
                r"startet nicht",
                r"(?:nao|nunca) (?:funciona|liga)",
                r"parou de funcionar",
                r"quebrad[oa]",
                r"com defeito",
                r"defeituos[oa]",
            ),
        ),
        (
            48,
            True,
            (
                r"broken",
                r"(?<!being\s)(?<!\bam\s)(?<!\bso\s)(?<!i\x27m\s)(?<!\bim\s)(?<!flat\s)broke",
                r"crash(?:es|ed|ing)?",
                r"overheat\w*",
                r"(?:grinding|screeching|rattling|clicking|buzzing|horrible|weird|loud) (?:noise|sound)",
                r"leak\w*",
                r"crack(?:ed|s)?",
                r"snapped",
                r"dent(?:ed)?",
                r"loose",
                r"malfunction\w*",
                r"stall(?:s|ed|ing)",
                r"dead pixels?",
                r"flicker\w*",
                r"(?:came|fell|comes|falls) off",
                r"(?:drops?|dropping|cuts? out|cutting out) (?:out |the connection )?(?:every|constantly|all the time|randomly)",
                r"fehler\w*",
                r"uberhitz\w*",
                r"erreurs?",
                r"erro",
                r"trava\w*",
                r"se cuelga",
                r"en mal estado",
                r"sigue sin funcionar",
                r"cassee?",
                r"beschadigt",
                r"danificad[oa]",
                r"battery (?:dies|died|drains|draining)",
                r"(?:doesn't|won't|does not|will not) (?:close|fit|stay)",
                r"freez(?:es|ing)",
                r"(?:are|is|keeps?) failing",
                r"error",
            ),
        ),
        (30, True, (r"glitch\w*", r"bug(?:gy|s)?", r"dead", r"fault")),
    ],
    "delivery": [
        (
            62,
            True,
            (
                r"never (?:arrived|came|showed up|turned up|got delivered|delivered|got here)",
                r"(?:hasn't|has not|haven't|have not|didn't|did not|hasnt|havent|didnt|still hasn't|still not|still hasnt) (?:yet )?(?:arrived|arrive|come|came|been delivered|shown up|turned up|got here)",
                r"(?:not|never) (?:yet )?(?:been )?(?:received|delivered)",
                r"(?:haven't|have not|havent|hasn't|has not|hasnt|didn't|did not|didnt|still not|never) (?:yet |even |actually )?(?:received|got|gotten) (?:my|our|the|a|an|any) (?:\w+ )?(?:order|parcel|package|delivery|item|items|shipment|box|replacement)",
                r"(?:lost|missing|stolen|damaged|misdelivered) (?:package|parcel|order|delivery|item|items|shipment|box|stuff)",
                r"(?:package|parcel|order|delivery|shipment|items?) (?:is |was |got |has been |are |were )?(?:just )?(?:lost|missing|stolen|gone|vanished|disappeared)",
                r"late delivery",
                r"delivery (?:is |was )?(?:late|delayed)",
                r"wrong (?:item|order|product|size|colou?r|address|parcel|package|thing|model|one)",
                r"where(?:'s| is| the hell is| tf is) my (?:order|parcel|package|delivery|stuff|item|replacement)",
                r"marked (?:my |our |the |it |them )?(?:\w+ ){0,2}as (?:left|delivered|collected|signed for|handed)",
                r"(?:marked|says|showing|shows|said|saying) (?:as |it was |it's |its |(?:my|the|our) \w+ (?:as |was )?)?(?:delivered|complete)",
                r"tracking (?:hasn't|has not|hasnt|not|never|still hasn't|still not|has not) (?:moved|updated|changed)",
                r"(?:stuck|sat|sitting) (?:in|at) (?:customs|transit|the depot|a depot|depot|the warehouse)",
                r"(?:no one|nobody|no-one) (?:came|showed up|turned up)",
                r"(?:still )?(?:waiting|waited) (?:for|on) (?:my|the|a|an) (?:order|parcel|package|delivery|replacement)",
                r"(?:left|thrown|threw|dumped|chucked)[^.!?\n]{0,40}? (?:doorstep|fence|rain|outside|bin|pond|hedge|street)",
                r"delivered to (?:the |a )?wrong",
                # delivered to, or waiting at, a place that is not there
                r"(?:delivered|left|dropped|sent|shipped|parcel|package|order|locker|pickup point|address)[^.!?\n]{0,40}? (?:that|which) (?:doesn't|does not|don't|didn't|did not) (?:even )?exist",
                # the parcel is somewhere in the carrier's network
                r"(?:somewhere|lost) in (?:a |the |some )?(?:depot|warehouse|transit|hub|sorting (?:centre|center|office)|distribution (?:centre|center)|post|mail|system)",
                # the brand could not deliver (often after "can take my money but ...")
                r"(?:can't|cannot|can not|couldn't|could not|failed to|fail to|unable to|didn't|did not|never) (?:even )?deliver",
                r"\d+ of (?:the )?\d+ items",
                r"no tracking(?: number| info| update)?",
                r"(?:lost|lose|losing|misplaced) (?:my|our|the|his|her) (?:\w+ )?(?:package|parcel|order|delivery|shipment|box|item|items|stuff|return)",
                r"where(?:'s| is| are) my (?:{brand} )?(?:order|parcel|package|delivery|stuff|items?|replacement|shipment|box)",
                r"(?:order|parcel|package|delivery|shipment|box|items?|stuff)[^.!?\n]{0,20}? (?:still )?(?:not|isn't|is not|aren't|are not|never) (?:here|arrived|delivered)",
                r"still (?:not|isn't|is not) here",
                r"never (?:showed|arrives|shows)",
                r"(?:stuck|sat|sitting) (?:on|at|in) (?:the |a )?['\"]?(?:processing|dispatched|preparing|label created|pre ?transit|in transit|awaiting|shipped)",
                r"(?:out for delivery|in transit|dispatched|shipped|awaiting collection) (?:since|for) (?:\w+ )?(?:days|weeks|monday|tuesday|wednesday|thursday|friday|saturday|sunday|last|\d)",
                r"no sign of (?:my|the|our|it|them|a) ?(?:order|parcel|package|delivery|shipment|box|refund|driver|courier)?",
                r"(?:courier|driver|postman|delivery guy|delivery man|dpd|ups|fedex|evri|hermes|dhl)[^.!?\n]{0,20}? (?:left|lost|dumped|threw|broke|refused|never|didn't|did not|won't|claims|claimed|faked|lied)",
                r"(?:at|to) the wrong (?:house|address|door|flat|building|neighbou?r|person)",
                r"(?:empty|opened|torn|ripped|crushed|soaked) (?:box|parcel|package|envelope)",
                r"arrived (?:open|opened|empty|torn|ripped|crushed|soaked)",
                r"(?:they|you|{brand}|just|randomly|suddenly) (?:cancelled|canceled) my (?:order|delivery|booking|pre ?order)",
                r"(?:paket|lieferung|sendung)[^.!?\n]{0,20}? beschadigt",
                r"(?:order|parcel|package|delivery|shipment)[^.!?\n]{0,15}? (?:was |is |were )?(?:due|expected|supposed to (?:arrive|come|be here)) (?:on |by )?(?:last|yesterday|days|a week|weeks|\d|monday|tuesday|wednesday|thursday|friday|saturday|sunday)",
                r"(?:days|weeks|a week|a month) (?:late|overdue)",
                r"(?:supposed|meant|due|scheduled|promised) to (?:come|arrive|be delivered|be here)",
                r"sigue sin llegar",
                r"(?:todavia |aun )?no (?:me )?(?:ha )?llego",
                r"kam (?:nie|nicht) an",
                r"(?:nicht|nie) (?:bekommen|erhalten)",
                r"falsche (?:artikel|ware|lieferung|grosse|farbe)",
                r"(?:paquete|pedido|envio)[^.!?\n]{0,20}? no (?:ha )?llega\w*",
                r"(?:colis|commande)[^.!?\n]{0,30}? (?:toujours )?pas (?:encore )?(?:arrive|recu|livre)\w*",
                r"(?:paket|bestellung|lieferung)[^.!?\n]{0,30}? (?:noch )?(?:nicht|nie) (?:angekommen|geliefert|da)",
                r"(?:pacote|pedido|encomenda)[^.!?\n]{0,30}? nao (?:chegou|foi entregue)",
                r"still (?:hasn't|hasnt|has not|not) (?:arrived|come|shipped)",
                r"nunca (?:me )?llego",
                r"no (?:ha |me ha )?llegado",
                r"no (?:he )?recibido",
                r"pedido (?:perdido|extraviado)",
                r"jamais (?:recue?s?|arrivee?s?|livree?s?)",
                r"pas (?:encore )?(?:recue?|livree?|arrivee?)",
                r"colis perdu",
                r"nie angekommen",
                r"nicht (?:angekommen|geliefert|erhalten)",
                r"noch nicht (?:da|angekommen)",
                r"nunca chegou",
                r"(?:ainda )?nao (?:chegou|recebi)",
                r"pedido (?:extraviado|perdido)",
            ),
        ),
        (
            45,
            True,
            (
                rf"ordered[^.!?\n]{{0,40}}? {_NUM} (?:weeks?|days?|months?) ago",
                r"ordered[^.!?\n]{0,20}? (?:weeks|months|ages) ago",
                r"(?:hasn't|has not|hasnt|haven't|have not|not|never|still not) (?:yet )?(?:been )?(?:shipped|dispatched|sent out|posted)",
                r"overdue",
                r"atrasad[oa]",
                r"atraso",
                r"retrasad[oa]",
                r"retraso",
                r"en retard",
                r"verspat\w*",
                r"(?:courier|tracking)[^.!?\n]{0,30}? (?:says|said|shows|claims)",
                # a promised date ("they said it would arrive by Friday")
                r"(?:said|promised|told (?:me|us)|guaranteed|claimed)[^.!?\n]{0,30}? would (?:arrive|be (?:here|delivered|with me)|come|ship)",
            ),
        ),
        (30, True, (r"out for delivery", r"depot", r"customs", r"couriers?", r"parcels?")),
    ],
    "safety": [
        (
            75,
            True,
            (
                r"caught fire",
                r"catch(?:es|ing)? fire",
                r"on fire",
                r"burst into flames",
                r"flames?",
                r"fire hazard",
                r"smok(?:e|ed|ing)",
                r"burn(?:s|t|ed|ing)?",
                r"injur\w*",
                r"(?:gets?|got|getting|been) hurt",
                r"danger\w*",
                r"hazard\w*",
                r"explod\w*",
                r"explosion",
                r"blew (?:up|off)",
                r"spark(?:s|ed|ing)",
                r"melt(?:ed|ing)?",
                r"electric shock",
                r"(?:got|get|gave me|giving) (?:a |an )?(?:electric )?shocks?",
                r"shocked me",
                r"electrocut\w*",
                r"(?:glass|metal|plastic) (?:shards?|pieces|fragments|splinters)",
                r"shards?",
                r"chok(?:e|ed|ing)",
                r"swell(?:s|ed|ing)?",
                r"swollen",
                r"hot to the touch",
                r"(?:tripped|tripping|trips) the (?:breaker|fuse|electrics)",
                r"scald\w*",
                r"poison\w*",
                r"allergic reaction",
                r"cut (?:my|his|her|their|our) (?:hand|finger|thumb|leg|foot|arm|face|lip|mouth)",
                r"(?:plug|charger|cable|socket|battery|casing|handle|adapter|outlet|lead) (?:gets|got|getting|is|was|goes|went) (?:really |very |super |extremely |too |so )?hot",
                r"sharp edges?",
                r"bleed\w*",
                r"(?:a&e|emergency room|ambulance)",
                r"(?:got|made me|made us|made (?:my|our) \w+) (?:really )?(?:sick|ill)",
                r"gas leak",
                r"(?:smells?|smelling) (?:of|like) (?:gas|smoke|burning)",
                r"(?:ver)?brannt",
                r"brennt",
                r"hospital",
                r"(?:se )?incendi\w*",
                r"humo",
                r"peligros[oa]",
                r"quem\w*",
                r"(?:a |ont )?pris feu",
                r"fumee",
                r"dangereu\w*",
                r"brule\w*",
                r"rauch\w*",
                r"gefahrlich",
                r"geschmolzen",
                r"explodiert",
                r"pegou fogo",
                r"fumaca",
                r"perigos[oa]",
                r"explodiu",
                r"chispa\w*|scintill\w*|funken|faisca\w*|etincelle\w*",
                r"(?:saltaron|salto|salta) (?:los |el )?(?:plomos|diferencial|automatico)",
                r"gonfi(?:at[oa]|ata|ato|o)|hinchad[oa]|inchad[oa]|aufgebla\w*|gonfle\w*",
                r"(?:prend[ae]|prender|pegue|prenne|catch) fuoco|prenda fuoco|fuoco",
            ),
        ),
        (
            55,
            True,
            (
                r"recall(?:s|ed)?",
                r"fire",
                r"fuego",
                r"feuer",
                r"fogo",
                r"unsafe",
                r"left (?:our|my|the) (?:\w+ )?(?:gate|door) (?:wide )?open",
                r"(?:buzz|hum|crackl)\w* (?:loud\w*|noise|sound)",
                r"(?:paura|miedo|medo|peur|angst|scared|afraid|frightened)[^.!?\n]{0,30}? (?:fuoco|fuego|fogo|feu|feuer|fire|usarlo|usar|utiliser|use it|explod\w*)",
                r"toxic",
                r"fumes",
                r"mou?ldy?",
                r"rash",
                r"se calienta (?:mucho|demasiado)",
                r"(?:sur)?chauffe (?:trop|beaucoup|enormement)",
                r"wird (?:sehr |extrem |zu |total )?hei(?:ss|\u00df)",
                r"esquenta (?:muito|demais)",
                r"superaquec\w*",
            ),
        ),
    ],
    "account": [
        (
            65,
            True,
            (
                r"hack(?:ed|ers?)",
                r"locked out(?! of (?:my |the |our )?(?:house|home|flat|apartment|car|room|office))",
                r"lock(?:ed)? (?:me out|my account)",
                r"(?:account|acct|profile) (?:was |has been |got |is |been )?(?:hacked|compromised|stolen|suspended|disabled|locked|blocked|frozen|deactivated|banned|taken over|closed)",
                r"(?:suspended|disabled|locked|blocked|froze|frozen|deactivated|banned) my (?:account|acct)",
                r"compromised",
                r"stole my (?:account|identity|details|card|login)",
                r"(?:stolen|someone stole) (?:my )?(?:account|identity|card|details|credentials)",
                r"identity theft",
                r"data breach",
                r"(?:can't|cannot|can not|unable to|couldn't|could not|cant) (?:log ?in|sign in|login|get in|get into|access my account|log on)",
                r"won't let me (?:log ?in|sign in|login|in)",
                r"(?:orders?|purchases?) (?:i|that i) (?:didn't|did not|never) (?:place|make|made|order)",
                r"wasn't me",
                r"(?:logged|signed) in from",
                r"someone (?:logged|signed|got) in(?:to)?",
                r"(?:can't|cannot|can not|unable to|couldn't|could not|cant) (?:enter|get|go) (?:in|into|in to) (?:my|our|the) (?:account|acct|acc)",
                r"(?:opened|taken out|took out|set up|registered|created|started) (?:\w+ )?in (?:my|our) name",
                r"(?:logged|signed) in[^.!?\n]{0,30}? from (?:another|a different) (?:country|device|location)",
                r"keeps? logging me out",
                r"(?:account|acct) (?:disabled|suspended)",
                r"hacke\w*",
                r"(?:no puedo|no me deja) (?:entrar|iniciar sesion|acceder)",
                r"cuenta (?:bloqueada|suspendida|robada)",
                r"pirat\w*",
                r"(?:je ne peux plus|impossible de) me connecter",
                r"compte (?:bloque|suspendu)",
                r"gehackt",
                r"(?:wurde|ist|bin) gesperrt",
                r"komme nicht (?:mehr )?(?:rein|ins konto)",
                r"konto (?:gesperrt|gehackt)",
                r"nao consigo (?:entrar|acessar|logar)",
                r"conta (?:bloqueada|suspensa|invadida)",
                r"(?:can't|cannot|can not|unable to|couldn't|could not|cant|won't let me) (?:reset|change|recover|update) (?:my |the )?(?:password|pin|passcode|login|email|2fa)",
                r"(?:no puedo|no me deja) (?:restablecer|cambiar|recuperar) (?:mi |la )?contrasena",
                r"(?:je n'arrive (?:pas|plus) a|impossible de|je ne peux pas) (?:me connecter|reinitialiser|changer|recuperer) ?(?:mon mot de passe)?",
                r"passwort[^.!?\n]{0,20}? nicht (?:zurucksetzen|zuruecksetzen|andern|aendern|zuruckgesetzt)",
                r"nao consigo (?:redefinir|recuperar|trocar|mudar) (?:a |minha )?senha",
                r"(?:logs|logging|logged|kicks|kicking|kicked|signs|signing|signed) me out (?:every|constantly|all the time|randomly|again)",
                r"(?:reset|changed)[^.!?\n]{0,30}? (?:i|but i) (?:didn't|did not|never) (?:do|request|ask)",
                r"(?:deleted|closed|wiped|removed|disabled) my (?:account|acct|profile)",
                r"(?:my )?(?:account|acct|profile) (?:is |has |was )?(?:gone|vanished|disappeared|deleted|wiped|empty)",
            ),
        ),
        (
            45,
            True,
            (
                r"phishing",
                r"(?:reset|verification|security) (?:codes?|emails?|links?)[^.!?\n]{0,20}? (?:never|don't|doesn't|aren't|isn't|not|won't)",
                r"(?:password|email address) (?:was |has been |got )(?:changed|reset)",
                r"(?:reset|verification|login|magic|security|one time|otp) (?:codes?|emails?|links?|texts?|sms)[^.!?\n]{0,20}? never (?:arrive|arrives|come|comes|came)",
            ),
        ),
        (
            60,
            True,
            (
                r"(?:says|saying|tells me) my password is (?:wrong|incorrect|invalid)",
                r"(?:verification|reset|login|security) (?:code|email|link|text)s? (?:not|never) (?:arriving|coming|sent|received)",
                r"(?:reset|verification|login|magic|security|one time|otp) (?:codes?|emails?|links?|texts?)[^.!?\n]{0,20}? (?:broken|expired|invalid|not working|doesn't work|don't work)",
                r"lost (?:all )?my (?:saved \w+|data|history|points|rewards|addresses|settings|payment methods|account)",
            ),
        ),
        (25, True, (r"2fa", r"two factor", r"mfa")),
    ],
    "legal": [
        (
            70,
            True,
            (
                r"lawyers?",
                r"solicitors?",
                r"attorneys?",
                r"legal action",
                r"small claims",
                r"(?:take|taking|see|seeing) (?:you|them|\w+) (?:to )?court",
                r"to court",
                r"su(?:e|ing|ed)",
                r"lawsuit",
                r"class action",
                r"trading standards",
                r"ombudsman",
                r"bbb",
                r"better business bureau",
                r"journalist",
                r"reporter",
                r"ftc",
                r"cfpb",
                r"regulator",
                r"attorney general",
                r"consumer (?:law|rights|protection)",
                r"report(?:ed|ing)? (?:you|them|this|it) to",
                r"(?:going to|will|contacting|contacted|contact|tell|telling|tipping off) (?:the )?(?:press|media|news|newspapers?|bbc|watchdog|which)",
                r"watchdog",
                r"(?:file|filed|filing) (?:a )?(?:complaint|claim|case|report)s? (?:with|against|in)",
                r"abogad[oa]s?",
                r"denuncia\w*",
                r"avocat",
                r"(?:porter )?plainte",
                r"tribunal",
                r"anwalt",
                r"verbraucherzentrale",
                r"verklagen",
                r"advogad[oa]s?",
                # regulators and formal notices in several languages
                r"datenschutzbehorde|aufsichtsbehorde|dgccrf|cnil|aepd|anpd|mise en demeure|consumentenbond",
                r"(?<!to\smy\s)(?<!to\sour\s)(?:complaint|beschwerde|plainte|signalement|reclamacion|queixa|reclamacao|klacht) (?:to|with|bei|aupres|ante|a la|na|no|junto|bij)",
                r"procon",
                r"(?:preparing|prepare|bringing|bring|lodging|lodge|lodged|making|submitting|submitted) (?:a |my |our )?(?:formal |legal |court )?(?:claim|case)",
                r"claim under",
                r"reclame aqui",
                r"processar",
            ),
        ),
        (
            40,
            True,
            (
                r"court",
                r"press(?! (?:office|kit|release|conference|pack|event|briefing|photos?|shots?|button|the|and|it|down|on|play|start|enter|f\d+|ctrl|\d))",
                r"gdpr",
                r"section 75",
                r"ico",
                r"subject access request",
                r"data protection",
            ),
        ),
    ],
    "churn": [
        (
            # a first-person decision to leave: present, future or just taken
            65,
            True,
            (
                r"(?:i'm|im|i am|we're|we are|i will|i'll|we will|we'll|going to|gonna|about to|decided to|i've|i have|we've|we have) (?:now |just |finally |officially )?(?:cancel\w*|clos\w*|delet\w*|terminat\w*|end\w*|quit\w*) (?:my|our|the|this) (?:account|subscription|sub|membership|plan|contract|service)",
                # leaving the brand, or switching to someone else (not to the brand)
                r"(?:i'm|im|i am|we're|we are) (?:now |finally |officially )?(?:leaving|quitting|switching away from|moving away from) (?:{brand}|you)",
                r"(?:i'm|im|i am|we're|we are) (?:now |finally |officially )?(?:switching|moving) (?:over )?to (?!{brand})\w+",
                r"voy a (?:cancelar|dar de baja|darme de baja|cerrar)",
                r"(?:me )?(?:doy|di|he dado) de baja",
                r"je (?:vais |viens de )?(?:resilie\w*|annule\w* mon|ferme\w* mon compte)",
                r"je (?:vais quitter|quitte) {brand}",
                r"ich (?:werde|will|habe)[^.!?\n]{0,30}? (?:kundigen|kuendigen|gekundigt)",
                r"ich kundige",
                r"vou (?:cancelar|encerrar|sair)",
                # moving the line, the account or oneself to another provider
                r"(?:moving|move|moved|switching|switch|porting|port|going|go|taking|take) (?:my |our |the )?(?:\w+ ){0,3}?(?:to |over to )?(?:another|other|a different|a new|a cheaper|a better) (?:network|provider|company|supplier|bank|carrier|operator|isp)",
            ),
        ),
        (
            55,
            True,
            (
                r"cancel\w* (?:(?:my|our|the|this|your) )?(?:\w+ )?(?:account|subscription|sub|membership|plan|contract|prime|service|everything)",
                r"switching (?:over )?to",
                r"(?:switch|move|moving|going|migrating) (?:over )?to (?:globex|initech|a competitor|\w+ instead)",
                r"leaving (?:for|you)",
                r"never again",
                r"never (?:buying|ordering|using|shopping)",
                r"(?:i'm|im|i am) done with",
                r"(?:closing|close|closed|delete|deleting) (?:my|our) account",
                r"(?:last|final) time i (?:buy|order|shop|use)",
                r"(?:take|taking) my business elsewhere",
                r"(?:going|shop|shopping|go) elsewhere",
                r"(?:lost|losing) (?:a |another |one )?(?:loyal |long ?time )?customer",
                r"(?:you've|you have|you) lost me",
                r"won't be (?:buying|ordering|using|back|shopping|renewing)",
                r"unsubscrib\w*",
                r"(?:thinking of|considering|going to) (?:leaving|cancel\w*|switching)",
                r"(?:voy a |quiero )?cancelar",
                r"darme de baja",
                r"(?:me )?(?:doy|di) de baja",
                r"desabonn\w*",
                r"je (?:pars|passe) chez",
                r"(?:wechsle|wechseln) zu",
                r"resili\w*",
                r"annuler mon abonnement",
                r"kundig\w*",
                r"kuendig\w*",
                r"gekundigt",
                r"(?:vou )?cancelar",
                r"nunca mais",
            ),
        ),
        (35, True, (r"(?<!card\s)cancel\w*", r"bye", r"alternatives?", r"leaving")),
    ],
    "complaint": [
        (
            38,
            True,
            (
                r"worst",
                r"terrible",
                r"awful",
                r"appalling",
                r"disgrace\w*",
                r"disgusting",
                r"unacceptable",
                r"ridiculous",
                r"outrageous",
                r"pathetic",
                r"useless",
                r"rubbish",
                r"nightmare",
                r"shambles",
                r"fed up",
                r"sick of",
                r"tired of",
                r"(?:is|are|it's) a lie",
                r"(?:not|never) happy",
                r"(?:very|so|really) (?:disappointed|unhappy|angry|upset|frustrated)",
                r"furious",
                r"fuming",
                r"livid",
                r"retaliation",
                r"(?:a |an absolute |complete |total )?disaster",
                r"incompetent",
                r"clueless",
                r"hopeless",
                r"shocking",
                r"abysmal",
                r"dreadful",
                r"horrendous",
                r"atrocious",
                r"garbage",
                r"sucks",
                r"(?:a|the|this) mess",
                r"how you treat (?:your )?(?:people|customers|loyal)",
                r"pesimo",
                r"horrible",
                r"vergonzoso",
                r"inaceptable",
                r"harto",
                r"inadmissible",
                r"honteux",
                r"scandaleux",
                r"marre",
                r"katastrophal",
                r"unverschamt",
                r"frechheit",
                r"unmoglich",
                r"skandal",
                r"pessimo",
                r"horrivel",
                r"absurdo",
                r"vergonha",
                r"cansei",
                r"enough is enough",
                r"ya basta",
                r"ras le bol",
                r"es reicht",
                r"(?:ja )?chega",
            ),
        ),
        (
            25,
            True,
            (
                r"problems?",
                r"issues?",
                r"trouble",
                r"complain\w*",
                r"joke",
                r"unreal",
                r"problemas?",
                r"problemes?",
                r"probleme?",
            ),
        ),
    ],
    # Support cues: they add to a complaint, never make one.
    "repeat": [
        (
            22,
            False,
            (
                r"(?:second|third|fourth|fifth|2nd|3rd|4th|5th) (?:time|one|replacement|attempt|email|call)",
                rf"{_NUM} times? (?:this|in a|in one) (?:week|month|year|day)",
                r"still (?:waiting|nothing|no|not|hasn't|haven't|broken|down|charging)",
                r"for (?:weeks|days|months|ages)",
                r"(?:second|third|fourth|fifth|2nd|3rd|4th|5th) (?:week|month|day)",
                r"(?:weeks|months|days) (?:of )?(?:waiting|chasing)",
                r"promised (?:a |to |me a )?(?:call ?back|callback|refund|reply|replacement|update|fix)",
                r"closed my (?:ticket|case|complaint)",
                r"(?:it's|its|it has|it is) been (?:a|an|over a|more than a|\d+|two|three|four|several|many) (?:month|week|weeks|months|days)",
                rf"{_NUM} (?:emails|calls|tickets|messages|chats|phone calls)",
                r"(?:hours|hour|an hour) (?:on the phone|on hold|in the queue|in a queue)",
                r"hung up(?: on me)?",
                r"ghost(?:ed|ing)",
                r"(?:can't|cannot|unable to|can not) (?:reach|contact|get hold of|get through to) (?:anyone|anybody|you|support|a human|someone|a person)",
                r"llevo \w+ (?:dias|semanas|meses)",
                r"sin respuesta",
                r"no (?:me )?(?:responden|contestan)",
                r"(?:pas de|aucune) reponse",
                r"depuis \w+ (?:jours|semaines|mois)",
                r"keine antwort",
                r"seit (?:tagen|wochen|monaten)",
                r"sem resposta",
                r"ha \d+ (?:dias|semanas|meses)",
                r"(?:waiting|chasing) (?:for )?(?:weeks|months|ages)",
                rf"{_NUM} (?:weeks|months)",
                rf"{_NUM} days (?:now|later|ago)",
                r"(?:no|zero|without any|without a) (?:reply|replies|response|responses|answer|update|email back|call back|help)",
                r"(?:nobody|no one|no-one|noone) (?:answers|responds|replies|knows|helps|picks up|can tell|cares|gets back)",
                r"on hold for",
                r"ignor(?:ed|ing)",
                r"keeps? (?:closing|sending|saying|telling)",
                rf"(?:emailed|called|contacted|chased|messaged|rang|tried) (?:\w+ )?{_NUM} times",
                r"(?:chat|bot|chatbot) (?:just )?(?:loops|keeps)",
                r"(?:the )?same (?:faq|answer|reply|response|problem|issue)",
                r"sigo esperando",
                r"nadie (?:responde|contesta)",
                r"llevo \w+ semanas",
                r"personne ne (?:repond|decroche)",
                r"toujours rien",
                r"depuis des semaines",
                r"reagiert nicht",
                rf"seit {_NUM} wochen",
                r"seit (?:zwei|drei|vier) wochen",
                r"schon wieder",
                r"ninguem responde",
                r"(?:o suporte )?nao responde",
                r"ja faz \d+ dias",
            ),
        ),
        (8, False, (r"again", r"tickets?", r"chased")),
    ],
    "help": [
        (
            20,
            False,
            (
                r"urgent(?:ly)?",
                r"asap",
                r"emergency",
                r"immediately",
                r"urgente",
                r"dringend",
            ),
        ),
        (
            12,
            False,
            (
                r"help",
                r"please",
                r"pls",
                r"plz",
                r"anyone",
                r"how (?:do|can|should) i",
                r"what (?:do|should|can) i do",
                r"what now",
                r"(?:can|could|would) (?:you|someone|somebody|anyone)",
                r"kindly",
                r"advise",
                r"(?:need|want) (?:this|it) (?:fixed|sorted|resolved)",
                r"who do i (?:talk|speak) to",
                r"(?:want|need|like|demand|expect) (?:a |my |the |an )?(?:replacement|repair|new one|exchange)",
                r"is (?:it|this) safe",
                r"ayuda\w*",
                r"ayudenme",
                r"por favor",
                r"aide[rz]?",
                r"aidez",
                r"svp",
                r"s'il vous plait",
                r"hilfe",
                r"helfen",
                r"bitte",
                r"ajud\w+",
            ),
        ),
    ],
}

_PRIMARY = (
    "money",
    "down",
    "broken",
    "delivery",
    "safety",
    "account",
    "legal",
    "churn",
    "complaint",
)
_SUPPORT = ("repeat", "help")
_CATEGORY_OF = {
    "money": "billing",
    "down": "outage",
    "delivery": "delivery",
    "safety": "safety",
    "account": "account",
    "legal": "legal",
    "churn": "churn",
    "complaint": "other",
}
_LABEL = {
    "money": "money",
    "down": "down",
    "broken": "broken",
    "delivery": "delivery",
    "safety": "safety",
    "account": "account",
    "legal": "legal",
    "churn": "churn",
    "complaint": "complaint",
    "repeat": "repeated failure",
    "custom": "cue",
}
# When two families score alike, the earlier one names the category.
_CATEGORY_ORDER = (
    "safety",
    "legal",
    "money",
    "account",
    "down",
    "delivery",
    "churn",
    "broken",
    "custom",
)

# Nouns that say a "broken" cue is about the service (outage) or about a device (product).
_SERVICE_NOUNS = (
    r"apps?|site|website|web|checkout|check out|login|log in|servers?|api|page|portal|online|"
    r"system|status page|payments?|card readers?|till|network|hub|cloud|appli|application|"
    r"aplicacion|aplicativo|pagina|seite|webseite|sitio|plataforma|plateforme"
)
_DEVICE_NOUNS = (
    r"device|charger|battery|screen|motor|kettle|heater|toaster|cable|lid|hinge|fan|port|unit|"
    r"machine|router|vacuum|laptop|phone|bike|e-bike|cooker|fridge|blender|radio|speaker|"
    r"headphones|earbuds|watch|tv|camera|printer|thermostat|appliance|cargador|pantalla|ecran|"
    r"chargeur|ladegerat|bildschirm|carregador|tela"
)

# Thankful or resolved tone: damps the cues ("thanks for the quick refund").
_THANKS_FOR = (
    r"(?<!no\s)(?<!be\s)(?:thanks|thank you|thank u|thx|ty|cheers|kudos|props|shout ?out|grateful|gracias|merci|"
    r"danke|obrigad[oa]|grazie)(?: so much| again| a lot)?(?: (?:to )?@?[\w.]+){0,3} "
    r"(?:for|por|pour|fur|pelo|pela|to)(?! nothing)"
    # thanks for help still to come ("thanks for looking into it") is politeness, not a fix
    r"(?! (?:your|any|all your|all the) (?:help|time|assistance|support|patience)"
    r"| (?:looking|checking|getting back|helping|sorting this|any help|reading))"
)
_RESOLVED = (
    r"(?<!as\s)(?<!marked\s)resolved|sorted(?: (?:it|out|in|now|quickly))?|fixed (?:it|my|the|quickly|fast|so|within)|"
    r"(?:for|after) (?:fixing|sorting|replacing|refunding)|working again|works again|"
    r"(?<!says\s)(?<!shows\s)(?<!claims\s)all good(?: now)?|no longer|(?:did|has|finally) (?:eventually )?(?:arrived?|came)|"
    r"(?:got|received|had) (?:my|the|a|our) refund|refund (?:came|arrived|went) through|"
    r"refunded[^.!?\n]{0,30}? within|(?:fastest|quick|quickest|fast|speedy) refund|"
    r"problema? resuelto|probleme regle|problema resolvido|resolvido|alles gut|"
    r"(?:ruckerstattung|erstattung|geld) ist angekommen|todo perfecto|rien a redire|"
    r"anymore|any more|all fixed|everything(?:'s| is)? (?:fine|ok|okay)(?! until)|no harm done|"
    # fixed or arrived after all, in several languages
    r"(?:works?|working|runs?) (?:fine|again|now|perfectly)|still works|went away|panic over|"
    r"(?:refund|money|payment|parcel|package|order) (?:has |had )?(?:landed|came through)|"
    r"(?:gave|given|got|sent|paid) (?:me |us )?(?:my|our|the) (?:money|cash) back|"
    r"(?:credit|refund|fix|patch|compensation) (?:was |has been |got )?applied|(?:was|were|been|got|it) rolled back|"
    r"(?:replaced|refunded|fixed|sorted|swapped)[^.!?\n]{0,30}? within|(?:fully |been |was |now )restored|"
    r"solucionad[oa]|solucionat|resuelto|gelost|geloest|lauft wieder|funktioniert wieder|"
    r"funciona de nuevo|funciona de novo|marche (?:a|de) nouveau|regle|resolu"
)
_PRAISE = (
    r"love|loved|loving|best|amazing|impressed|brilliant|excellent|fantastic|awesome|"
    r"10/10|great (?:service|job|support|experience)|well done|rock|legend|lovely|"
    r"(?<!anyone\s)(?<!anybody\s)(?<!someone\s)(?<!somebody\s)(?<!you\s)recommend"
    r"(?! (?:an? |any |some )?(?:alternatives?|others?|competitors?|replacements?))|"
    r"smooth|superb|happy|me encanta|j'adore|amei|adoro|zufrieden|super|top(?! ?up)|perfect|perfeito|"
    r"parfait|genial"
)
# (every thanks phrase above has one of these in it: without them there is nothing to search)
_THANKS_WORDS = (
    "thank",
    "thx",
    "ty",
    "cheers",
    "kudos",
    "props",
    "shout",
    "grateful",
    "gracias",
    "merci",
    "danke",
    "obrigad",
    "grazie",
)
# Sarcasm undoes the damping and adds a little.
_SARCASM = (
    r"thanks for nothing|cheers for nothing|thanks a bunch|thanks a lot|"
    r"great,? [^.!?\n]{0,40}?again|just great|great,? just great|love how|love that for me|"
    r"yeah right|/s|10/10 would not|what a surprise|surprise surprise|do they even test|"
    r"good job guys|great job guys|well done (?:acme|guys|team)|so helpful(?:,| not)"
)
# (every sarcasm phrase above has one of these in it: a cheap test before the search)
_SARCASM_WORDS = (
    "thanks",
    "cheers",
    "great",
    "love",
    "yeah",
    "/s",
    "10/10",
    "surprise",
    "test",
    "job",
    "well",
    "helpful",
)
_REQUEST = (
    r"\?|please|pls|plz|could you|can you|would you|kindly|help|still|need|want|i'?d like|would like|por favor|svp|"
    r"bitte|ajuda|ayuda|aide|in advance|wondering|any update|let me know|look(?:ing)? into"
)
# A contrast after the thanks or the praise ("thanks for the reply, but I still have no
# refund"; "love you Acme, but my order never came") keeps the complaint that follows it.
_CONTRAST = re.compile(
    r"(?<!\w)(?:but|though|however|although|still|sadly|unfortunately|except|pero|mais|"
    r"aber|mas|todavia|toujours|immer noch|ainda)(?!\w)"
)
_NEGATORS = frozenset(
    [
        "no",
        "not",
        "never",
        "without",
        "zero",
        "none",
        "nothing",
        "nobody",
        "hardly",
        "barely",
        "neither",
        "nor",
        "cannot",
        "sin",
        "ningun",
        "ninguna",
        "ningunos",
        "nunca",
        "nada",
        "jamais",
        "aucun",
        "aucune",
        "sans",
        "pas",
        "rien",
        "kein",
        "keine",
        "keinen",
        "keiner",
        "keinerlei",
        "nicht",
        "nie",
        "sem",
        "nenhum",
        "nenhuma",
        "nao",
    ]
)
_ANGRY_EMOJI = re.compile(
    "[\U0001f621\U0001f92c\U0001f624\U0001f44e\U0001f620\U0001f480\U0001f644]"
)
_BANGS = re.compile(r"!{2,}|\?{2,}|[!?]{3,}")
# (\b[A-Z]{3,}\b with the first letter ahead of the lookbehind, so the engine scans for a
# capital letter before it tries a match)
_CAPS_WORD = re.compile(r"[A-Z](?<!\w.)[A-Z]{2,}\b")
_LETTER_WORD = re.compile(r"\b[A-Za-z]{3,}\b")
_TOKEN = re.compile(r"[\w']+")
_CLAUSE_BREAK = re.compile(r"[.!?;,:\n()]| but | pero | mais | aber | mas ")
_SPACES = re.compile(r"\s+")
_TAKEOVER = re.compile(
    r"(?<!\w)(?:hack\w*|compromised|taken over|identity theft|wasn't me|wasnt me|"
    r"someone (?:logged|signed|got) in|(?:logged|signed) in from|pirat\w*|gehackt|invadida)(?!\w)"
)
# "I would be grateful for", "I'd be so grateful for": a request, not thanks for a fix
_FUTURE_THANKS = re.compile(r"(?:would|should|'d|will|shall) be (?:\w+ )?$")
# "no longer" / "anymore" said of a problem ("no longer crashes", "not broken anymore") is a
# fix; said of anything else ("no longer sits flat", "doesn't click anymore") is a loss.
_PROBLEM_WORDS = (
    r"broke\w*|crash\w*|freez\w*|fault\w*|errors?|issues?|problems?|leak\w*|overheat\w*|lag\w*|"
    r"slow|down|fail\w*|hurts?|dies|dying|drops?|disconnect\w*|charg\w* (?:me|us)|bill\w* (?:me|us)|"
    r"an? (?:issue|problem|fault|bug)|bugs?|buggy|glitch\w*|stuck|missing|late|delayed|locked|blocked|"
    r"an? thing|worried|angry|upset"
)
_LOST_WORDS = frozenset(("no longer", "anymore", "any more"))
_AFTER_NO_LONGER = re.compile(r"\s+(?:\w+\s+)?(?:" + _PROBLEM_WORDS + r")(?!\w)")
_NEGATED_WORD = re.compile(
    r"(?<!\w)(?:not|no|never|can't|cant|cannot|can not|won't|doesn't|doesnt|don't|dont|didn't|"
    r"isn't|aren't|nao|ne)\s+(.*)$"
)
_PROBLEM = re.compile(r"(?<!\w)(?:" + _PROBLEM_WORDS + r")(?!\w)")
_PLAIN_THANKS = re.compile(r"(?<!\w)(?:thanks|thank you|gracias|merci|danke|obrigad[oa])")


# --- topic + trouble ---------------------------------------------------------------------------
# The cue families above are precise but fit the phrasing they were written from. This layer
# generalises: a *topic* word (matched on its stem, in several languages) with a *trouble*
# marker in the same sentence or the one after it reads as a problem about that topic ("my
# parcel is still not here" = delivery + persistence + negation). A topic or a trouble marker
# alone adds nothing. Patterns are regular expressions over folded text; a topic matches at the
# start of a word (it is a stem), a trouble marker as whole words.

_TOPICS: dict[str, str] = {
    "billing": (
        r"charg(?!er|ing)\w*|bill(?:s|ed|ing)?|paid|pay(?:s|ing|ments?|outs?)?|refund\w*|money|"
        r"cash|funds?|balance|credit\w*(?! where)|debit\w*|card|invoice\w*|fees?|price|transactions?|"
        r"transfer\w*|withdraw\w*|deposit\w*|subscription|renewal|statement|bank|"
        r"cobr\w*|cargos?|pagos?|dinero|reembols\w*|tarjeta|factur\w*|saldo|argent|rembours\w*|"
        r"paiement|prelev\w*|geld|rechnung|abbuch\w*|abgebucht|zahlung|bezahl\w*|abo|"
        r"dinheiro|cartao|fatura|transferencia|estorno|afgeschreven|betaal\w*|abonnement|"
        r"pagament\w*|soldi|addebit\w*|rimbors\w*|"
        r"[$\u00a3\u20ac] ?\d[\d,.]*|\d[\d,.]* ?(?:\u20ac|eur|euros?|usd|dollars|gbp|pounds|reais)|r\$ ?\d+"
    ),
    "delivery": (
        r"orders?|ordered|parcels?|packages?|deliver\w*|courier\w*|arriv\w*|ship(?:s|ped|ping|ment|ments)?|"
        r"tracking|tracked|dispatch\w*|porch|doorstep|address|customs|locker|"
        r"pedidos?|paquetes?|envios?|entreg\w*|lleg\w*|repartidor|colis|commande\w*|livr\w*|"
        r"expedi\w*|paket\w*|bestell\w*|liefer\w*|sendung|zustell\w*|encomenda|rastreio|cheg\w*|"
        r"ordine|pacco|consegn\w*|spedizion\w*|pakket|bezorg\w*"
    ),
    "outage": (
        r"apps?|site|website|web ?page|page|servers?|checkout|check out|internet|wi ?fi|"
        r"connection|network|api|endpoint|webhooks?|portal|platform|online|phone line|chat|chatbot|"
        r"helpline|hotline|"
        r"support line|appli|application|aplicacion|aplicativo|pagina|seite|webseite|sitio|"
        r"plataforma|plateforme|verbindung|conexion|connexion|broadband|fibre|fiber|landline|"
        r"wifi|signal|router|electricity|power supply|heating|hot water|gas supply|internet\w*"
    ),
    "product": (
        r"laptop|phone|device|screen|battery|charger|charging|update|firmware|keyboard|"
        r"trackpad|touchpad|fan|mic|microphone|camera|webcam|speaker|hinge|port|usb|bluetooth|"
        r"ssd|display|pixels?|replacement|repair\w*|warranty|sync\w*|backup|"
        r"ordi|ordinateur|portatil|pantalla|bateria|cargador|movil|telefono|ecran|batterie|"
        r"chargeur|telephone|akku|bildschirm|handy|ladegerat|tela|celular|notebook|"
        r"carregador|telefoon|scherm|batterij|portatile|schermo|batteria|caricatore"
    ),
    "account": (
        r"account|acct|log ?in|logged (?:me )?in|sign ?in|password|passcode|pin|2fa|two factor|"
        r"otp|code|verification|verif\w*|identity|passport|hack\w*|profile|username|"
        r"cuenta|contrasena|acceso|compte|mot de passe|identifiant|konto|passwort|anmeld\w*|"
        r"conta|senha|acesso|invadid\w*"
    ),
    "safety": (
        r"overheat\w*|heat|hot|temperature|fire|smok\w*|burn\w*|spark\w*|swell\w*|swollen|"
        r"bulg\w*|shock\w*|melt\w*|fumes|discolo\w*|scorch\w*|injur\w*|hurt|insulin|"
        r"medic\w*|hospital"
    ),
    "churn": (
        r"cancel\w*|leav\w*|switch\w*|elsewhere|alternatives?|competitor\w*|port ?out|"
        r"unsubscrib\w*|cancelar|baja|resili\w*|quitter|kundig\w*|wechsel\w*|opzeg\w*|disdett\w*"
    ),
}
# Trouble markers by kind; two markers of different kinds count more than one.
_TROUBLE: dict[str, str] = {
    # a failed or refused action: "won't", "can't", "didn't arrive", "not received"
    "failed": (
        r"won'?t|can'?t(?! (?:stop|wait|believe|recommend|complain|beat|fault|unsee|unhear))|cannot|"
        r"couldn'?t|shouldn'?t have|doesn'?t|didn'?t|isn'?t|wasn'?t|hasn'?t|haven'?t|aren'?t|unable|"
        r"impossible|fail\w*|never(?! (?:had|been|have|disappoint\w*|let|once|change|fails?|"
        r"regret\w*|better|happier|looked))|"
        r"not (?!(?:sure|complaining|bad|saying|kidding|joking|a rant|that|too|much|only|just|"
        r"really|the|cheap|worth|down|broken|an issue|a problem|any|cancel\w*|leav\w*|"
        r"switch\w*|going)\b)\w+|"
        r"nao|ne \w+ (?:pas|plus|jamais|rien)|n'\w+ (?:pas|plus|jamais|rien)|nicht|kein\w*|"
        r"niet|geen|no (?:funciona|llega\w*|me \w+|puedo|sirve)|non \w+|mai"
    ),
    # it goes on or comes back: "still", "keeps", "again", "for 3 days", "since Monday"
    "ongoing": (
        # "still" and "keeps" only where they go on failing ("still at 20%", "keep tapping" no)
        r"still(?! (?:works?|working|worth|love|loving|wins?|at|going strong|good|great|fine|"
        r"the best|my fav\w*|have|has|had|recommend\w*|use|using|happy|holds?|looks?|runs?))|"
        r"keeps? (?:on )?(?:crash|restart|reboot|freez|drop|disconnect|fail|declin|getting|"
        r"saying|telling|closing|auto|logging|charging|sending|asking|reject|timing|shutting|"
        r"turning off|dying|losing|breaking|happening|showing|refus|billing|taking)\w*|"
        r"(?<!on\s)again|twice|(?:three|four|\d+) times|every (?:single )?time|"
        r"(?:for|since|over|after) (?:over |almost |nearly |more than )?(?:\d+|two|three|four|five|six|several|many) "
        r"(?:hours?|days?|weeks?|months?|hrs?|mins?|minutes?)|since (?:\w+day|day one|noon|"
        r"this morning|yesterday|last \w+|lunch|\d[\w/.:]*)|"
        r"day (?:\d+|five|four|three|six|seven)|"
        r"(?<!in\s)(?<!within\s)(?<!under\s)(?<!only\s)(?<!just\s)(?<!first\s)(?<!is\s)\d+ ?(?:days|weeks|months|hours|h)(?: now| ago| later)?|"
        r"todavia|sigue|encore|toujours|immer noch|noch immer|wieder|ainda|de novo|otra vez|"
        r"nog steeds|weer|ancora|seit \w+|depuis \w+|desde|ha \d+ \w+|fait \d+ \w+|llevo \w+"
    ),
    # a bad state: "stuck", "missing", "wrong", "declined", "frozen", "someone else's"
    "broken": (
        r"stuck|missing|wrong|gone|lost|dead|frozen|freez\w*|errors?|erroring|crash\w*|"
        r"broke\w*|declin\w*|reject\w*|blocked|bloqu\w*|locked|suspend\w*|revers\w*|wiped|"
        r"deleted|disappear\w*|vanish\w*|stolen|limbo|"
        r"(?<!calm\s)(?<!slow\s)(?<!turn\s)(?<!sit\s)(?<!back\s)(?<!upside\s)(?<!let\s)"
        r"down(?! (?:the|to|by|from|on|with|a|\d))|"
        r"offline|spins|spinning|"
        r"timing out|times out|5\d\d(?:ing|s)?|shuts? (?:off|down)|shutting (?:off|down)|"
        r"grind\w*|drops?|dropping|disconnect\w*|overheat\w*|leak\w*|problems?|issues?|"
        r"faults?|faulty|(?<!accidental\s)damage\w*|incorrect|invalid|under review|on hold|hold|held|holding|"
        r"perdid\w*|extraviad\w*|perdu\w*|verloren|kaputt|defekt|panne|errore|erreur|fehler|"
        r"erro|sumiu|(?:have|got|received|shows?|says?|had) nothing|nothing (?:arrived|came|happened|works?|working|loads?|loading)|"
        r"(?:normally|usually|typically) (?:about |around |only |just )?(?:[$\u00a3\u20ac]|\d)|"
        r"rien|nada|nichts|niets|instead of (?:\d+|one|two|three|the (?:one|right|correct))|full price|"
        # someone else acting on the customer's things
        r"(?:someone|somebody|alguem|alguien|quelqu'un|jemand) (?:is |has |was |just )?(?:using|used|use|"
        r"made|fez|hizo|logged|accessed|spent|spending|ordered|changed|signed|took|a fait|hat)|"
        r"(?:someone|somebody) else'?s?|(?:a )?stranger'?s?|another (?:user|customer|person)'?s?|"
        r"different user|other (?:customers|people|users)'?|without (?:my )?(?:permission|"
        r"consent|explanation|warning)|sans explication|sin (?:aviso|explicacion)|ohne \w+|"
        r"apag\w*|stürzt|sturzt|abgelaufen|malformed|closes itself|by itself|(?:him|her)self|themselves|itself|"
        r"sozinh[oa]|da sol[oa]|tout seul\w*|von selbst|por si sol[oa]|(?:si )?spegne|desliga\w*|s'eteint|"
        r"(?:green|black|white|pink|purple|coloured|colored|vertical|horizontal) lines|"
        r"went (?:black|blank|dark|white|green|dead)|"
        r"(?:took|taken|sent|returned|brought) (?:it |them |(?:my|the|our) \w+ )?back|returned to (?:the )?(?:sender|depot)|devolv\w*"
    ),
    # nobody answers: "no reply", "ignored", "waiting"
    "ignored": (
        r"waiting|no (?:answer|reply|replies|response|reaction|acknowledg\w*|human|one|"
        r"update|email|call)|zero (?:response|reply|replies)|ignor\w*|nobody|no one|noone|"
        r"ninguem|nadie|personne ne|niemand|autorespon\w*|escalat\w*|geen reactie|"
        r"sin respuesta|sem resposta|keine antwort|aucune reponse|queue|j'attends|espero|"
        r"warte\w*|aguardo|esperando"
    ),
}
# Recurrence at an interval ("every 10 minutes"): adds a kind of trouble to a match, never makes
# one ("refreshing the tracking every 4 minutes" is impatience, not a fault).
_TROUBLE_OFTEN = (
    r"every (?:few|couple of|\d+|two|three|five|ten|twenty|thirty) (?:minutes?|mins?|hours?|seconds?|secs?)|"
    r"ogni \w+ minuti|cada \w+ minutos|toutes les \w+ minutes|alle \w+ minuten|a cada \w+ minutos"
)
_WEAK_KINDS = frozenset(("ask", "often"))
# Services whose absence is an outage ("no internet", "sem internet", "plus d'internet")
_SUPPLY = re.compile(
    r"internet\w*|broadband|wi ?fi|signal|connection|conexion|connexion|verbindung|power|"
    r"electricity|heating|hot water|gas supply|landline|fibre|fiber|network|service"
)
# Weak markers: they add to a topic + trouble match but never make one.
_TROUBLE_ASK = (
    r"what (?:do|should|can) i do|how (?:do|can) i|how am i supposed|what am i supposed|"
    r"who (?:do|can|should) i|(?:can|could) (?:someone|anyone|you|somebody) (?:help|call|look|"
    r"check|fix|tell|sort)|anyone else|is (?:it|this) (?:just me|normal)|je fais quoi|"
    r"que (?:hago|faco)|o que (?:eu )?faco|was (?:soll|kann) ich|potete aiutarmi|help|please|pls"
)
_FIRST_PERSON = re.compile(
    r"(?<!\w)(?:my|our|i|i'm|i've|me|mine|mi|mis|mon|ma|mes|mein\w*|meu|minha|mijn|il mio|"
    r"la mia|nuestro|notre)(?!\w)"
)
# Negation right before a topic word is itself a trouble marker ("no package", "never
# arrived", "rien recu", "nao chegou"), unless the topic is a state that the negation clears.
_ABSENT = re.compile(
    r"(?:^|[^\w'])(?:no|not|never|nothing|rien|nada|nunca|jamais|mai|nie|nicht|kein\w*|nao|"
    r"geen|niet|non|yet to|sem|sin|senza|ohne|plus d|plus de)(?: \w+)?\W+$"
)
# A topic word inside a hypothetical or an idle question ("does the Roadrunner support
# eSIM?", "thinking about cancelling", "is it worth it") halves the match.
_HYPOTHETICAL = re.compile(
    r"(?<!\w)(?:if|whether|thinking (?:about|of)|considering|wondering|worth|vs|versus|"
    r"compatible|recommend\w*|does (?:the|it|acme|anyone)|is there|anyone know|should i|"
    r"would|could i|how much|"
    r"how (?:do|can|should|to) i (?:turn|change|set|enable|disable|add|use|update|switch|find|"
    r"move|link|connect|install|edit|know))(?!\w)"
)
# An editorial post (a review, a comparison, a guide) named in its first line halves the layer.
_GENRE = re.compile(
    r"(?<!\w)(?<!under\s)(?:review|reviewed|comparison|compared|vs|versus|hands[\s-]on|guide|tips|psa|"
    r"analysis|analisis|test|im test|first look|explained)(?!\w)"
)
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)|\n")
# Other things called by the brand's name: a trouble report about them is not for the brand.
_ELSEWHERE = {
    "acme": (
        r"acme (?:protocol|challenges?|clients?|certs?|certificates?|v2|account key|server)|"
        r"rfc ?8555|certbot|let'?s ?encrypt|letsencrypt|dns-01|http-01|acme\.sh|"
        r"acme (?:brick|markets?|hardware|thunderer|whistles?|united)|looney tunes|wile e"
    ),
}
# Said of another thing with the brand's name, whatever the brand ("Acme Cafe is NOT us")
_NOT_US = (
    r"(?:is|are|was|that's|thats|it's|its) not us|not (?:affiliated|related|connected) (?:with|to)|"
    r"no (?:relation|affiliation|connection) (?:to|with)|"
    r"(?:a |an )?(?:different|separate|unrelated) (?:company|business|firm|shop|brand)|"
    r"nothing to do with us"
)
# News and commentary: reporting verbs and genres; a post with one of these and no first
# person in it reports on the brand rather than asking it for anything.
_NEWS = (
    r"(?:statement|confirm(?:s|ed)|announc\w*|investigation|according to|spokes\w*|"
    r"(?:company|firm|brand|it) (?:said|says|blamed|confirmed|apologi[sz]ed)|press release|"
    r"customers (?:were )?affected|affected customers|filed against|shares? (?:down|up|fell|rose|"
    r"drop\w*|jump\w*|slid|slump\w*)|(?:opinion|analysis|column|editorial|explainer):|"
    r"(?:latest|quarterly|annual|new|monthly) (?:figures|data|survey|rankings?|league table)|"
    r"complaints table|reportedly)"
)
_CALL_OUT = re.compile(
    r"\b(?<!\w)(?:working on|writing|researching) an? (?:story|piece|article|report|feature)(?!\w)"
)
_SPEAKER = re.compile(r"\b(?<!\w)(?:i|i'm|im|i've|ive|i'd|my|me|mine|we|we're|we've|our|us)(?!\w)")
# An essential supply lost or about to be, and a vulnerable person relying on it: a safety
# matter whatever the wording.
_ESSENTIAL_LOSS = (
    r"(?:power cuts?|(?:no|without|lost|losing) (?:heating|heat|power|electricity|hot water|gas)|"
    r"cut (?:me |us |her |him |them |(?:a|my|our|the) (?:\w+ )?(?:customer|household|home|house) )?off|"
    r"disconnect(?:ed|ing|ion)|self[\s-]disconnect\w*|(?:heating|power|electricity|gas) (?:is |was |has been )?(?:off|cut))"
)
_VULNERABLE = (
    r"(?:bab(?:y|ies)|newborn|infant|pregnant|wheelchair|oxygen|dialysis|medical equipment|"
    r"priority services?|vulnerable|disabled|disability|elderly|registered blind|insulin|"
    r"ventilator|stair ?lift|hospice|terminally ill|chemo\w*)"
)
_LOSS = re.compile(_ESSENTIAL_LOSS)
_NEVER = re.compile(r"(?!x)x")
# the sources the learned half knows by name (any other reads as "other")
_SOURCES = frozenset(("x", "bluesky", "mastodon", "reddit", "hackernews", "rss"))
# Topics that are things a customer can lack ("no refund", "never arrived")
_OBJECTS = frozenset(("billing", "delivery", "product", "account", "outage"))
_TOPIC_LABEL = {
    "billing": "money problem",
    "delivery": "delivery problem",
    "outage": "outage",
    "product": "product problem",
    "account": "account problem",
    "safety": "safety risk",
    "churn": "leaving",
    "other": "problem",
}


def _fold_table() -> dict[int, str]:
    """Accented Latin letters to their base letter, curly apostrophes to ', length-preserving."""
    table: dict[int, str] = {}
    for code in range(0xC0, 0x250):
        char = chr(code)
        base = unicodedata.normalize("NFKD", char)
        if (
            len(base) > 1
            and base[0].isascii()
            and base[0].isalpha()
            and all(unicodedata.combining(c) for c in base[1:])
        ):
            table[code] = base[0]
    for char in "\u2019\u2018\u02bc\u00b4\u0060\u2032":
        table[ord(char)] = "'"
    for char in "\u2010\u2011\u2012\u2013\u2014":
        table[ord(char)] = "-"
    table[0xA0] = " "
    # quotation marks are spaces, so a scare-quoted word still forms a phrase
    # ('a "pending" charge' reads as 'a pending charge')
    for char in '"\u201c\u201d\u201e\u00ab\u00bb':
        table[ord(char)] = " "
    return table


_FOLD = _fold_table()


def fold(text: str) -> str:
    """Lower case, accents removed, ’ -> ', quotation marks -> spaces. Same length as `text`
    for nearly all input."""
    if text.isascii():
        return text.lower().replace('"', " ")
    return text.translate(_FOLD).lower()


# Common misspellings of the verbs that carry a complaint ("never arived", "havent recieved",
# "ordred 2 weeks ago"), applied to every built-in cue.
_TYPOS = (
    (re.compile(r"(?<![a-z])arriv"), "arr?iv"),
    (re.compile(r"(?<![a-z])receiv"), "rec(?:ei|ie|i)v"),
    (re.compile(r"(?<![a-z])ordered"), "ord(?:e)?r(?:e)?d"),
    (re.compile(r"(?<![a-z])delivered"), "deliv(?:e)?r(?:e)?d"),
)


def _typos(pattern: str) -> str:
    for rx, replacement in _TYPOS:
        pattern = rx.sub(replacement, pattern)
    return pattern


def _pattern(phrase: str) -> str:
    """A cue pattern to a regex: a space matches spaces or hyphens, an apostrophe is optional."""
    return phrase.replace("'", "'?").replace(" ?", r"[\s-]?").replace(" ", r"[\s-]+")


def _literal(phrase: str) -> str:
    """A config phrase (plain words) to a regex in the same style as the built-in cues."""
    words = [re.escape(fold(w)) for w in phrase.split()]
    return _pattern(" ".join(words).replace("\\'", "'"))


def _group_end(pattern: str, start: int) -> int:
    """Index of the ')' closing the group that opens at `start`."""
    depth = 0
    i = start
    in_class = False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError(f"unbalanced pattern: {pattern!r}")


def _split_top(body: str) -> list[str]:
    """Top-level alternatives of a group body."""
    parts, depth, current, i, in_class = [], 0, [], 0, False
    while i < len(body):
        char = body[i]
        if char == "\\":
            current.append(body[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append("".join(current))
            current = []
            i += 1
            continue
        current.append(char)
        i += 1
    parts.append("".join(current))
    return parts


def _expand(pattern: str, depth: int = 0) -> list[str]:
    """Spread a leading (?:a|b)rest into arest, brest (and (?:a)?rest into arest, rest) so that
    every alternative starts with a literal character and can go into the trie."""
    if depth > 4 or not pattern.startswith("(?:"):
        return [pattern]
    end = _group_end(pattern, 0)
    body, rest = pattern[3:end], pattern[end + 1 :]
    optional = rest.startswith("?") and not rest.startswith("??")
    if optional:
        rest = rest[1:]
    elif rest[:1] in ("*", "+", "{", "?"):
        return [pattern]
    out: list[str] = []
    for alternative in _split_top(body) + ([""] if optional else []):
        candidate = alternative + rest
        if candidate:
            out.extend(_expand(candidate, depth + 1))
    return out


def _trie_alternation(patterns: Iterable[str]) -> str:
    """An alternation grouped by first literal character.

    Python's regex engine fails a branch on its first literal at once, so grouping by the first
    character keeps hundreds of phrases cheap (a few microseconds a tweet). Within a group the
    order of `patterns` is kept: at one position the first alternative that matches wins.
    """
    groups: dict[str, list[str]] = {}
    misc: list[str] = []
    for pat in dict.fromkeys(patterns):
        first = pat[0]
        if first.isalnum() and first.isascii() and (len(pat) < 2 or pat[1] not in "?*{+"):
            groups.setdefault(first, []).append(pat[1:])
        else:
            misc.append(pat)
    parts = [f"{re.escape(k)}(?:{_second_level(v)})" for k, v in groups.items()]
    return "|".join(parts + [fast for pat in misc for fast in _literal_first(pat)])


def _literal_first(pattern: str) -> list[str]:
    r"""The same matches in the same order, written to start with a literal character or class
    where that is easy, so the engine drops the branch at once where that character is not:
    lookbehinds move behind the first character (``(?<!card\s)cancel`` reads
    ``c(?<!(?:card\s)c)ancel``; a leading group is spread first) and ``\d+`` reads ``\d\d*``."""
    behinds: list[str] = []
    rest = pattern
    while rest.startswith(("(?<!", "(?<=")):
        end = _group_end(rest, 0)
        behinds.append(rest[: end + 1])
        rest = rest[end + 1 :]
    if behinds:
        out: list[str] = []
        for variant in _expand(rest):
            if _literal_head(variant):
                char, tail = variant[0], variant[1:]
            elif variant.startswith(r"\d+") and variant[3:4] not in ("?", "+"):
                char, tail = r"\d", r"\d*" + variant[3:]
            else:
                return [pattern]
            moved = "".join(f"{b[:4]}(?:{b[4:-1]}){char})" for b in behinds)
            out.append(char + moved + tail)
        return out
    if pattern.startswith(r"\d+") and pattern[3:4] not in ("?", "+"):
        return [r"\d\d*" + pattern[3:]]
    return [pattern]


def _grouped(alternation: str) -> str:
    """A top-level alternation regrouped by first character (same matches, faster search)."""
    return _trie_alternation(
        variant for alt in _split_top(alternation) for variant in _expand(f"(?:{alt})")
    )


def _literal_head(pat: str) -> bool:
    return (
        bool(pat) and pat[0].isalnum() and pat[0].isascii() and pat[1:2] not in ("?", "*", "{", "+")
    )


def _second_level(rests: list[str]) -> str:
    """The same grouping one character further, keeping the order that matters: branches with
    different literal second characters can never both match, so a run of them is regrouped;
    a branch that starts otherwise stays where it was, between runs."""
    out: list[str] = []
    run: dict[str, list[str]] = {}

    def close() -> None:
        for key, tails in run.items():
            out.append(re.escape(key) + (f"(?:{'|'.join(tails)})" if len(tails) > 1 else tails[0]))
        run.clear()

    for rest in rests:
        if _literal_head(rest):
            run.setdefault(rest[0], []).append(rest[1:])
        else:
            close()
            out.append(rest)
    close()
    return "|".join(out)


@dataclass(frozen=True)
class _Cue:
    family: str
    weight: int
    negatable: bool
    regex: re.Pattern[str]
    category: str | None = None  # for custom cues


@dataclass(frozen=True)
class _Hit:
    cue: _Cue
    start: int
    end: int


class Scorer:
    """Scores mentions for urgency. Build once (it compiles everything), then share."""

    def __init__(
        self, brand: Brand, triage: Triage, *, model: UrgencyModel | None | str = "default"
    ):
        """``model``: the learned half of the score (``bot.learned``); "default" is the model
        shipped with mentionops, None scores with the rules alone."""
        self.brand = brand
        self.triage = triage
        self.threshold = triage.urgency_threshold
        self._model = load_default() if model == "default" else model
        if isinstance(self._model, str):
            raise TypeError("model must be an UrgencyModel, None or 'default'")
        self._analyzer = SentimentIntensityAnalyzer()
        self._own = frozenset(h.lower().lstrip("@") for h in brand.handles)
        brand_terms = [_literal(t) for t in brand.terms if t.strip()]
        brand_alt = "|".join(brand_terms) if brand_terms else "(?!x)x"

        cues: list[_Cue] = []
        for family, rows in _FAMILIES.items():
            for weight, negatable, phrases in rows:
                for phrase in phrases:
                    rx = _pattern(_typos(phrase.replace("{brand}", f"(?:{brand_alt})")))
                    cues.append(_Cue(family, weight, negatable, re.compile(rx)))
        builtin = list(cues)
        for phrase, weight in triage.cues:
            if not phrase.strip():
                continue
            category = self._category_of_phrase(builtin, fold(phrase))
            cues.append(_Cue("custom", int(weight), True, re.compile(_literal(phrase)), category))
        self._cues = cues
        # One alternation of every cue, grouped by first character (see _trie_alternation);
        # a match is then named by trying the few cues that can start with its first two
        # characters (or its first one, when a cue's second character is not a plain letter).
        expanded: list[str] = []
        self._by_first: dict[str, list[_Cue]] = {}
        # heaviest cues first, so at one position the heaviest reading wins
        for cue in sorted(cues, key=lambda c: (-c.weight, -len(c.regex.pattern))):
            for variant in _expand(cue.regex.pattern):
                expanded.append(variant)
                if not variant[0].isalnum():
                    key = "*"
                elif _literal_head(variant[1:]) and variant[1:2].isascii():
                    key = variant[:2]
                else:
                    key = variant[0]
                bucket = self._by_first.setdefault(key, [])
                if cue not in bucket:
                    bucket.append(cue)
        # every cue starting with a word character (custom ones may not), a word boundary comes
        # first: it implies nothing new but lets the engine skip mid-word positions faster
        wordy = all(v[0].isalnum() or v.startswith(("\\d", "\\w", "(?<!")) for v in expanded)
        head = (r"\b" if wordy else "") + r"(?<![\w@])(?:"
        # The few cues for "<name>.com" are tried at every word; they need ".com" in the text,
        # so the master used for most texts goes without them (same matches there) and the
        # full one is compiled when a text first has ".com" in it (see _hits).
        plain = [v for v in expanded if not v.startswith(_DOT_COM)]
        self._master = re.compile(head + _trie_alternation(plain) + r")(?![\w])")
        self._master_com_source = (
            head + _trie_alternation(expanded) + r")(?![\w])"
            if len(plain) < len(expanded)
            else None
        )
        self._master_com: re.Pattern[str] | None = None

        muted = [_literal(m) for m in triage.muted if m.strip()]
        self._muted = _word_regex(muted)
        names = brand_terms + [_literal(p) for p in triage.products if p.strip()]
        self._names = _word_regex(names)
        # The learned half reads the brand, its products and its handles as placeholders, so
        # what it learned about "Acme" and "Roadrunner" carries over to any brand's names.
        self._placeholders = [
            (rx, word)
            for rx, word in (
                (
                    re.compile(
                        r"(?<=@)(?:"
                        + "|".join(sorted(map(re.escape, self._own), key=len, reverse=True))
                        + r")(?!\w)"
                    )
                    if self._own
                    else None,
                    "zhandle",
                ),
                (_word_regex([_literal(p) for p in triage.products if p.strip()]), "zproduct"),
                (_word_regex(brand_terms), "zbrand"),
            )
            if rx is not None
        ]
        # "my Acme account", "our Roadrunner order": a name between a determiner and its noun is
        # blanked for cue matching, so "close my account" also reads "close my Acme account".
        self._modifier = (
            re.compile(
                r"(?<!\w)((?:my|our|your|the|this|that|his|her|their|an?|mi|mis|mon|ma|mes|"
                r"mein|meine|meinen|meu|minha)[\s-]+)("
                + "|".join(sorted(names, key=len, reverse=True))
                + r")(?=[\s-]+\w)"
            )
            if names
            else None
        )
        # every word of the brand's names and handles (never quoted as a reason)
        self._name_words = frozenset(
            [
                *(
                    w
                    for n in (*brand.terms, *triage.products, *self._own)
                    for w in re.findall(r"\w+", fold(n))
                ),
                "zbrand",
                "zproduct",
                "zhandle",
            ]
        )
        # the first word of every name, for a cheap test before the substitution
        self._name_heads = tuple(
            {fold(n).split()[0] for n in (*brand.terms, *triage.products) if n.strip()}
        )
        products = [_literal(p) for p in triage.products if p.strip()]
        self._product = (
            re.compile(r"(?<!\w)(?:" + "|".join(products) + r")(?!\w)") if products else None
        )
        self._device = re.compile(r"(?<!\w)(?:" + _DEVICE_NOUNS + r")(?!\w)")
        self._service = re.compile(r"(?<!\w)(?:" + _pattern(_SERVICE_NOUNS) + r")(?!\w)")
        handles = [re.escape(h) for h in sorted(self._own, key=len, reverse=True)]
        # (the '@' first, ahead of the lookbehind, so the engine searches for it directly)
        self._handle = (
            re.compile(r"@(?<![\w@]@)(" + "|".join(handles) + r")(?![\w])") if handles else None
        )
        self._thanks = re.compile(r"(?<!\w)(?:" + _grouped(_pattern(_THANKS_FOR)) + r")(?!\w)")
        self._resolved = re.compile(r"(?<!\w)(?:" + _grouped(_pattern(_RESOLVED)) + r")(?!\w)")
        self._praise = re.compile(r"(?<!\w)(?:" + _grouped(_PRAISE) + r")(?!\w)")
        self._sarcasm = re.compile(r"(?<!\w)(?:" + _grouped(_pattern(_SARCASM)) + r")")
        self._request = re.compile(r"(?:" + _REQUEST + r")")
        # topic + trouble layer (see _TOPICS)
        topics = dict(_TOPICS)
        if products:
            topics["product"] = "|".join(products) + "|" + topics["product"]
        order = ("billing", "delivery", "account", "churn", "outage", "product", "safety")
        # one alternation grouped by first character (fast, see _trie_alternation); a match is
        # then named by the first category, in `order`, whose own pattern matches it whole
        topic_alts = [
            variant
            for cat in order
            for alt in _split_top(_pattern(topics[cat]))
            for variant in _expand(f"(?:{alt})")
        ]
        # a word boundary first lets the engine skip mid-word positions; the few alternatives
        # that start with a currency sign get their own search, run only when one is there
        signs = [a for a in topic_alts if a.startswith("[")]
        words = [a for a in topic_alts if not a.startswith("[")]
        self._topic = re.compile(r"\b(?<![\w$])(?:" + _trie_alternation(words) + r")(?!\w)")
        self._topic_sign = re.compile(r"(?<![\w$])(?:" + "|".join(signs) + r")(?!\w)")
        self._topic_kind = [(cat, re.compile(_pattern(topics[cat]))) for cat in order]
        kinds = [
            (kind, _pattern(rx))
            for kind, rx in (*_TROUBLE.items(), ("often", _TROUBLE_OFTEN), ("ask", _TROUBLE_ASK))
        ]
        self._trouble = re.compile(
            r"(?<!\w)(?:" + _grouped("|".join(rx for _kind, rx in kinds)) + r")(?!\w)"
        )
        self._trouble_kind = [(kind, re.compile(rx)) for kind, rx in kinds]
        self._topic_cues = {cat: _Cue("topic", 0, False, _NEVER, category=cat) for cat in order}
        self._after_brand = re.compile(r"(?<!\w)(?:" + brand_alt + r")(?:'s)?[\s-]+$")
        self._vulnerable_cue = _Cue("safety", 70, False, _NEVER)
        # matched text -> its cue readings (see _reading); only ever grows by whole entries, so
        # sharing the scorer between threads stays safe
        self._readings: dict[str, tuple[_Cue, ...]] = {}
        # both word lists in one pass, grouped by first character (see _trie_alternation)
        self._care = re.compile(
            r"\b(?:" + _grouped(_pattern(_ESSENTIAL_LOSS + "|" + _VULNERABLE)) + r")(?!\w)"
        )
        self._news = re.compile(r"\b(?:" + _grouped(_pattern(_NEWS)) + r")(?!\w)")
        elsewhere = [
            _ELSEWHERE[t] for t in {fold(t).strip() for t in brand.terms} if t in _ELSEWHERE
        ]
        # "$ACME down 4%": the brand's share price, not its service
        elsewhere += [r"\$" + t for t in brand_terms]
        elsewhere.append(_pattern(_NOT_US))
        self._elsewhere = re.compile(r"(?<!\w)(?:" + "|".join(elsewhere) + r")(?!\w)")

    @staticmethod
    def _category_of_phrase(cues: list[_Cue], phrase: str) -> str | None:
        """The built-in family a custom cue phrase belongs to, if any ("dead pixel" -> broken)."""
        for cue in cues:
            if (cue.family in _CATEGORY_OF or cue.family == "broken") and cue.regex.search(phrase):
                return "broken" if cue.family == "broken" else _CATEGORY_OF[cue.family]
        return None

    # --- public ---------------------------------------------------------------------------------

    def score(
        self, mention: Mention, *, repeat: bool = False, _capture: list | None = None
    ) -> Score:
        """The urgency of ``mention``. (``_capture``, for the trainer: receives the learned
        half's inputs, the unmuted text and the rules' signals, or None when it would not run.)"""
        author = handle_key(mention.author) if mention.author else ""
        if author and author in self._own:
            return Score(0, False, "other", 0.0, [f"posted by the brand (@{author})"])

        raw = f"{mention.title}\n{mention.text}" if mention.title else mention.text
        cue_text = _bounded(raw, _CUE_HEAD, _CUE_TAIL)
        folded = fold(cue_text)
        quote_src = cue_text if len(folded) == len(cue_text) else folded

        compound = self._sentiment(raw)
        reasons: list[tuple[float, str]] = []

        # 1. cues
        # (may a brand or product name be in the text? asked once, it is cheap but not free)
        named = any(head in folded for head in self._name_heads)
        cue_view = folded
        if self._modifier is not None and named:
            cue_view = self._modifier.sub(_blank_name, folded)
        negated_hits: list[_Hit] = []
        hits = self._hits(cue_view, named, negated_hits)
        families: dict[str, list[_Hit]] = {}
        for hit in hits:
            families.setdefault(hit.cue.family, []).append(hit)

        primary: list[tuple[float, str, _Hit]] = []
        for family, fam_hits in families.items():
            if family in _SUPPORT:
                continue
            ranked = sorted(fam_hits, key=lambda h: (-h.cue.weight, h.start))
            value = ranked[0].cue.weight
            second = next(
                (
                    h
                    for h in ranked[1:]
                    if folded[h.start : h.end] != folded[ranked[0].start : ranked[0].end]
                ),
                None,
            )
            if second is not None:
                value += 0.25 * second.cue.weight
            primary.append((min(value, 90.0), family, ranked[0]))
        topic = self._topic_trouble(folded, cue_text if len(cue_text) == len(folded) else None)
        if topic is not None:
            primary.append(topic)
        loss = vulnerable = None
        # (only with some complaint signal: a cue, a topic match or a negative tone)
        care = self._care.finditer(folded) if primary or compound < 0 else ()
        for match in care:  # one pass for both (rare) word lists
            if _LOSS.fullmatch(match.group()):
                loss = loss or match
            else:
                vulnerable = match
            if loss and vulnerable:
                primary.append((70.0, "safety", _Hit(self._vulnerable_cue, *loss.span())))
                break
        primary.sort(key=lambda p: (-p[0], _order(p[1])))

        core = 0.0
        for factor, (value, _family, _hit) in zip((1.0, 0.35, 0.15), primary, strict=False):
            core += factor * value
        core = min(core, 90.0)

        support = 0.0
        for family in _SUPPORT:
            fam_hits = families.get(family)
            if not fam_hits:
                continue
            ranked = sorted(fam_hits, key=lambda h: (-h.cue.weight, h.start))
            value = ranked[0].cue.weight + 0.3 * sum(h.cue.weight for h in ranked[1:2])
            support += value
            if family == "repeat":
                reasons.append((value, f"repeated failure: {_quote(quote_src, ranked[0])}"))
            else:
                reasons.append((value, "asks for help"))

        # 2. tone
        tone = 30.0 * -compound if compound <= -0.05 else 0.0

        # The remaining support cues only matter next to a complaint cue or a negative tone.
        sarcasm = None
        addressed = False
        intensity = 0.0
        if primary or tone or support:
            if self._handle is not None:
                match = self._handle.search(folded)
                if match:
                    addressed = True
                    support += 10
                    reasons.append((10, f"addressed to @{match.group(1)}"))
            intensity, why = self._intensity(cue_text)
            if intensity:
                support += intensity
                reasons.append((intensity, why))
            sarcasm = (
                self._sarcasm.search(folded)
                if any(word in folded for word in _SARCASM_WORDS)
                else None
            )
            if sarcasm:
                support += 15
                quoted = _quote_span(quote_src, sarcasm.start(), sarcasm.end())
                reasons.append((15, f"sarcasm: {quoted}"))
        support = min(support, 35.0)

        # 3. thankful or resolved tone damps everything (unless sarcastic)
        damped = False
        thankful = None
        looked = False  # for thankful words (the learned half asks too)
        if not sarcasm and (primary or tone):
            thankful = self._thankful(folded)
            looked = True
            praising = compound >= 0.3 and self._praise.search(folded)
            polite_thanks = (
                not thankful
                and compound >= 0.3
                and _PLAIN_THANKS.search(folded)
                and not self._request.search(folded)
            )
            polite = thankful or praising or polite_thanks
            if polite and not _contrast_then_cue(folded, polite, primary):
                damped = True
                core *= 0.3
                support *= 0.3
                tone *= 0.3

        # without a complaint cue only the tone and a little of the support count
        base = core + support + tone if primary else tone + 0.3 * support
        base = min(base, 95.0)
        news = elsewhere = None
        other_thing = False
        # a report about the brand (news, a statement, an investigation, an opinion piece) with
        # nobody in it speaking for themselves: nobody there is waiting for the brand
        if base and (
            (not _SPEAKER.search(folded) and self._news.search(folded))
            or (
                ("working on" in folded or "writing" in folded or "researching" in folded)
                and _CALL_OUT.search(folded)
            )
        ):
            base *= 0.5
            news = True
            reasons.append((98.0, "news or commentary"))
        # (only a post that names the brand can be about another thing of that name)
        elsewhere = self._elsewhere.search(folded) if base and named else None
        if elsewhere and not (self._handle and self._handle.search(folded)):
            # another thing that shares the brand's name (a protocol, a share price, a shop)
            base *= 0.2
            other_thing = True
            primary = []
            reasons = [(99.0, f"another {_quote_span(quote_src, *elsewhere.span())}")]

        for value, family, hit in primary:
            weight = value * (0.3 if damped else 1.0)
            if family == "topic":
                if len(primary) > 1:
                    continue  # a cue already says what it is; the match only adds weight
                label = _TOPIC_LABEL[hit.cue.category or "other"]
            else:
                label = _LABEL[family]
            reasons.append((weight, f"{label}: {_quote(quote_src, hit)}"))
        if tone >= 3:
            reasons.append((tone, f"negative tone {_signed(compound)}"))
        if damped:
            reasons.append((1, "thankful or resolved tone"))

        # 4. the learned half: it reads the words and what the rules saw, and has the last word
        # on the base (see bot.learned). It reads the texts it was trained on, those that name
        # the brand (or a product or a handle); any other text (say, one found by a hashtag
        # query) has the rules alone. And the rules' knowledge of another thing that shares the
        # brand's name is not something a few thousand examples can teach, so there the rules
        # have the last word.
        learn = named and not other_thing
        if _capture is not None and not learn:
            _capture.append(None)
        if (self._model is not None or _capture is not None) and learn:
            dense = {
                "rule": base / 100.0,
                "rule60": 1.0 if base >= 60 else 0.0,
                "neg": max(0.0, -compound),
                "pos": max(0.0, compound),
                "support": support / 35.0,
                "intensity": intensity / 18.0,
                "handle": 1.0 if addressed else 0.0,
                "sarcasm": 1.0 if sarcasm else 0.0,
                "damped": 1.0 if damped else 0.0,
                "news": 1.0 if news else 0.0,
                "elsewhere": 1.0 if elsewhere else 0.0,
                "question": 1.0 if "?" in folded else 0.0,
                "speaker": 1.0 if _SPEAKER.search(folded) else 0.0,
                # what the rules saw that argues against a complaint, even where it did not damp
                "negated": min(1.0, 0.5 * len(negated_hits)),
                "resolved": 1.0
                if damped
                or (
                    not sarcasm
                    and (thankful if looked else self._thankful(folded))
                )
                else 0.0,
                "hypothetical": 1.0 if _HYPOTHETICAL.search(folded) else 0.0,
                # what kind of post it is: a long piece or a titled thread is more often a
                # review, a guide or news than a cry for help
                "titled": 1.0 if mention.title else 0.0,
                "long": min(1.0, len(folded) / 1500.0),
                "short": 1.0 if len(folded) < 120 else 0.0,
                "src:" + (mention.source if mention.source in _SOURCES else "other"): 1.0,
            }
            for value, family, hit in primary:
                key = "fam:" + (f"topic:{hit.cue.category}" if family == "topic" else family)
                dense[key] = max(dense.get(key, 0.0), value / 100.0)
            for family in _SUPPORT:
                if family in families:
                    dense["fam:" + family] = 1.0
            unmuted = self._unmuted(folded)
            if _capture is not None:
                _capture.append((unmuted, dense))
        if self._model is not None and learn:
            z = self._model.logit(unmuted, dense)
            learned = self._model.urgency(z, self.threshold)
            if learned >= self.threshold > base:
                words = self._model.strongest(unmuted, sign=1, names=self._name_words)
                reasons.append(
                    (
                        learned,
                        "reads like an urgent complaint"
                        + (": " + _quoted_words(words) if words else ""),
                    )
                )
            elif base >= self.threshold > learned:
                words = self._model.strongest(unmuted, sign=-1, names=self._name_words)
                reasons.append(
                    (
                        99.5,
                        "reads as handled or not a complaint"
                        + (": " + _quoted_words(words) if words else ""),
                    )
                )
            # the admin's own cues ([triage] cues) add their weight on top, as documented
            custom = next((value for value, family, _hit in primary if family == "custom"), 0.0)
            base = min(learned + custom, 95.0)

        # 5. boosts: only raise, only with a complaint signal, capped
        signal = bool(primary) or compound <= -0.3 or "repeat" in families
        boost = 0.0
        if signal:
            followers = mention.followers or 0
            if followers >= 1000:
                reach = min(10.0, 3.0 * math.log10(followers / 1000) + 2.0)
                boost += reach
                reasons.append((reach, f"{_compact(followers)} followers"))
            metrics = mention.metrics or {}
            shares = max(0, int(metrics.get("reposts", 0) or 0)) + max(
                0, int(metrics.get("replies", 0) or 0)
            )
            if shares >= 10:
                spread = min(5.0, 2.0 * math.log10(shares))
                boost += spread
                reasons.append((spread, f"{_compact(shares)} reposts and replies"))
            if repeat:
                boost += 10
                reasons.append((10, "repeat complaint (24 h)"))
            boost = min(boost, float(MAX_BOOST))

        urgency = int(round(min(100.0, max(0.0, base + boost))))
        category = self._category(primary, folded)
        if _capture is not None and learn:
            _capture.append(category)  # the rules' category, for the category model
        if (
            self._model is not None
            and learn
            and self._model.categories is not None
            and urgency >= self.threshold
        ):
            category = self._model.categories.category(unmuted, category)
        reasons.sort(key=lambda r: -r[0])
        return Score(
            urgency=urgency,
            urgent=urgency >= self.threshold,
            category=category,
            sentiment=round(compound, 2),
            reasons=[text for _, text in reasons[:3]],
        )

    # --- parts ----------------------------------------------------------------------------------

    def _sentiment(self, text: str) -> float:
        excerpt = _bounded(text, _VADER_HEAD, _VADER_TAIL)
        if not excerpt.strip():
            return 0.0
        return float(self._analyzer.polarity_scores(excerpt)["compound"])

    def _hits(
        self, folded: str, named: bool = True, negated_hits: list[_Hit] | None = None
    ) -> list[_Hit]:
        """The cue matches in ``folded``; those a negation cancelled go to ``negated_hits``."""
        muted: list[tuple[int, int]] = []
        if self._muted is not None:
            muted = [m.span() for m in self._muted.finditer(folded)]
        names: list[tuple[int, int]] = []
        # a name can only be there if the first word of one is (a cheap test first)
        if self._names is not None and named and any(head in folded for head in self._name_heads):
            names = [m.span() for m in self._names.finditer(folded)]
        hits: list[_Hit] = []
        # Matches may overlap ("still no tracking" is a repeat cue and a delivery cue), so the
        # search resumes one character after each match start; a match inside an earlier one
        # of the same family is dropped below.
        search = self._master.search
        if self._master_com_source is not None and ".com" in folded:
            if self._master_com is None:
                self._master_com = re.compile(self._master_com_source)
            search = self._master_com.search
        pos = 0
        while True:
            match = search(folded, pos)
            if match is None:
                break
            start, end = match.span()
            pos = start + 1
            if any(s < end and start < e for s, e in muted):
                continue  # a muted phrase overlaps this cue
            if any(s <= start and end <= e for s, e in names):
                continue  # the cue is part of the brand's or a product's name
            text = match.group()
            cue_list = self._readings.get(text)
            if cue_list is None:
                cue_list = self._reading(text)
            if not cue_list:
                continue
            negated = _negated(folded, start)
            for cue in cue_list:
                if cue.negatable and negated:
                    if negated_hits is not None:
                        negated_hits.append(_Hit(cue, start, end))
                    continue
                if any(h.cue.family == cue.family and h.end >= end for h in hits[-4:]):
                    continue  # part of a longer cue of the same family
                hits.append(_Hit(cue, start, end))
        return hits

    def _unmuted(self, folded: str) -> str:
        """The text the learned half reads: muted phrases blanked out, and the brand's handles,
        products and names as the words zhandle, zproduct and zbrand."""
        if self._muted is not None:
            folded = self._muted.sub(lambda m: " " * len(m.group()), folded)
        for rx, word in self._placeholders:
            folded = rx.sub(word, folded)
        return folded

    def _thankful(self, folded: str) -> re.Match[str] | None:
        """The first thankful or resolved words that really say so: not a request for future
        help ("I would be very grateful for advice"), and not "no longer" / "anymore" said of
        something that stopped working ("it doesn't charge anymore", "can no longer log in")."""
        thanks = self._thanks.finditer(folded) if any(w in folded for w in _THANKS_WORDS) else ()
        for match in thanks:
            if not _FUTURE_THANKS.search(folded, max(0, match.start() - 30), match.start()):
                return match
        for match in self._resolved.finditer(folded):
            if match.group() in _LOST_WORDS and _lost_function(folded, match):
                continue
            return match
        return None

    def _reading(self, text: str) -> tuple[_Cue, ...]:
        """The cues a matched text reads as: the heaviest of each family. The answer depends on
        the text alone, so it is remembered (a bounded memo: matched phrases repeat a lot)."""
        by_first = self._by_first
        candidates = by_first.get(text[:2], []) + by_first.get(text[0], []) + by_first.get("*", [])
        cue_list = [c for c in candidates if c.regex.fullmatch(text)]
        if not cue_list:
            cue_list = [c for c in self._cues if c.regex.fullmatch(text)]
        seen: set[str] = set()
        cue_list.sort(key=lambda c: -c.weight)
        reading = tuple(c for c in cue_list if not (c.family in seen or seen.add(c.family)))
        if len(self._readings) < 20_000:
            self._readings[text] = reading
        return reading

    def _intensity(self, text: str) -> tuple[float, str]:
        score = 0.0
        why = ""
        head = text[:2000]
        if _CAPS_WORD.search(head):  # else no word is in capitals (the common case, cheaply)
            words = _LETTER_WORD.findall(head)
            caps = [w for w in words if w.isupper()]
            if len(words) >= 3 and len(caps) >= 0.6 * len(words):
                score, why = 12.0, "shouting (capitals)"
            elif len(caps) >= 2 and any(len(w) >= 4 for w in caps):
                score, why = 6.0, "shouting (capitals)"
        if not text.isascii() and _ANGRY_EMOJI.search(text):
            score += 8
            why = why or "angry emoji"
        # (a run of '!' and '?' has two of them side by side: test for those first, cheaply)
        if ("!!" in text or "??" in text or "!?" in text or "?!" in text) and _BANGS.search(text):
            score += 5
            why = why or "'!!!'"
        return min(score, 18.0), why

    def _category(self, primary: list[tuple[float, str, _Hit]], folded: str) -> str:
        if not primary:
            return "other"
        best_value = primary[0][0]
        choices = [p for p in primary if p[1] != "complaint"]
        if not choices:
            return "other"
        # safety and legal win when present with real weight; churn only when alone
        for family in ("safety", "legal"):
            for value, fam, _hit in choices:
                if fam == family and value >= 50:
                    return _CATEGORY_OF[family]
        # an account takeover is the headline; the purchases made with it follow from it
        if any(fam == "account" and value >= 50 for value, fam, _hit in choices) and (
            _TAKEOVER.search(folded)
        ):
            return "account"
        top = max(p[0] for p in choices)
        if top < 0.5 * best_value:
            return "other"
        near = [p for p in choices if p[0] >= top - 5]
        near.sort(key=lambda p: _order(p[1]))
        value, family, hit = near[0]
        if family == "broken":
            return self._broken_category(folded)
        if family == "topic":
            return hit.cue.category or "other"
        if family == "custom":
            category = hit.cue.category
            if category == "broken":
                return self._broken_category(folded)
            if category:
                return category
            return "product" if self._product and self._product.search(folded) else "other"
        return _CATEGORY_OF.get(family, "other")

    def _topic_trouble(
        self, folded: str, source: str | None = None
    ) -> tuple[float, str, _Hit] | None:
        """The best topic + trouble match: a topic word with a trouble marker in its sentence or
        a neighbouring one (within 120 characters). Value 50, +8 for each further kind of
        trouble (at most +16), +5 for a request for help, +5 for a post in the first person;
        none when the topic sits in a hypothetical or a how-to question, x0.6 when the post
        is a review or a guide."""
        found = list(self._topic.finditer(folded))
        if "$" in folded or "\u00a3" in folded or "\u20ac" in folded:
            found += self._topic_sign.finditer(folded)
            found.sort(key=lambda m: m.start())
        if not found:
            return None
        topics: list[tuple[int, int, str]] = []
        for match in found:
            text = match.group()
            kind = next((c for c, rx in self._topic_kind if rx.fullmatch(text)), "product")
            topics.append((match.start(), match.end(), kind))
        troubles: list[tuple[int, int, str]] = []
        for match in self._trouble.finditer(folded):
            text = match.group()
            kind = next((k for k, rx in self._trouble_kind if rx.fullmatch(text)), "broken")
            troubles.append((match.start(), match.end(), kind))
        starts = [t[0] for t in troubles]
        bounds = [m.end() for m in _SENTENCE_END.finditer(folded)]
        first_person = 5.0 if _FIRST_PERSON.search(folded) else 0.0
        newline = folded.find("\n")
        genre = _GENRE.search(folded, 0, newline if 0 < newline < 150 else 150) is not None
        best: tuple[float, str, _Hit] | None = None
        for n, (t_start, t_end, category) in enumerate(topics):
            if (
                source is not None
                and source[t_start].isupper()
                and self._after_brand.search(folded, max(0, t_start - 20), t_start)
            ):
                continue  # "Acme Pay", "Acme Delivery": the name of a line of business
            if n + 1 < len(topics) and 0 <= topics[n + 1][0] - t_end <= 1:
                continue  # a modifier ("tracking page"): the head noun that follows decides
            i = bisect.bisect_right(bounds, t_start)
            sentence = bounds[i - 1] if i else 0
            lo = max(bounds[i - 2] if i >= 2 else 0, t_start - 120)
            nxt = bounds[i + 1] if i + 1 < len(bounds) else len(folded)
            hi = min(nxt, t_end + 120)
            kinds: dict[str, tuple[int, int]] = {}
            for j in range(bisect.bisect_left(starts, lo), bisect.bisect_left(starts, hi)):
                m_start, m_end, kind = troubles[j]
                if m_start < t_end and t_start < m_end:
                    continue  # the topic word itself
                if kind == "broken" and _negated(folded, m_start):
                    continue  # "no problems", "not broken"
                kinds.setdefault(kind, (m_start, m_end))
            # "no parcel" is trouble; "not cancelling", "no fire" are not
            if (
                category in _OBJECTS
                and (category != "outage" or _SUPPLY.fullmatch(folded, t_start, t_end))
                and _ABSENT.search(folded, max(lo, t_start - 25), t_start)
            ):
                kinds.setdefault("failed", (t_start, t_end))
            if category == "churn":
                # two leaving words together are a decision ("cancelling and moving elsewhere")
                other = next(
                    (
                        (a, b)
                        for a, b, kind in topics
                        if kind == "churn" and lo <= a < hi and a != t_start
                    ),
                    None,
                )
                if other:
                    kinds.setdefault("decided", other)
            strong = [k for k in kinds if k not in _WEAK_KINDS]
            if not strong:
                continue
            value = 50.0 + 8.0 * min(len(strong) - 1 + ("often" in kinds), 2) + first_person
            if "ask" in kinds:
                value += 5
            if _HYPOTHETICAL.search(folded, sentence, t_start):
                continue  # "if I cancel", "how do I change the address on my order"
            if genre:
                value *= 0.6
            if best is None or value > best[0]:
                near = min((kinds[k] for k in strong), key=lambda s: abs(s[0] - t_start))
                start, end = min(near[0], t_start), max(near[1], t_end)
                best = (value, "topic", _Hit(self._topic_cues[category], start, end))
        return best

    def _broken_category(self, folded: str) -> str:
        if self._product is not None and self._product.search(folded):
            return "product"
        if self._device.search(folded):
            return "product"
        if self._service.search(folded):
            return "outage"
        return "product"


# --- helpers -----------------------------------------------------------------------------------


def _order(family: str) -> int:
    try:
        return _CATEGORY_ORDER.index(family)
    except ValueError:
        return len(_CATEGORY_ORDER)


def _word_regex(patterns: list[str]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    alternation = "|".join(sorted(patterns, key=len, reverse=True))
    return re.compile(r"(?<!\w)(?:" + alternation + r")(?!\w)")


def _bounded(text: str, head: int, tail: int) -> str:
    if len(text) <= head + tail:
        return text
    return text[:head] + "\n" + text[-tail:]


def _blank_name(match: re.Match[str]) -> str:
    return match.group(1) + " " * len(match.group(2))


def _contrast_then_cue(folded: str, polite, primary: list) -> bool:
    """Is there a contrast word after the thankful or praising words, with a complaint cue
    (not a mere complaint word) after those words?"""
    anchor = polite.end() if isinstance(polite, re.Match) else 0
    if not any(hit.end > anchor for _v, family, hit in primary if family != "complaint"):
        return False
    return _CONTRAST.search(folded, anchor) is not None


def _lost_function(folded: str, match: re.Match[str]) -> bool:
    """Does "no longer" / "anymore" say that something stopped working or can no longer be
    done ("the case no longer sits flat", "the keys don't click anymore"), rather than that a
    problem stopped ("no longer crashes", "not broken anymore")?"""
    if match.group() == "no longer":
        return _AFTER_NO_LONGER.match(folded, match.end()) is None
    window = folded[max(0, match.start() - 50) : match.start()]
    breaks = list(_CLAUSE_BREAK.finditer(window))
    if breaks:
        window = window[breaks[-1].end() :]
    negated = _NEGATED_WORD.search(window)
    return negated is not None and _PROBLEM.search(negated.group(1)) is None


def _negated(folded: str, start: int) -> bool:
    """A negation word among the three words before `start`, within the same clause."""
    window = folded[max(0, start - 40) : start]
    breaks = list(_CLAUSE_BREAK.finditer(window))
    if breaks:
        window = window[breaks[-1].end() :]
    for token in _TOKEN.findall(window)[-3:]:
        if token in _NEGATORS or token.endswith("n't") or token in ("dont", "didnt", "doesnt"):
            return True
    return False


def _quote_span(source: str, start: int, end: int) -> str:
    text = _SPACES.sub(" ", source[start:end]).strip().replace("'", "\u2019")
    if len(text) > MAX_QUOTE:
        text = text[: MAX_QUOTE - 1].rstrip() + "\u2026"
    return f"'{text}'"


def _quote(source: str, hit: _Hit) -> str:
    return _quote_span(source, hit.start, hit.end)


def _quoted_words(words: list[str]) -> str:
    return ", ".join(f"'{w}'" for w in words)


def _signed(value: float) -> str:
    text = f"{value:+.2f}"
    return text.replace("-", MINUS).lstrip("+")


def _compact(count: int) -> str:
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f}".rstrip("0").rstrip(".") + "M"
    if count >= 10_000:
        return f"{count // 1000}k"
    if count >= 1000:
        return f"{count / 1000:.1f}".rstrip("0").rstrip(".") + "k"
    return str(count)
