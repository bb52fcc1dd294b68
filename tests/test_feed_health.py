"""One RSS feed among several keeps its own health: one notice when it reaches the source's
failure_threshold, one when it is back, and a line in status; the other feeds keep flowing."""

from __future__ import annotations

from datetime import UTC, datetime

from bot import blocks
from bot.config import Settings
from bot.pipeline import Pipeline
from bot.poster import SlackPoster
from bot.slack import make_client
from bot.sources import build_sources, status_extras
from storage import Store
from tests.fakes.rss import FakeFeeds, atom
from tests.fakes.slack import FakeSlack
from tests.support import ALERT_CHANNEL, BOT_TOKEN, write_config


def test_a_failing_feed_gets_its_own_notice_and_status_line(tmp_path):
    with FakeSlack(token=BOT_TOKEN) as slack, FakeFeeds() as feeds:
        good = feeds.set_feed("/good", atom([]))
        bad = feeds.feed_url("/missing")  # 404 until it exists
        extra = (
            f'\n[sources.rss]\nfeeds = ["{good}", "{bad}"]\nfailure_threshold = 2\n'
            "\n[sources.x]\nenabled = true\nmax_posts_per_hour = 50\n"
        )
        settings = Settings.load(
            environ={
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_API_URL": slack.base_url,
                "X_BEARER_TOKEN": "t",
            },
            path=write_config(tmp_path, extra=extra),
            db_path=str(tmp_path / "m.db"),
        )
        store = Store(settings.db_path)
        store.migrate()
        sources, _ = build_sources(settings, only="rss")
        sources["rss"].sleep = lambda seconds: None
        poster = SlackPoster(make_client(settings), store, settings)
        pipeline = Pipeline(settings, store, sources, poster)

        for _ in range(3):
            report = pipeline.run_once("rss")
            assert report.error is None  # one good feed: the source itself is fine
        notices = [c.args["text"] for c in slack.calls_to("chat.postMessage")]
        assert len(notices) == 1
        assert notices[0].startswith(f"⚠️ *📰 RSS feed {bad} failing since ")
        assert "The other feeds and sources are fine." in notices[0]
        assert all(c.args["channel"] == ALERT_CHANNEL for c in slack.calls_to("chat.postMessage"))

        lines = blocks.status_lines(
            store.health(), ["rss", "x"], [], datetime.now(UTC), status_extras(settings, store)
        )
        assert lines[0].startswith("• ✅ 📰 RSS: last good poll just now")
        assert lines[1].startswith(f"    ◦ ⚠️ feed {bad}: failing since just now: ")
        assert lines[2] == "• ✖️ X: not polled yet"
        assert status_extras(settings, store) == {"x": "0 of 50 paid reads used this hour"}
        store.poll_succeeded("x", 0)
        x_line = blocks.status_lines(
            store.health(), ["x"], [], datetime.now(UTC), status_extras(settings, store)
        )
        assert x_line[0].endswith("0 new mentions so far; 0 of 50 paid reads used this hour")

        feeds.set_feed("/missing", atom([]))
        pipeline.run_once("rss")
        notices = [c.args["text"] for c in slack.calls_to("chat.postMessage")]
        assert notices[1] == f"✅ *📰 RSS feed {bad} is back:* polling normally again."
        pipeline.run_once("rss")
        assert len(slack.calls_to("chat.postMessage")) == 2
        sources["rss"].client.close()
