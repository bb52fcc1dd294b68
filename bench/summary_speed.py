"""How fast `/mentions summary 30d` answers over a large database.

    python bench/summary_speed.py                  # 1,000,000 mentions over 365 days
    python bench/summary_speed.py --mentions 200000 --days 30 --runs 5

Generates the data into a temporary SQLite file with the app's own migrations (executemany in
one transaction; the indexes are built after the load, as `CREATE INDEX` on full tables is
faster), then times `bot.summary.compute` for each period, as `/mentions summary` runs it (with
the previous period and the complaint terms), and once with the per-day chart series. The goal:
`summary 30d` in under 300 ms. Prints the figures; exits 1 if 30d misses the goal.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.models import iso  # noqa: E402
from bot.summary import compute, period_for  # noqa: E402
from storage import Store  # noqa: E402

GOAL_MS = 300
SOURCES = ["hackernews", "bluesky", "mastodon", "x", "reddit", "rss"]
CATEGORIES = ["money", "down", "broken", "delivery", "account", "safety", "legal", "other"]
AGENTS = [f"U0AGENT{i:02d}" for i in range(12)]
TEXTS = [
    "Acme charged me twice for my order and nobody answers, I want a refund",
    "Acme checkout has been down for an hour, can't pay",
    "My Acme Roadrunner started smoking while charging",
    "Acme order shows delivered but nothing arrived, third time",
    "Someone logged into my Acme account and changed my email",
    "Acme app crashed mid-payment and now there's a charge I don't recognise",
    "Cancelling my Acme subscription, the price went up again",
    "Acme support promised a callback twice, still nothing, refund please",
    "Acme delivery late again, parcel lost somewhere",
    "Love my new Acme anvil, works great",
    "Anyone tried the Acme roadrunner yet?",
    "Acme store opening hours this weekend?",
]


def generate(path: Path, mentions: int, days: int, now: datetime, seed: int = 7) -> None:
    store = Store(path)
    store.migrate()
    rng = random.Random(seed)
    conn = sqlite3.connect(path)
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        " AND tbl_name IN ('mentions', 'events')"
    ).fetchall()
    for name, _ in indexes:
        conn.execute(f"DROP INDEX {name}")
    conn.execute("PRAGMA synchronous = OFF")
    span = days * 86400
    mention_rows, event_rows = [], []
    for i in range(1, mentions + 1):
        created = now - timedelta(seconds=rng.randrange(span))
        urgent = rng.random() < 0.08
        created_s = iso(created)
        status, claimed_by, claimed_at, resolved_by, resolved_at = "new", None, None, None, None
        level, escalated_at, channel, ts = 0, None, None, None
        events = [(i, created_s, "mentionops", "stored", None, "new")]
        if urgent and rng.random() < 0.97:
            status, channel, ts = "posted", "C0ALERTS", f"{created.timestamp() + 5:.6f}"
            events.append(
                (i, iso(created + timedelta(seconds=5)), "mentionops", "posted", "new", "posted")
            )
            roll = rng.random()
            if roll < 0.05:
                status = "ignored"
            elif roll < 0.88:
                wait = timedelta(seconds=int(rng.lognormvariate(6.3, 0.9)))
                claimed_at = created + wait
                if claimed_at < now:
                    agent = rng.choice(AGENTS)
                    status, claimed_by, claimed_at = "claimed", agent, iso(claimed_at)
                    events.append((i, claimed_at, agent, "claim", "posted", "claimed"))
                    done = parse(claimed_at) + timedelta(seconds=int(rng.lognormvariate(8, 0.8)))
                    if rng.random() < 0.85 and done < now:
                        status, resolved_by, resolved_at = "resolved", agent, iso(done)
                        events.append((i, resolved_at, agent, "resolve", "claimed", "resolved"))
                else:
                    claimed_at = None
            if rng.random() < 0.05:
                level, escalated_at = 1, iso(created + timedelta(minutes=20))
        mention_rows.append(
            (
                i,
                rng.choice(SOURCES),
                f"e{i}",
                f"https://example.com/{i}",
                f"user{rng.randrange(200_000)}",
                rng.choice(TEXTS),
                created_s,
                created_s,
                rng.randrange(60, 100) if urgent else rng.randrange(0, 60),
                int(urgent),
                rng.choice(CATEGORIES),
                status,
                created_s,
                claimed_by,
                claimed_at,
                resolved_by,
                resolved_at,
                level,
                escalated_at,
                channel,
                ts,
            )
        )
        event_rows.extend(events)
    with conn:
        conn.executemany(
            "INSERT INTO mentions (id, source, external_id, url, author, text, created_at,"
            " fetched_at, urgency, urgent, category, status, status_at, claimed_by, claimed_at,"
            " resolved_by, resolved_at, escalation_level, escalated_at, channel, ts)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            mention_rows,
        )
        conn.executemany(
            "INSERT INTO events (mention_id, at, actor, action, from_status, to_status)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            event_rows,
        )
    for _, sql in indexes:
        conn.execute(sql)
    conn.commit()
    conn.close()


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def timed(store: Store, name: str, now: datetime, runs: int, series: bool = False) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        compute(
            store,
            period_for(name, now, "Europe/London"),
            sla_minutes=20,
            now=now,
            ignore_terms=("acme",),
            series=series,
        )
        out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mentions", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365, help="spread the mentions over this")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--db", help="keep the generated database here (default: a temp dir)")
    args = parser.parse_args()
    now = datetime.now(UTC).replace(microsecond=0)
    path = Path(args.db) if args.db else Path(tempfile.mkdtemp(prefix="mentionops-bench-")) / "b.db"
    if path.exists():
        print(f"{path} exists: reusing it")
    else:
        started = time.perf_counter()
        generate(path, args.mentions, args.days, now)
        print(
            f"Generated {args.mentions:,} mentions over {args.days} days in "
            f"{time.perf_counter() - started:.1f} s ({path.stat().st_size / 1e6:.0f} MB)"
        )
    store = Store(path)
    store.migrate()
    with sqlite3.connect(path) as conn:
        stored = conn.execute("SELECT count(*) FROM mentions").fetchone()[0]
        in_30d = conn.execute(
            "SELECT count(*), sum(urgent) FROM mentions WHERE created_at >= ?",
            [iso(now - timedelta(days=30))],
        ).fetchone()
    print(f"{stored:,} stored; last 30 days: {in_30d[0]:,} mentions, {in_30d[1]:,} urgent")
    print(f"summary (with the previous period and the terms), {args.runs} runs, ms:")
    result_30d = None
    for name in ("today", "24h", "7d", "30d"):
        times = timed(store, name, now, args.runs)
        median = statistics.median(times)
        if name == "30d":
            result_30d = median
        print(f"  {name:>5}: median {median:7.1f}  min {min(times):7.1f}  max {max(times):7.1f}")
    chart = timed(store, "30d", now, args.runs, series=True)
    print(f"  30d + chart series: median {statistics.median(chart):7.1f}")
    ok = result_30d is not None and result_30d < GOAL_MS
    print(f"summary 30d: {result_30d:.1f} ms (goal < {GOAL_MS} ms): {'OK' if ok else 'TOO SLOW'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
