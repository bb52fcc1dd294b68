"""Poll to post: from a source's fetch returning an urgent mention to the moment the fake
Slack receives its chat.postMessage. Real HTTP on 127.0.0.1, real SQLite file.

    python bench/poll_to_post.py [--rounds 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import Settings  # noqa: E402
from bot.pipeline import Pipeline  # noqa: E402
from bot.poster import SlackPoster  # noqa: E402
from bot.slack import make_client  # noqa: E402
from bot.sources import build_sources  # noqa: E402
from storage import Store  # noqa: E402
from tests.fakes.hn import FakeHN  # noqa: E402
from tests.fakes.slack import FakeSlack  # noqa: E402
from tests.support import BOT_TOKEN, write_config  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="mentionops-bench-"))
    with FakeSlack(token=BOT_TOKEN) as slack, FakeHN() as hn:
        settings = Settings.load(
            environ={"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": slack.base_url},
            path=write_config(folder, hn_url=hn.base_url),
            db_path=str(folder / "bench.db"),
        )
        store = Store(settings.db_path)
        store.migrate()
        poster = SlackPoster(make_client(settings), store, settings)
        sources, _ = build_sources(settings)
        source = sources["hackernews"]
        fetched_at: list[float] = []
        real_fetch = source.fetch

        def timed_fetch(*a, **kw):
            result = real_fetch(*a, **kw)
            fetched_at.append(time.monotonic())
            return result

        source.fetch = timed_fetch
        pipeline = Pipeline(settings, store, sources, poster)
        latencies, totals = [], []
        for i in range(args.rounds):
            hn.add_hit(
                object_id=str(10_000 + i),
                author=f"customer{i}",
                created_at_i=int(time.time()) - 5,
                comment_text=f"Acme charged me twice for order {i} and support won't answer!",
            )
            slack.reset_calls()
            started = time.monotonic()
            report = pipeline.run_once("hackernews")
            assert report.posted == 1, report
            post = slack.calls_to("chat.postMessage")[0]
            latencies.append((post.at - fetched_at[-1]) * 1000)
            totals.append((time.monotonic() - started) * 1000)
        source.client.close()

    def figures(values: list[float]) -> str:
        values = sorted(values)
        p99 = values[min(len(values) - 1, round(0.99 * (len(values) - 1)))]
        return f"p50 {statistics.median(values):.1f} ms, p99 {p99:.1f} ms, max {values[-1]:.1f} ms"

    print(f"poll to post over {args.rounds} polls, one new urgent mention each")
    print(f"  fetch returned -> chat.postMessage received: {figures(latencies)}  (goal < 500 ms)")
    print(f"  whole poll (HTTP fetch, score, store, post, save ts): {figures(totals)}")


if __name__ == "__main__":
    main()
