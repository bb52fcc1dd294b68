"""Every source at once through Pipeline.run_once, one thread each (as the scheduler runs
them), against their fakes over real HTTP; one platform never answers and the others' alerts
still reach Slack on time."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import httpx

from bot.sources import build_source, build_sources
from tests.fakes.rss import atom, google_alert_entry
from tests.support import migrated_store, now, platforms, slack_pipeline

# A different complaint and author per platform, so none is taken for a cross-post of another.
COMPLAINTS = {
    "hackernews": "My Acme order was charged twice and nobody answers support. Refund me!",
    "bluesky": "Acme billed my card three times this month, support is silent, I want a refund",
    "mastodon": "Acme support ignored me for a week, my laptop is broken and I need a refund",
    "x": "Still no refund from Acme after the outage, charged twice, this is a scam",
    "reddit": "Acme charged me twice for one order and the support line hangs up. Refund please",
    "rss": "Acme double-charged me and support is unreachable; my refund has stalled for weeks",
}


def test_all_sources_in_threads_with_one_hanging(tmp_path):
    t = now() - timedelta(minutes=2)
    with platforms() as fakes:
        c = COMPLAINTS
        fakes.hn.add_hit(
            object_id="1",
            author="hnuser",
            comment_text=c["hackernews"],
            created_at_i=int(t.timestamp()),
        )
        fakes.bsky.add_post(
            c["bluesky"], handle="bea.bsky.social", display_name="Bea", created_at=t
        )
        fakes.masto.add_status(
            f"<p>{c['mastodon']}</p>",
            acct="mo@m.example",
            display_name="Mo",
            tags=("acme",),
            created_at=t,
        )
        fakes.x.add_tweet(c["x"], username="xena", name="Xena", created_at=t)
        fakes.reddit.add_post("Acme billing", c["reddit"], author="redd", created_utc=t.timestamp())
        feed = fakes.feeds.set_feed(
            "/alerts", atom([google_alert_entry("Acme", c["rss"], "https://n.ex/a", t)])
        )
        settings = fakes.settings(tmp_path, [feed], db_path=tmp_path / "m.db")
        store = migrated_store(settings.db_path)
        assert build_sources(settings)[1] == []  # nothing skipped: every source is built
        sources = {
            name: build_source(settings, config, client=httpx.Client(timeout=0.5), store=store)
            for name, config in settings.sources.items()
        }
        for source in sources.values():
            source.sleep = lambda seconds: None
        pipeline = slack_pipeline(settings, store, sources)

        fakes.masto.hang(30)  # Mastodon never answers
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
        fakes.masto.hang(0)
        for source in sources.values():
            source.client.close()

        assert others_done < 2.0
        assert {n: (reports[n].error, reports[n].new, reports[n].urgent) for n in others} == {
            n: (None, 1, 1) for n in others
        }
        assert reports["mastodon"].error == "127.0.0.1 did not answer in time (4 tries)"
        texts = [call.args["text"] for call in fakes.slack.calls_to("chat.postMessage")]
        posted = sorted(n for n in others if any(COMPLAINTS[n][:30] in text for text in texts))
        assert (len(texts), posted) == (len(others), sorted(others))
        assert (
            store.health()[[h["source"] for h in store.health()].index("mastodon")][
                "consecutive_failures"
            ]
            == 1
        )
        assert fakes.slack.errors == []


def test_retry_after_waits_are_bounded_in_total():
    """Each Retry-After below the cap is honoured, but together they may not hold a worker for
    longer than MAX_RETRY_AFTER: three answers of 'wait 100 s' are a rate limit, not 300 s."""
    from bot.sources.base import MAX_RETRY_AFTER, RateLimited, request

    answers = [429, 429, 429, 200]

    def handler(req: httpx.Request) -> httpx.Response:
        status = answers.pop(0)
        return httpx.Response(status, headers={"Retry-After": "100"} if status == 429 else {})

    sleeps: list[float] = []
    client = httpx.Client(transport=httpx.MockTransport(handler))
    try:
        request(client, "GET", "https://api.example/x", sleep=sleeps.append)
        raised = None
    except RateLimited as exc:
        raised = (str(exc), exc.retry_after)
    assert (sleeps, raised, MAX_RETRY_AFTER) == (
        [100.0],
        ("rate limited by api.example: asked to wait 100 s more", 100.0),
        120.0,
    )
