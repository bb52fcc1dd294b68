"""One poll cycle over every source at once (one thread each, as the scheduler runs them),
against the fakes over real HTTP on 127.0.0.1, with N new mentions waiting on each platform.
Prints the wall time of the cycle and the mentions stored per second. Real SQLite file.

    python bench/poll_cycle.py [--per-source 1000]

The mentions name the brand but are calm, so the cycle measures fetch, normalise, match,
score and store (not posting to Slack, which bench/poll_to_post.py measures).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.sources import build_sources  # noqa: E402
from tests.fakes.rss import atom, google_alert_entry  # noqa: E402
from tests.support import migrated_store, platforms, slack_pipeline  # noqa: E402

TEXT = "Trying the new Acme dashboard today, number {} of the week"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-source", type=int, default=1000)
    parser.add_argument(
        "--sequential",
        action="store_true",
        help="poll one source after another: the seven fakes run in this same process and "
        "share its GIL, so in parallel they slow each other more than real platforms would",
    )
    args = parser.parse_args()
    n = args.per_source
    folder = Path(tempfile.mkdtemp(prefix="mentionops-bench-"))
    now = datetime.now(UTC)
    with platforms() as fakes:
        entries = []
        for i in range(n):
            when = now - timedelta(seconds=3 * i + 5)
            fakes.hn.add_hit(
                author=f"h{i}", comment_text=TEXT.format(i), created_at_i=int(when.timestamp())
            )
            fakes.bsky.add_post(TEXT.format(i), handle=f"u{i}.bsky.social", created_at=when)
            fakes.masto.add_status(f"<p>{TEXT.format(i)}</p>", tags=("acme",), created_at=when)
            fakes.x.add_tweet(TEXT.format(i), username=f"u{i}", created_at=when)
            fakes.reddit.add_post(f"Acme {i}", TEXT.format(i), created_utc=when.timestamp())
            entries.append(google_alert_entry("Acme", TEXT.format(i), f"https://n.ex/{i}", when))
        feed = fakes.feeds.set_feed("/alerts", atom(entries))
        settings = fakes.settings(
            folder,
            [feed],
            db_path=folder / "bench.db",
            mastodon={"queries": ["acme"]},
            x={"max_posts_per_hour": max(200, 2 * n)},
            reddit={"queries": ["acme"]},
        )
        store = migrated_store(settings.db_path)
        sources, skipped = build_sources(settings)
        assert not skipped, skipped
        pipeline = slack_pipeline(settings, store, sources)
        reports = {}

        def poll(name: str) -> None:
            reports[name] = pipeline.run_once(name)

        started = time.perf_counter()
        if args.sequential:
            for name in sources:
                poll(name)
        else:
            threads = [threading.Thread(target=poll, args=(name,)) for name in sources]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        wall = time.perf_counter() - started
        for source in sources.values():
            client = getattr(source, "client", None)
            if client is not None:
                client.close()

    mode = " --sequential" if args.sequential else ""
    print(f"$ python bench/poll_cycle.py --per-source {n}{mode}")
    print(f"{'source':<12}{'fetched':>9}{'stored':>9}{'seconds':>9}  error")
    for name, r in sorted(reports.items()):
        print(f"{name:<12}{r.fetched:>9}{r.new:>9}{r.seconds:>9.2f}  {r.error or ''}")
    stored = sum(r.new for r in reports.values())
    print(
        f"one cycle, {len(reports)} sources {'one by one' if args.sequential else 'in parallel'}: "
        f"{wall:.2f} s wall, {stored} stored, "
        f"{stored / wall:,.0f} mentions stored per second"
    )


if __name__ == "__main__":
    main()
