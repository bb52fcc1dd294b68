"""The learned half of the urgency score: logistic regression over words and the rules' signals.

The rule scorer (``bot.scoring``) is precise where its phrase tables reach, but people word
their trouble in endless ways ("it says delivered but nothing arrived", "small thing but my card
got charged 3 times?"). This model reads the same folded text as words and pairs of words,
together with what the rules saw (their urgency, which cue families matched, VADER's tone, a
thankful or resolved tone, news), and gives the probability that the mention needs a person now.
Because it sees the rules' signals it can also overrule them: "was locked out this morning but
support fixed it" has a cue and is not urgent.

Two stages: a text model (words, pairs of words, each word's character 4-grams and a few soft
signals such as VADER's tone) and a stack, a small logistic regression over the text model's
logit and the rules' signals. The brand's names, products and handles reach it as the words
zbrand, zproduct and zhandle, so nothing it learned is about one brand. A third small model
(``CategoryModel``) names the category of an urgent mention.

It is trained by ``bench/train_urgency.py`` on labelled mentions and stored as JSON in
``bot/data/urgency_model.json`` (only non-zero weights), so reading a mention is a few dozen
dictionary look-ups. Pure standard library, deterministic, immutable once loaded: one instance
may be shared between threads.
"""

from __future__ import annotations

import heapq
import json
import math
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

__all__ = [
    "DEFAULT_MODEL_PATH",
    "FORMAT",
    "MAX_MODEL_CHARS",
    "SOFT",
    "CategoryModel",
    "UrgencyModel",
    "fit_stack",
    "load_default",
    "model_text",
    "stack_inputs",
    "text_features",
    "train",
    "train_categories",
]

DEFAULT_MODEL_PATH = Path(__file__).resolve().parent / "data" / "urgency_model.json"
FORMAT = "mentionops-urgency/1"
MAX_MODEL_CHARS = 2000  # the model reads a bounded excerpt, like VADER
_HEAD = 1500
_WORD = re.compile(r"\w+")
_MAX_WORD = 20


def model_text(folded: str) -> str:
    """The bounded excerpt the model reads: the head and the tail of a long text."""
    if len(folded) > MAX_MODEL_CHARS:
        return folded[:_HEAD] + " " + folded[-(MAX_MODEL_CHARS - _HEAD) :]
    return folded


def _grams(word: str) -> list[str]:
    """The character 4-grams of <word> (padded, so the start and the end of a word count), each
    marked with a leading '#': they carry typos, plurals and other languages' endings."""
    p = "<" + word[:_MAX_WORD] + ">"
    return ["#" + p[i : i + 4] for i in range(len(p) - 3)]


def text_features(folded: str, grams: bool = True) -> list:
    """The features of an already folded (lower-cased, accent-free) text, repeats kept: each
    word, each pair of neighbouring words as a tuple (tuples hash fast and need no new string),
    and each word's character 4-grams."""
    words = _WORD.findall(model_text(folded))
    features: list = words + list(zip(words, words[1:], strict=False))
    if grams:
        for word in words:
            features += _grams(word)
    return features


def _key(feature) -> str:
    """A feature as it is stored in JSON: a word, or a pair joined by a space."""
    return feature if isinstance(feature, str) else " ".join(feature)


def _feature(key: str):
    return tuple(key.split(" ", 1)) if " " in key else key


# Words that tell a reader nothing on their own (a reason quotes only telling words).
_FUNCTION_WORDS = frozenset(
    (
        "a", "an", "the", "and", "or", "but", "if", "of", "to", "in", "on", "at", "by", "for",
        "from", "with", "as", "is", "are", "was", "were", "be", "been", "am", "it", "its", "this",
        "that", "these", "those", "i", "me", "my", "we", "our", "you", "your", "he", "she", "they",
        "them", "their", "his", "her", "there", "here", "what", "which", "who", "whom", "when",
        "where", "why", "how", "not", "no", "so", "do", "does", "did", "done", "have", "has", "had",
        "will", "would", "can", "could", "should", "just", "very", "too", "also", "than", "then",
        "now", "still", "all", "any", "some", "one", "two", "un", "una", "unos", "unas", "el", "la",
        "los", "las", "de", "del", "y", "o", "en", "con", "por", "para", "que", "es", "son", "mi",
        "mis", "su", "sus", "se", "lo", "le", "les", "des", "du", "et", "ou", "au", "aux", "ce",
        "cette", "est", "sont", "mon", "ma", "mes", "ton", "ta", "nous", "vous", "il", "elle",
        "ils", "pas", "der", "die", "das", "den", "dem", "des", "ein", "eine", "einen", "und",
        "oder", "ist", "sind", "mit", "von", "zu", "im", "am", "ich", "mein", "meine", "nicht",
        "es", "wir", "o", "os", "as", "um", "uma", "do", "da", "dos", "das", "e", "com", "por",
        "para", "meu", "minha", "nao", "il", "lo", "gli", "di", "da", "che", "non", "per", "sono",
        "ho", "ha",
    )
)


def _telling(word: str) -> bool:
    return len(word) >= 3 and word not in _FUNCTION_WORDS and not word.isdigit()


class _WordWeights(dict):
    """word -> the weight of the word plus its grams' weights, filled in on first use (whole
    entries only, so sharing between threads stays safe; bounded)."""

    def __init__(self, weights: Mapping, grams: bool) -> None:
        super().__init__()
        self._weights = weights
        self._grams = grams

    def __missing__(self, word: str) -> float:
        get = self._weights.get
        value = get(word, 0.0)
        if self._grams:
            value += sum(get(g, 0.0) for g in _grams(word))
        if len(self) >= 100_000:
            self.clear()
        self[word] = value
        return value


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


# The signals a text model may weigh next to the words. The rules' own verdict (their urgency,
# cue families, damping) is left to the second stage: the rules were tuned on some of the
# training text, where their verdict looks better than it is on new text.
SOFT = frozenset(("neg", "pos", "question", "speaker", "handle", "intensity", "short"))


@dataclass(frozen=True)
class UrgencyModel:
    """Two stages. The text model: weights of word features (``weights``) and of a few soft
    signals (``dense``, keys in ``SOFT``) plus ``bias``. The stack: a logistic regression over
    the text model's logit (key ``text``) and the rules' signals (``stack``, ``stack_bias``).
    ``cut`` is where the final probability counts as urgent (chosen on held-out data)."""

    weights: Mapping[str, float]
    dense: Mapping[str, float]
    bias: float
    stack: Mapping[str, float] = field(default_factory=lambda: {"text": 1.0})
    stack_bias: float = 0.0
    cut: float = 0.5
    trained_on: tuple[str, ...] = field(default=())
    categories: CategoryModel | None = None
    grams: bool = True  # whether words' character 4-grams are features
    # word -> its weight plus its grams' weights (see text_logit)
    _words: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_words", _WordWeights(self.weights, self.grams))

    def text_logit(self, folded: str, dense: Mapping[str, float]) -> float:
        """The text model's logit: the words of ``folded`` and the soft signals only. (The
        same sum as over ``text_features(folded)``, but each word's own weight and its grams'
        are added up once and remembered, so a word costs one look-up.)"""
        z = self.bias
        words = _WORD.findall(model_text(folded))
        if words:
            # features: each word, its min(len, 20) - 1 grams, and the len(words) - 1 pairs
            if not self.grams:
                count = 2 * len(words) - 1
            elif max(map(len, words)) > _MAX_WORD:
                count = sum(min(len(w), _MAX_WORD) for w in words) + len(words) - 1
            else:
                count = sum(map(len, words)) + len(words) - 1
            total = sum(map(self._words.__getitem__, words))
            total += sum(filter(None, map(self.weights.get, zip(words, words[1:], strict=False))))
            z += total / math.sqrt(count)
        weight = self.dense.get
        for name in SOFT:
            value = dense.get(name)
            if value:
                z += weight(name, 0.0) * value
        return z

    def logit(self, folded: str, dense: Mapping[str, float]) -> float:
        """The final logit: the stack over the text model's logit and the rules' signals."""
        stack = self.stack
        z = self.stack_bias + stack.get("text", 0.0) * self.text_logit(folded, dense)
        for name, value in dense.items():
            if value and name not in SOFT:
                z += stack.get(name, 0.0) * value
        return z

    def probability(self, folded: str, dense: Mapping[str, float]) -> float:
        return _sigmoid(self.logit(folded, dense))

    def urgency(self, z: float, threshold: float = 60.0) -> float:
        """0-100 from a logit, placed so that probability ``cut`` lands on ``threshold``."""
        t = min(max(threshold, 1.0), 99.0) / 100.0
        return 100.0 * _sigmoid(z - _logit(self.cut) + _logit(t))

    def strongest(
        self, folded: str, *, sign: int, limit: int = 2, names: frozenset[str] = frozenset()
    ) -> list[str]:
        """The words and pairs of words of ``folded`` pulling hardest one way (+1 towards
        urgent, -1 away), as a reader would find them telling: no word of ``names`` (the
        brand's), no lone function word or number, no pair of them."""
        get = self.weights.get
        words = _WORD.findall(model_text(folded))
        feats: set = {w for w in words if _telling(w) and w not in names}
        feats.update(
            (a, b)
            for a, b in zip(words, words[1:], strict=False)
            if (_telling(a) or _telling(b)) and a not in names and b not in names
        )
        scored = [(w, f) for f in feats if (w := get(f, 0.0) * sign) > 0]
        # (the few heaviest, then in a fixed order: a set's order changes between runs)
        scored = heapq.nlargest(4 * limit, scored, key=itemgetter(0))
        scored = sorted(((w, _key(f)) for w, f in scored), key=lambda p: (-p[0], p[1]))
        picked: list[str] = []
        for _w, text in scored:
            if any(text in p or p in text for p in picked):
                continue
            picked.append(text)
            if len(picked) == limit:
                break
        return picked

    def to_json(self) -> dict:
        return {
            "format": FORMAT,
            "bias": round(self.bias, 5),
            "stack_bias": round(self.stack_bias, 5),
            "stack": {k: round(v, 5) for k, v in sorted(self.stack.items())},
            "cut": round(self.cut, 4),
            "trained_on": list(self.trained_on),
            "grams": self.grams,
            "categories": self.categories.to_json() if self.categories else None,
            "dense": {k: round(v, 5) for k, v in sorted(self.dense.items())},
            "weights": {
                k: round(v, 4) for k, v in sorted((_key(f), w) for f, w in self.weights.items())
            },
        }

    def save(self, path: Path) -> None:
        path.write_text(
            json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":")) + "\n",
            encoding="utf-8",
        )

    @classmethod
    def load(cls, path: Path | str = DEFAULT_MODEL_PATH) -> UrgencyModel:
        """Read a model file; raises OSError or ValueError when it is missing or malformed."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"{path}: not a {FORMAT} model file")
        weights, dense, bias, cut, stack, stack_bias = (
            data.get(k) for k in ("weights", "dense", "bias", "cut", "stack", "stack_bias")
        )
        if (
            not isinstance(weights, dict)
            or not isinstance(dense, dict)
            or not isinstance(stack, dict)
            or not isinstance(bias, int | float)
            or not isinstance(stack_bias, int | float)
            or not isinstance(cut, int | float)
            or not 0.0 < cut < 1.0
        ):
            raise ValueError(f"{path}: weights, stack, bias or cut missing or out of range")
        return cls(
            {_feature(str(k)): float(v) for k, v in weights.items()},
            {str(k): float(v) for k, v in dense.items()},
            float(bias),
            {str(k): float(v) for k, v in stack.items()},
            float(stack_bias),
            float(cut),
            tuple(str(s) for s in data.get("trained_on", ())),
            CategoryModel.from_json(data["categories"]) if data.get("categories") else None,
            bool(data.get("grams", True)),
        )


_DEFAULT: list[UrgencyModel] = []


def load_default() -> UrgencyModel:
    """The model shipped with mentionops (read once per process)."""
    if not _DEFAULT:
        _DEFAULT.append(UrgencyModel.load(DEFAULT_MODEL_PATH))
    return _DEFAULT[0]


def train(
    examples: Sequence[tuple[list, Mapping[str, float], bool]],
    *,
    epochs: int = 15,
    rate: float = 0.5,
    l2: float = 1e-4,
    seed: int = 13,
    min_count: int = 2,
    prune: float = 1e-3,
    seeds: int = 1,
) -> UrgencyModel:
    """Fit the text model by plain SGD with L2 (applied to the features an example touches),
    fixed seed; its stack is the identity (see ``fit_stack``).

    ``examples``: (text features, signals, urgent?); only the ``SOFT`` signals are used. Text
    features seen in fewer than ``min_count`` examples are dropped; weights below ``prune`` are
    not stored. With ``seeds`` > 1 the weights of that many runs (seeds ``seed``, ``seed`` + 1,
    ...) are averaged: for a linear model that is the average of their logits, at no cost when
    scoring. ``cut`` is left at 0.5: the trainer chooses it on held-out predictions.
    """
    counts: dict[str, int] = {}
    for feats, _dense, _label in examples:
        for f in feats:
            counts[f] = counts.get(f, 0) + 1
    rows = []
    for feats, dense, label in examples:
        kept = [f for f in feats if counts[f] >= min_count]
        scale = 1.0 / math.sqrt(len(feats)) if feats else 0.0
        soft = {k: v for k, v in dense.items() if v and k in SOFT}
        rows.append((kept, scale, soft, 1.0 if label else 0.0))

    weights: dict = {}
    dense_w: dict[str, float] = {}
    bias = 0.0
    for run in range(seeds):
        w_run, d_run, b_run = _sgd(rows, epochs, rate, l2, seed + run)
        for k, v in w_run.items():
            weights[k] = weights.get(k, 0.0) + v / seeds
        for k, v in d_run.items():
            dense_w[k] = dense_w.get(k, 0.0) + v / seeds
        bias += b_run / seeds
    return UrgencyModel(
        {k: v for k, v in weights.items() if abs(v) >= prune},
        {k: v for k, v in dense_w.items() if abs(v) >= prune},
        bias,
    )


def _sgd(
    rows: list, epochs: int, rate: float, l2: float, seed: int, decay: float = 0.5
) -> tuple[dict, dict, float]:
    """Plain SGD for logistic regression with L2 on the features a row touches. A row is
    (text features, their scale, {signal: non-zero value}, label 0 or 1); the step is
    ``rate / (1 + epoch * decay)``. Returns the text weights, the signal weights and the bias."""
    weights: dict = {}
    dense_w: dict[str, float] = {}
    bias = 0.0
    rng = random.Random(seed)
    order = list(range(len(rows)))
    for epoch in range(epochs):
        rng.shuffle(order)
        step = rate / (1.0 + epoch * decay)
        for index in order:
            kept, scale, dn, y = rows[index]
            z = bias + scale * sum(weights.get(f, 0.0) for f in kept)
            z += sum(dense_w.get(k, 0.0) * v for k, v in dn.items())
            g = _sigmoid(z) - y
            bias -= step * g
            for f in kept:
                w = weights.get(f, 0.0)
                weights[f] = w - step * (g * scale + l2 * w)
            for k, v in dn.items():
                w = dense_w.get(k, 0.0)
                dense_w[k] = w - step * (g * v + l2 * w)
    return weights, dense_w, bias


def fit_stack(
    rows: Sequence[tuple[Mapping[str, float], bool]],
    *,
    epochs: int = 60,
    rate: float = 0.1,
    l2: float = 1e-3,
    seed: int = 13,
) -> tuple[dict[str, float], float]:
    """The stack's weights and bias: logistic regression over (inputs, urgent?) rows, where
    the inputs are the text model's held-out logit (``text``) and the rules' signals."""
    prepared = [
        ([], 0.0, {k: v for k, v in inputs.items() if v}, 1.0 if label else 0.0)
        for inputs, label in rows
    ]
    _text, weights, bias = _sgd(prepared, epochs, rate, l2, seed, decay=0.1)
    return weights, bias


def stack_inputs(text_logit: float, dense: Mapping[str, float]) -> dict[str, float]:
    """What the stack reads: the text model's logit and every signal that is not ``SOFT``."""
    inputs = {k: v for k, v in dense.items() if v and k not in SOFT}
    inputs["text"] = text_logit
    return inputs


@dataclass(frozen=True)
class CategoryModel:
    """Which category an urgent mention belongs to: a softmax regression over its words and
    pairs of words and the category the rules chose (feature ``rule:<category>``). ``weights``
    maps a feature to one weight per entry of ``labels``."""

    labels: tuple[str, ...]
    weights: Mapping[object, tuple[float, ...]]
    bias: tuple[float, ...]

    def scores(self, folded: str, rule_category: str) -> list[float]:
        words = _WORD.findall(model_text(folded))
        feats = [*words, *zip(words, words[1:], strict=False), "rule:" + rule_category]
        found = filter(None, map(self.weights.get, feats))
        # one column a label, summed in C (the same additions, in the same order, as a loop)
        return [sum(column) for column in zip(self.bias, *found, strict=True)]

    def category(self, folded: str, rule_category: str) -> str:
        totals = self.scores(folded, rule_category)
        return self.labels[max(range(len(totals)), key=totals.__getitem__)]

    def to_json(self) -> dict:
        return {
            "labels": list(self.labels),
            "bias": [round(b, 4) for b in self.bias],
            "weights": {
                _key(f): [round(v, 4) for v in vec]
                for f, vec in sorted(self.weights.items(), key=lambda p: _key(p[0]))
            },
        }

    @classmethod
    def from_json(cls, data: Mapping) -> CategoryModel:
        labels = tuple(str(x) for x in data["labels"])
        bias = tuple(float(x) for x in data["bias"])
        weights = {_feature(str(k)): tuple(float(x) for x in v) for k, v in data["weights"].items()}
        if len(bias) != len(labels) or any(len(v) != len(labels) for v in weights.values()):
            raise ValueError("category weights do not match its labels")
        return cls(labels, weights, bias)


def train_categories(
    examples: Sequence[tuple[str, str, str]],
    labels: Sequence[str],
    *,
    epochs: int = 20,
    rate: float = 0.3,
    l2: float = 1e-4,
    seed: int = 13,
    min_count: int = 2,
    prune: float = 1e-3,
) -> CategoryModel:
    """Softmax regression by SGD over (folded text, rules' category, true category) rows."""
    index = {label: i for i, label in enumerate(labels)}
    rows = []
    counts: dict = {}
    for folded, rule_category, truth in examples:
        words = _WORD.findall(model_text(folded))
        feats = [*words, *zip(words, words[1:], strict=False), "rule:" + rule_category]
        for f in set(feats):
            counts[f] = counts.get(f, 0) + 1
        rows.append((feats, index[truth]))
    rows = [([f for f in feats if counts[f] >= min_count], y) for feats, y in rows]
    k = len(labels)
    weights: dict = {}
    bias = [0.0] * k
    rng = random.Random(seed)
    order = list(range(len(rows)))
    for epoch in range(epochs):
        rng.shuffle(order)
        step = rate / (1.0 + epoch * 0.3)
        for i in order:
            feats, y = rows[i]
            totals = list(bias)
            for f in feats:
                vec = weights.get(f)
                if vec is not None:
                    totals = [t + v for t, v in zip(totals, vec, strict=True)]
            top = max(totals)
            exps = [math.exp(t - top) for t in totals]
            norm = sum(exps)
            grad = [e / norm for e in exps]
            grad[y] -= 1.0
            bias = [b - step * g for b, g in zip(bias, grad, strict=True)]
            for f in feats:
                vec = weights.get(f) or [0.0] * k
                weights[f] = [w - step * (g + l2 * w) for w, g in zip(vec, grad, strict=True)]
    kept = {f: tuple(v) for f, v in weights.items() if max(abs(x) for x in v) >= prune}
    return CategoryModel(tuple(labels), kept, tuple(bias))
