"""A small learned urgency signal: logistic regression over word and character n-grams.

The rule scorer (``bot.scoring``) is precise but its phrase tables miss wordings nobody wrote
down. This model reads the same text as bag-of-features (lower-cased, accent-folded word unigrams
and bigrams, character 3-5-grams inside each word for typos and other languages) plus a few dense
features from the rules (their urgency and VADER's compound), and gives the probability that the
mention is an urgent complaint. It is trained by ``bench/train_urgency.py`` and stored as JSON
(only features with a non-zero weight, keyed by the feature string), so inference is a few
hundred dictionary look-ups. Pure standard library; deterministic.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEFAULT_MODEL_PATH", "UrgencyModel", "features", "train"]

DEFAULT_MODEL_PATH = Path(__file__).resolve().parent / "urgency_model.json"  # not shipped
FORMAT = "mentionops-urgency-lr/2"
MAX_MODEL_CHARS = 2000  # the model reads a bounded excerpt, like VADER
_HEAD = 1500
_WORD = re.compile(r"[\w']+")
_MAX_WORD = 20


_fold_fn = None


def _fold(text: str) -> str:
    global _fold_fn
    if _fold_fn is None:  # imported lazily: bot.scoring imports this module
        from bot.scoring import fold

        _fold_fn = fold
    return _fold_fn(text)


def _grams(word: str) -> frozenset[str]:
    """The character 3-5-grams of <word> (cached: words repeat, and this is the costly part)."""
    grams = _GRAMS.get(word)
    if grams is None:
        p = "<" + word[:_MAX_WORD] + ">"
        grams = frozenset([p[i : i + n] for n in (3, 4, 5) for i in range(len(p) - n + 1)])
        if len(_GRAMS) >= _GRAMS_MAX:
            _GRAMS.clear()
        _GRAMS[word] = grams  # whole entries only, so sharing between threads stays safe
    return grams


_GRAMS: dict[str, frozenset[str]] = {}
_GRAMS_MAX = 50_000


def features(text: str) -> set[str]:
    """The distinct text features of ``text``: w:word, b:word word, and the character 3-5-grams
    of each word padded as <word> (no prefix: a gram never contains ':')."""
    if len(text) > MAX_MODEL_CHARS:
        text = text[:_HEAD] + " " + text[-(MAX_MODEL_CHARS - _HEAD) :]
    words = [w for w in (w.strip("'") for w in _WORD.findall(_fold(text))) if w]
    found: set[str] = set(["w:" + w for w in words])
    found.update(["b:" + a + " " + b for a, b in zip(["<s>", *words], words, strict=False)])
    found.update(*map(_grams, words))
    return found


def dense(rule_urgency: float, compound: float) -> dict[str, float]:
    """Dense features from the rule scorer."""
    return {
        "d:rule": rule_urgency / 100.0,
        "d:rule60": 1.0 if rule_urgency >= 60 else 0.0,
        "d:none": 1.0 if rule_urgency <= 0 else 0.0,
        "d:neg": max(0.0, -compound),
        "d:pos": max(0.0, compound),
    }


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@dataclass(frozen=True)
class UrgencyModel:
    """Logistic regression weights; ``probability`` is pure and thread-safe."""

    weights: dict[str, float]
    bias: float

    def probability(self, text: str, rule_urgency: float, compound: float) -> float:
        feats = features(text)
        get = self.weights.get
        scale = 1.0 / math.sqrt(len(feats)) if feats else 0.0
        z = self.bias + scale * sum(filter(None, map(get, feats)))
        for name, value in dense(rule_urgency, compound).items():
            if value:
                z += get(name, 0.0) * value
        return _sigmoid(z)

    def to_json(self) -> dict:
        return {
            "format": FORMAT,
            "bias": round(self.bias, 5),
            "weights": {k: round(v, 4) for k, v in sorted(self.weights.items())},
        }

    def save(self, path: Path) -> None:
        path.write_text(
            json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":")),
            encoding="utf-8",
        )

    @classmethod
    def load(cls, path: Path | str = DEFAULT_MODEL_PATH) -> UrgencyModel:
        """Read a model file; raises OSError or ValueError when it is missing or malformed."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"{path}: not a {FORMAT} model")
        weights = data.get("weights")
        bias = data.get("bias")
        if not isinstance(weights, dict) or not isinstance(bias, int | float):
            raise ValueError(f"{path}: missing weights or bias")
        return cls({str(k): float(v) for k, v in weights.items()}, float(bias))


def train(
    examples: Sequence[tuple[str, float, float, bool]],
    *,
    epochs: int = 15,
    rate: float = 0.5,
    l2: float = 1e-4,
    seed: int = 13,
    min_count: int = 2,
    prune: float = 1e-3,
    use_dense: bool = True,
) -> UrgencyModel:
    """Fit by plain SGD with L2 (applied to the features an example touches), fixed seed.

    ``examples``: (text, rule urgency 0-100, VADER compound, urgent?). Text features seen in
    fewer than ``min_count`` examples are dropped; weights below ``prune`` are not stored.
    ``use_dense=False`` trains on the text alone (no rule or VADER features).
    """
    rows: list[tuple[list[str], float, dict[str, float], float]] = []
    counts: dict[str, int] = {}
    raw = []
    for text, urgency, compound, label in examples:
        feats = features(text)
        for f in feats:
            counts[f] = counts.get(f, 0) + 1
        raw.append((feats, urgency, compound, label))
    for feats, urgency, compound, label in raw:
        kept = [f for f in feats if counts[f] >= min_count]
        scale = 1.0 / math.sqrt(len(feats)) if feats else 0.0
        dn = {k: v for k, v in dense(urgency, compound).items() if v} if use_dense else {}
        rows.append((kept, scale, dn, 1.0 if label else 0.0))

    weights: dict[str, float] = {}
    bias = 0.0
    rng = random.Random(seed)
    order = list(range(len(rows)))
    for epoch in range(epochs):
        rng.shuffle(order)
        step = rate / (1.0 + epoch * 0.5)
        for index in order:
            kept, scale, dn, y = rows[index]
            z = bias + scale * sum(weights.get(f, 0.0) for f in kept)
            z += sum(weights.get(k, 0.0) * v for k, v in dn.items())
            g = _sigmoid(z) - y
            bias -= step * g
            for f in kept:
                w = weights.get(f, 0.0)
                weights[f] = w - step * (g * scale + l2 * w)
            for k, v in dn.items():
                w = weights.get(k, 0.0)
                weights[k] = w - step * (g * v + l2 * w)
    kept_weights = {k: v for k, v in weights.items() if abs(v) >= prune}
    return UrgencyModel(kept_weights, bias)


def probabilities(model: UrgencyModel, rows: Iterable[tuple[str, float, float]]) -> list[float]:
    return [model.probability(text, urgency, compound) for text, urgency, compound in rows]
