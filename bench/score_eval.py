"""Evaluate the urgency scorer and time it.

    python bench/score_eval.py [--eval PATH [PATH ...]] [--no-split]
                               [--show-errors [tuning|all]] [--tweets PATH]

Part 1, labelled eval sets (default `bench/eval_mentions.jsonl`; any JSON Lines file of Mentions
with a `"label": {"urgent": bool, "category": str}` works, brand Acme, threshold 60): recall,
precision and F1 of `urgent`, category accuracy on the truly urgent ones and confusion counts, for
the shipped scorer (rules + learned half), the rules alone and VADER alone (urgent iff compound <=
-0.05), per set and, for several sets, pooled. Unless `--no-split`, also for the held-out third
(every third line) and the tuning two-thirds. Where `bench/second_labels/<set name>` holds a
second labeller's labels, their agreement with the set's own and the scorer's figures against
them. `--show-errors` lists the misclassified mentions (of the tuning two-thirds, or `all`).

Part 2, VADER's 4,200 rated tweets (`id<TAB>mean rating -4..4<TAB>text`): Pearson and Spearman
correlation of urgency with the human rating (negative is right: the more negative a tweet, the
higher its urgency); mentions per second through `Scorer.score` and through the rules alone
against raw `polarity_scores` on the same texts, for the tweets and for every brand mention in
`bench/eval_*.jsonl`; and the time to score one 165 KB text.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # noqa: E402

from bot.config import Brand, Triage  # noqa: E402
from bot.models import Mention  # noqa: E402
from bot.scoring import Scorer  # noqa: E402

DEFAULT_EVAL = ROOT / "bench" / "eval_mentions.jsonl"
DEFAULT_TWEETS = Path("/work/shared/data/vader_tweets_ground_truth.txt")

BRAND = Brand(name="Acme", terms=("acme", "acme corp"), handles=("acme", "acmesupport"), exclude=())
TRIAGE = Triage(urgency_threshold=60, products=("Roadrunner", "Anvil Pro"))


def load_eval(path: Path) -> list[tuple[Mention, dict]]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                data = json.loads(line)
                rows.append((Mention.from_json(data), data["label"]))
    return rows


def metrics(pairs: list[tuple[bool, bool]]) -> dict[str, float]:
    tp = sum(1 for want, got in pairs if want and got)
    fp = sum(1 for want, got in pairs if not want and got)
    fn = sum(1 for want, got in pairs if want and not got)
    tn = sum(1 for want, got in pairs if not want and not got)
    recall = tp / (tp + fn) if tp + fn else 0.0
    precision = tp / (tp + fp) if tp + fp else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "recall": recall,
        "precision": precision,
        "f1": f1,
    }


def line(name: str, m: dict[str, float], cat: str = "") -> str:
    return (
        f"  {name:<22} recall {m['recall']:.3f}  precision {m['precision']:.3f}  "
        f"F1 {m['f1']:.3f}  (tp {m['tp']}, fp {m['fp']}, fn {m['fn']}, tn {m['tn']}){cat}"
    )


def second_labels(path: Path) -> dict[str, dict] | None:
    """A second labeller's labels for ``path`` (bench/second_labels/<name>), by mention id."""
    other = path.parent / "second_labels" / path.name
    if not other.exists():
        return None
    with other.open(encoding="utf-8") as handle:
        return {d["id"]: d for d in map(json.loads, filter(str.strip, handle))}


def part_eval(paths: list[Path], show_errors: str | None, split: bool = True) -> None:
    scorer = Scorer(BRAND, TRIAGE)
    rules = Scorer(BRAND, TRIAGE, model=None)
    analyzer = SentimentIntensityAnalyzer()
    pooled: list = []
    for path in paths:
        rows = load_eval(path)
        results = []
        for index, (mention, label) in enumerate(rows):
            score = scorer.score(mention)
            text = f"{mention.title}\n{mention.text}" if mention.title else mention.text
            vader = analyzer.polarity_scores(text)["compound"] <= -0.05
            results.append((index, mention, label, score, vader, rules.score(mention).urgent))
        pooled += results
        n_urgent = sum(1 for r in results if r[2]["urgent"])
        non_en = sum(1 for r in results if r[1].lang and r[1].lang != "en")
        print(
            f"Eval set: {path.name}: {len(rows)} mentions, {n_urgent} labelled urgent "
            f"({n_urgent / len(rows):.0%}), {non_en} with a non-English lang field, "
            f"threshold {TRIAGE.urgency_threshold}"
        )
        subsets = [("whole set", results)]
        if split:
            subsets += [
                ("held-out third (every 3rd line)", [r for r in results if r[0] % 3 == 2]),
                ("tuning two-thirds", [r for r in results if r[0] % 3 != 2]),
            ]
        for title, subset in subsets:
            report(title, subset)
        second = second_labels(path)
        if second is not None:
            agree(second, results)
        if show_errors:
            errors(results, every=show_errors == "all" or not split)
    if len(paths) > 1:
        print(f"All {len(paths)} sets pooled:")
        report("pooled", pooled)


def report(title: str, subset: list) -> None:
    m = metrics([(r[2]["urgent"], r[3].urgent) for r in subset])
    urgent = [r for r in subset if r[2]["urgent"]]
    right = sum(1 for r in urgent if r[3].category == r[2]["category"])
    share = right / len(urgent) if urgent else 0.0
    cat = f"; category right on {right}/{len(urgent)} urgent = {share:.3f}"
    print(f"{title} ({len(subset)} mentions, {len(urgent)} urgent):")
    print(line("Scorer", m, cat))
    print(line("rules alone", metrics([(r[2]["urgent"], r[5]) for r in subset])))
    print(line("VADER alone (<=-0.05)", metrics([(r[2]["urgent"], r[4]) for r in subset])))


def agree(second: dict[str, dict], results: list) -> None:
    pairs = [(r[2], second.get(r[1].external_id)) for r in results]
    if any(b is None for _, b in pairs):
        print("  second labels: ids do not match this set; skipped")
        return
    same = sum(1 for a, b in pairs if a["urgent"] == b["urgent"])
    both = [(a, b) for a, b in pairs if a["urgent"] and b["urgent"]]
    same_cat = sum(1 for a, b in both if a["category"] == b["category"])
    n = len(pairs)
    pa = sum(a["urgent"] for a, _ in pairs) / n
    pb = sum(b["urgent"] for _, b in pairs) / n
    expected = pa * pb + (1 - pa) * (1 - pb)
    kappa = (same / n - expected) / (1 - expected) if expected < 1 else 1.0
    print(
        f"  second labeller: agrees on urgent for {same}/{n} (Cohen's kappa {kappa:.3f}), "
        f"on category for {same_cat}/{len(both)} both-urgent"
    )
    m = metrics([(b["urgent"], r[3].urgent) for (_, b), r in zip(pairs, results, strict=True)])
    print(line("Scorer vs 2nd labels", m))


def errors(results: list, every: bool) -> None:
    if every:
        print("\nErrors on the whole set:")
    else:
        print("\nErrors on the tuning two-thirds (held-out third not shown):")
    for index, mention, label, score, _vader, _rules in results:
        if index % 3 == 2 and not every:
            continue
        wrong_urgent = label["urgent"] != score.urgent
        wrong_cat = label["urgent"] and label["category"] != score.category
        if wrong_urgent or wrong_cat:
            kind = (
                "FN" if label["urgent"] and not score.urgent else ("FP" if wrong_urgent else "CAT")
            )
            print(
                f"  {kind} #{index} {score.urgency:3d} want {label['category']:<8} got "
                f"{score.category:<8} {score.reasons} | {mention.title} {mention.text[:150]!r}"
            )


def pearson(xs: list[float], ys: list[float]) -> float:
    return statistics.correlation(xs, ys)


def ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=values.__getitem__)
    result = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            result[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return result


def part_tweets(path: Path) -> None:
    if not path.exists():
        print(f"\nTweets: {path} not found; skipping correlation and speed (use --tweets PATH).")
        return
    tweets: list[tuple[float, str]] = []
    with path.open(encoding="utf-8", errors="replace") as handle:
        for raw in handle:
            parts = raw.rstrip("\n").split("\t", 2)
            if len(parts) == 3:
                tweets.append((float(parts[1]), parts[2]))
    scorer = Scorer(BRAND, TRIAGE)
    mentions = [Mention("bench", str(i), text) for i, (_, text) in enumerate(tweets)]
    urgencies = [float(scorer.score(m).urgency) for m in mentions]
    ratings = [r for r, _ in tweets]
    print(f"\nVADER rated tweets: {path.name}: {len(tweets)} tweets")
    print(
        f"  urgency vs human rating: Pearson {pearson(urgencies, ratings):+.3f}, "
        f"Spearman {pearson(ranks(urgencies), ranks(ratings)):+.3f} (negative is right)"
    )

    print("  throughput, best of 5 (goal: Scorer.score at least 0.50 of raw polarity_scores):")
    rules = Scorer(BRAND, TRIAGE, model=None)
    speed("the rated tweets", mentions, scorer, rules)
    brand = [m for p in sorted(ROOT.glob("bench/eval_*.jsonl")) for m, _ in load_eval(p)]
    speed("brand mentions (every bench/eval_*.jsonl)", brand, scorer, rules)

    unit = (
        "@acme my Roadrunner was charged twice and it stopped working, nobody answers, "
        "I want a refund!!! "
    )
    big = (unit * (165_000 // len(unit) + 1))[:165_000]
    mention = Mention("bench", "big", big, followers=12)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        score = scorer.score(mention)
        times.append(time.perf_counter() - start)
    print(
        f"  one {len(big) / 1000:.0f} KB text: {min(times) * 1000:.1f} ms best, "
        f"{max(times) * 1000:.1f} ms worst of 5 (goal < 50 ms); urgency {score.urgency}"
    )


def speed(title: str, mentions: list[Mention], scorer: Scorer, rules: Scorer) -> None:
    """Mentions per second through the scorer, the rules alone and raw VADER on the same texts
    (VADER reads what the scorer's VADER reads: title and text), interleaved, best of 5."""
    analyzer = SentimentIntensityAnalyzer()
    texts = [f"{m.title}\n{m.text}" if m.title else m.text for m in mentions]
    best = {"raw": float("inf"), "scorer": float("inf"), "rules": float("inf")}
    for _ in range(5):
        for name, run in (
            ("raw", lambda: [analyzer.polarity_scores(t) for t in texts]),
            ("scorer", lambda: [scorer.score(m) for m in mentions]),
            ("rules", lambda: [rules.score(m) for m in mentions]),
        ):
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    rate = {name: len(texts) / seconds for name, seconds in best.items()}
    print(
        f"    {title}, {len(texts)}: Scorer.score {rate['scorer']:,.0f}/s "
        f"(ratio {rate['scorer'] / rate['raw']:.2f}), rules alone {rate['rules']:,.0f}/s "
        f"(ratio {rate['rules'] / rate['raw']:.2f}), raw polarity_scores {rate['raw']:,.0f}/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--eval",
        type=Path,
        nargs="+",
        default=[DEFAULT_EVAL],
        help="labelled JSON Lines file(s) (Mention fields plus label); several are also "
        "reported pooled; default %(default)s",
    )
    parser.add_argument(
        "--no-split",
        action="store_true",
        help="whole-set figures only, no held-out third / tuning two-thirds (for a blind set)",
    )
    parser.add_argument("--tweets", type=Path, default=DEFAULT_TWEETS)
    parser.add_argument(
        "--show-errors",
        nargs="?",
        const="tuning",
        choices=("tuning", "all"),
        help="list misclassified mentions: of the tuning two-thirds (default) or of 'all'",
    )
    args = parser.parse_args()
    part_eval(args.eval, args.show_errors, split=not args.no_split)
    part_tweets(args.tweets)


if __name__ == "__main__":
    main()
