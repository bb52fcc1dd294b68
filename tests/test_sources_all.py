"""Every source at once through Pipeline.run_once, one thread each (as the scheduler runs
them), against their fakes over real HTTP; one platform never answers and the others' alerts
still reach Slack on time."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import httpx

from bot.config import Settings
from bot.pipeline import Pipeline
from bot.poster import SlackPoster
from bot.slack import make_client
from bot.sources import build_source, build_sources
from storage import Store
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.hn import FakeHN
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.reddit import FakeReddit
from tests.fakes.rss import FakeFeeds, atom, google_alert_entry
from tests.fakes.slack import FakeSlack
from tests.fakes.x import FakeX
from tests.support import BOT_TOKEN, write_config

# A different complaint and author per platform, so none is taken for a cross-post of another.
COMPLAINTS = {
    "hackernews": "My Acme order was charged twice and nobody answers support. Refund me!",
    "bluesky": "Acme billed my card three times this month, support is silent, I want a refund",
    "mastodon": "Acme support ignored me for a week, my laptop is broken and I need a refund",
    "x": "Still no refund from Acme after the outage, charged twice, this is a scam",
    "reddit": "Acme charged me twice for one order and the support line hangs up. Refund please",
    "rss": "Customers say Acme double-charged them and support is unreachable; refunds stalled",
}


def test_all_sources_in_threads_with_one_hanging(tmp_path):
    t = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=2)
    with (
        FakeSlack(token=BOT_TOKEN) as slack,
        FakeHN() as hn,
        FakeBluesky() as bsky,
        FakeMastodon() as masto,
        FakeX() as x,
        FakeReddit() as reddit,
        FakeFeeds() as feeds,
    ):
        c = COMPLAINTS
        hn.add_hit(
            object_id="1",
            author="hnuser",
            comment_text=c["hackernews"],
            created_at_i=int(t.timestamp()),
        )
        bsky.add_post(c["bluesky"], handle="bea.bsky.social", display_name="Bea", created_at=t)
        masto.add_status(
            f"<p>{c['mastodon']}</p>",
            acct="mo@m.example",
            display_name="Mo",
            tags=("acme",),
            created_at=t,
        )
        x.add_tweet(c["x"], username="xena", name="Xena", created_at=t)
        reddit.add_post("Acme billing", c["reddit"], author="redd", created_utc=t.timestamp())
        feed = feeds.set_feed(
            "/alerts", atom([google_alert_entry("Acme", c["rss"], "https://n.ex/a", t)])
        )
        extra = f"""
[sources.bluesky]
base_url = "{bsky.url}"
[sources.mastodon]
base_url = "{masto.url}"
hashtags = ["acme"]
[sources.x]
base_url = "{x.url}"
[sources.reddit]
base_url = "{reddit.url}"
token_url = "{reddit.token_url}"
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
            path=write_config(tmp_path, hn_url=hn.base_url, extra=extra),
            db_path=str(tmp_path / "m.db"),
        )
        store = Store(settings.db_path)
        store.migrate()
        assert build_sources(settings)[1] == []  # nothing skipped: every source is built
        sources = {
            name: build_source(settings, config, client=httpx.Client(timeout=0.5), store=store)
            for name, config in settings.sources.items()
        }
        for source in sources.values():
            source.sleep = lambda seconds: None
        pipeline = Pipeline(
            settings, store, sources, SlackPoster(make_client(settings), store, settings)
        )

        masto.hang(30)  # Mastodon never answers
        reports = {}
        started = time.perf_counter()
        finished = {}

        def poll(name):
            reports[name] = pipeline.run_once(name)
            finished[name] = time.perf_counter() - started

        threads = {n: threading.Thread(target=poll, args=(n,)) for n in sources}
        for thread in threads.values():
            thread.start()
        others = [n for n in sources if n != "mastodon"]
        for name in others:
            threads[name].join(timeout=10)
        others_done = time.perf_counter() - started
        assert threads["mastodon"].is_alive()  # still waiting on the hung server
        threads["mastodon"].join(timeout=10)
        masto.hang(0)
        for source in sources.values():
            source.client.close()

        assert others_done < 2.0
        assert {n: (reports[n].error, reports[n].new, reports[n].urgent) for n in others} == {
            n: (None, 1, 1) for n in others
        }
        assert reports["mastodon"].error == "127.0.0.1 did not answer in time (4 tries)"
        texts = [call.args["text"] for call in slack.calls_to("chat.postMessage")]
        posted = sorted(n for n in others if any(COMPLAINTS[n][:30] in text for text in texts))
        assert (len(texts), posted) == (len(others), sorted(others))
        assert (
            store.health()[[h["source"] for h in store.health()].index("mastodon")][
                "consecutive_failures"
            ]
            == 1
        )
        assert slack.errors == []
