"""Train the learned half of the urgency score (``bot/learned.py``) and choose its cut.

    python bench/train_urgency.py [--no-write] [--config NAME]

Training data: the labelled sets in ``TRAIN`` (never the test sets in ``TEST``, which are only
ever scored as a whole by ``bench/score_eval.py --eval``). The rules in ``bot/scoring.py`` were
tuned on the first three sets (they score ~0.99 there), so on those the rules' signals look far
more reliable than they are on new text. Choices are therefore made on the sets the rules were
never tuned on (``UNTUNED``), leave-one-set-out: train on every other training set, predict the
held-out one. For each config this prints the held-out recall / precision of the rules alone and
of the model at a range of probability cuts; it picks the config and the cut with the highest
pooled recall whose pooled precision is at least ``MIN_PRECISION`` (a margin over the goal of
0.85), pooling the realistic sets only (``eval_blind*``: the contrast sets of minimal pairs
train the model and are shown, but are not the traffic a support team sees), then fits that
config on all training sets and writes ``bot/data/urgency_model.json`` with the cut in it.
Deterministic (fixed seed and epochs).

The stack (the second stage, over the text model's logit and the rules' signals) is fitted on
the text model's held-out logits of the untuned sets only. The category model is trained on the
truly urgent mentions of every training set; its leave-one-set-out accuracy is printed next to
the rules'.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.score_eval import BRAND, TRIAGE, load_eval, metrics  # noqa: E402
from bot.learned import (  # noqa: E402
    DEFAULT_MODEL_PATH,
    UrgencyModel,
    fit_stack,
    stack_inputs,
    text_features,
    train,
    train_categories,
)
from bot.scoring import CATEGORIES, Scorer  # noqa: E402

TUNED = ("eval_mentions.jsonl", "eval_blind.jsonl", "eval_blind2.jsonl")
UNTUNED = tuple(
    f"eval_blind{n}.jsonl" for n in (3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 16, 17)
) + tuple(f"eval_contrast{n}.jsonl" for n in (1, 2, 3))  # (blind 14 and 15 are the test sets)
TRAIN = TUNED + UNTUNED
TEST = ("eval_blind14.jsonl", "eval_blind15.jsonl")  # (6 and 7 were, until scored once)
MIN_PRECISION = 0.88
GRID = [round(0.20 + 0.025 * i, 3) for i in range(29)]  # 0.20 .. 0.90
CONFIGS = {
    "short-3seeds": {"epochs": 15, "rate": 0.5, "l2": 1e-4, "seeds": 3},
    "words-3seeds": {"epochs": 15, "rate": 0.5, "l2": 1e-4, "seeds": 3, "grams": False},
}

# (inputs or None, rule urgency, urgent?, rules' category, true category);
# inputs = (unmuted folded text, the rules' signals)
Row = tuple


def load_set(scorer: Scorer, name: str) -> list[Row]:
    rows = []
    for mention, label in load_eval(ROOT / "bench" / name):
        captured: list = []
        score = scorer.score(mention, _capture=captured)
        inputs = captured[0] if captured else None
        rows.append(
            (inputs, score.urgency, bool(label["urgent"]), score.category, label["category"])
        )
    return rows


def text_model(data: dict[str, list[Row]], names: list[str], config: dict) -> UrgencyModel:
    config = dict(config)
    grams = config.pop("grams", True)
    pool = [
        (text_features(inputs[0], grams), inputs[1], label)
        for name in names
        for inputs, _u, label, *_ in data[name]
        if inputs is not None
    ]
    model = train(pool, **config)
    return UrgencyModel(model.weights, model.dense, model.bias, grams=grams)


def stack_rows(model: UrgencyModel, rows: list[Row]) -> list:
    """(stack inputs or None, rule urgency, label) for each row, the text logit from ``model``."""
    out = []
    for inputs, urgency, label, *_ in rows:
        if inputs is None:
            out.append((None, urgency, label))
        else:
            z = model.text_logit(inputs[0], inputs[1])
            out.append((stack_inputs(z, inputs[1]), urgency, label))
    return out


def probability(weights: dict[str, float], bias: float, inputs: dict[str, float]) -> float:
    z = bias + sum(weights.get(k, 0.0) * v for k, v in inputs.items())
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def category_rows(rows: list[Row]) -> list[tuple[str, str, str]]:
    """(text, rules' category, true category) of the truly urgent rows the model reads."""
    return [(r[0][0], r[3], r[4]) for r in rows if r[0] is not None and r[2]]


def category_model(data: dict[str, list[Row]], present: list[str], untuned: list[str]):
    """Category accuracy on truly urgent mentions, rules against the category model
    (leave-one-set-out over the untuned sets); returns the model fitted on every set."""
    right_rules = right_model = total = 0
    for name in untuned:
        train_rows = [r for n in present if n != name for r in category_rows(data[n])]
        model = train_categories(train_rows, CATEGORIES)
        for text, rule_cat, truth in category_rows(data[name]):
            total += 1
            right_rules += rule_cat == truth
            right_model += model.category(text, rule_cat) == truth
    print(
        f"\nCategory of truly urgent mentions, leave-one-set-out over the untuned sets ({total}):"
        f" rules {right_rules / total:.3f}, category model {right_model / total:.3f}"
    )
    return train_categories(
        [r for n in present for r in category_rows(data[n])], CATEGORIES
    )


def decide(u: int, p: float | None, cut: float) -> bool:
    return u >= 60 if p is None else p >= cut


def fmt(m: dict) -> str:
    return f"R {m['recall']:.3f} P {m['precision']:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-write", action="store_true", help="do not write the model")
    parser.add_argument("--config", choices=sorted(CONFIGS), default=None)
    args = parser.parse_args()

    scorer = Scorer(BRAND, TRIAGE, model=None)  # the rules alone
    present = [n for n in TRAIN if (ROOT / "bench" / n).exists()]
    data = {name: load_set(scorer, name) for name in present}
    untuned = [n for n in UNTUNED if n in data]
    configs = {args.config: CONFIGS[args.config]} if args.config else CONFIGS
    print(f"training sets: {', '.join(present)}; choosing on: {', '.join(untuned)}")

    best = None  # ((recall, precision), config name, cut)
    for cname, config in configs.items():
        # the text model's held-out logits on each untuned set (trained on every other set)
        oof = {}
        for name in untuned:
            others = [n for n in present if n != name]
            oof[name] = stack_rows(text_model(data, others, config), data[name])
        # the stack, leave-one-set-out over the untuned sets
        held: dict[str, list] = {}
        for name in untuned:
            fit_rows = [(i, y) for n in untuned if n != name for i, _u, y in oof[n] if i]
            weights, bias = fit_stack(fit_rows)
            held[name] = [
                (y, u, None if i is None else probability(weights, bias, i))
                for i, u, y in oof[name]
            ]
        # the cut is chosen on the realistic sets; the contrast sets (minimal pairs, half
        # urgent by construction) train the model and are shown, but are not the traffic a
        # support team sees
        pooled = [r for name in untuned if "blind" in name for r in held[name]]
        print(f"\n== {cname} {config}: leave-one-set-out over the untuned sets")

        def line(title, decide_row, held=held, pooled=pooled):
            cells = "  ".join(
                f"{n.removesuffix('.jsonl')}: "
                f"{fmt(metrics([(r[0], decide_row(r)) for r in held[n]]))}"
                for n in untuned
            )
            m = metrics([(r[0], decide_row(r)) for r in pooled])
            print(f"  {title:<18}{cells}  pooled {fmt(m)}", end="")
            return m

        line("rules alone", lambda r: r[1] >= 60)
        print()
        for cut in GRID:
            m = line(f"stack p >= {cut}", lambda r, cut=cut: decide(r[1], r[2], cut))
            if m["precision"] >= MIN_PRECISION:
                key = (m["recall"], m["precision"])
                if best is None or key > best[0]:
                    best = (key, cname, cut)
                    print("  <- best so far", end="")
            print()

    if best is None:
        print(f"\nNo config reaches pooled precision {MIN_PRECISION}; nothing written.")
        return
    (recall, precision), cname, cut = best
    print(
        f"\nChosen: {cname}, cut {cut} (pooled leave-one-set-out R {recall:.3f} P {precision:.3f})"
    )
    config = CONFIGS[cname]
    final = text_model(data, present, config)
    oof_rows = [
        (i, y)
        for name in untuned
        for i, _u, y in stack_rows(
            text_model(data, [n for n in present if n != name], config), data[name]
        )
        if i
    ]
    weights, bias = fit_stack(oof_rows)
    categories = category_model(data, present, untuned)
    model = UrgencyModel(
        final.weights,
        final.dense,
        final.bias,
        weights,
        bias,
        cut,
        tuple(present),
        categories,
        final.grams,
    )
    print("stack:", {k: round(v, 2) for k, v in sorted(weights.items())}, round(bias, 2))
    if not args.no_write:
        model.save(DEFAULT_MODEL_PATH)
        size = DEFAULT_MODEL_PATH.stat().st_size
        print(
            f"Wrote {DEFAULT_MODEL_PATH.relative_to(ROOT)}: {len(model.weights)} text weights, "
            f"{len(model.stack)} stack weights, {size / 1024:.0f} KB"
        )


if __name__ == "__main__":
    main()
