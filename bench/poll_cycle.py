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

from bot.config import Settings  # noqa: E402
from bot.pipeline import Pipeline  # noqa: E402
from bot.poster import SlackPoster  # noqa: E402
from bot.slack import make_client  # noqa: E402
from bot.sources import build_sources  # noqa: E402
from storage import Store  # noqa: E402
from tests.fakes.bluesky import FakeBluesky  # noqa: E402
from tests.fakes.hn import FakeHN  # noqa: E402
from tests.fakes.mastodon import FakeMastodon  # noqa: E402
from tests.fakes.reddit import FakeReddit  # noqa: E402
from tests.fakes.rss import FakeFeeds, atom, google_alert_entry  # noqa: E402
from tests.fakes.slack import FakeSlack  # noqa: E402
from tests.fakes.x import FakeX  # noqa: E402
from tests.support import BOT_TOKEN, write_config  # noqa: E402

TEXT = "Trying the new Acme dashboard today, number {} of the week"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-source", type=int, default=1000)
    args = parser.parse_args()
    n = args.per_source
    folder = Path(tempfile.mkdtemp(prefix="mentionops-bench-"))
    now = datetime.now(UTC)
    with (
        FakeSlack(token=BOT_TOKEN) as slack,
        FakeHN() as hn,
        FakeBluesky() as bsky,
        FakeMastodon() as masto,
        FakeX() as x,
        FakeReddit() as reddit,
        FakeFeeds() as feeds,
    ):
        entries = []
        for i in range(n):
            when = now - timedelta(seconds=3 * i + 5)
            hn.add_hit(
                author=f"h{i}", comment_text=TEXT.format(i), created_at_i=int(when.timestamp())
            )
            bsky.add_post(TEXT.format(i), handle=f"u{i}.bsky.social", created_at=when)
            masto.add_status(f"<p>{TEXT.format(i)}</p>", tags=("acme",), created_at=when)
            x.add_tweet(TEXT.format(i), username=f"u{i}", created_at=when)
            reddit.add_post(f"Acme {i}", TEXT.format(i), created_utc=when.timestamp())
            entries.append(google_alert_entry("Acme", TEXT.format(i), f"https://n.ex/{i}", when))
        feed = feeds.set_feed("/alerts", atom(entries))
        extra = f"""
[sources.bluesky]
base_url = "{bsky.url}"
[sources.mastodon]
base_url = "{masto.url}"
hashtags = ["acme"]
queries = ["acme"]
[sources.x]
base_url = "{x.url}"
max_posts_per_hour = {max(200, 2 * n)}
[sources.reddit]
base_url = "{reddit.url}"
token_url = "{reddit.token_url}"
queries = ["acme"]
[sources.rss]
feeds = ["{feed}"]
"""
        env = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_API_URL": slack.base_url,
            "BLUESKY_HANDLE": bsky.handle,
            "BLUESKY_APP_PASSWORD": bsky.password,
            "X_BEARER_TOKEN": x.token,
            "REDDIT_CLIENT_ID": reddit.client_id,
            "REDDIT_CLIENT_SECRET": reddit.client_secret,
        }
        settings = Settings.load(
            environ=env,
            path=write_config(folder, hn_url=hn.base_url, extra=extra),
            db_path=str(folder / "bench.db"),
        )
        store = Store(settings.db_path)
        store.migrate()
        sources, skipped = build_sources(settings)
        assert not skipped, skipped
        pipeline = Pipeline(
            settings, store, sources, SlackPoster(make_client(settings), store, settings)
        )
        reports = {}

        def poll(name: str) -> None:
            reports[name] = pipeline.run_once(name)

        started = time.perf_counter()
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

    print(f"$ python bench/poll_cycle.py --per-source {n}")
    print(f"{'source':<12}{'fetched':>9}{'stored':>9}{'seconds':>9}  error")
    for name, r in sorted(reports.items()):
        print(f"{name:<12}{r.fetched:>9}{r.new:>9}{r.seconds:>9.2f}  {r.error or ''}")
    stored = sum(r.new for r in reports.values())
    print(
        f"one cycle, {len(reports)} sources in parallel: {wall:.2f} s wall, {stored} stored, "
        f"{stored / wall:,.0f} mentions stored per second"
    )


if __name__ == "__main__":
    main()
