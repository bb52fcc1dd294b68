"""RSS/Atom source against the fake feed server over real HTTP."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bot.config import SourceConfig
from bot.models import Mention
from bot.sources.base import SourceError
from bot.sources.rss import Rss, unwrap_google
from tests.fakes.rss import FakeFeeds, atom, google_alert_entry, rss
from tests.support import now, serving


@pytest.fixture
def fake():
    yield from serving(FakeFeeds())


@pytest.fixture
def make(make_source):
    def make(*feeds):
        return make_source(Rss, SourceConfig("rss", options={"feeds": feeds}), feeds)

    return make


def test_google_alerts_entry_becomes_a_plain_mention_with_the_real_link(fake, make):
    t = now()
    entry_id = "tag:google.com,2013:googlealerts/feed:1"
    url = fake.set_feed(
        "/alerts/acme",
        atom(
            [
                google_alert_entry(
                    "<b>Acme</b> laptop recall &amp; refunds",
                    "Owners of the <b>Acme</b> X1 say the battery swells&nbsp;&amp; cracks ...",
                    "https://news.example/acme-recall?ref=rss",
                    t - timedelta(minutes=10),
                    entry_id=entry_id,
                ),
                google_alert_entry(
                    "Acme old", "old news", "https://news.example/old", t - timedelta(days=3)
                ),
            ]
        ),
    )
    result = make(url).fetch({}, now=t)
    assert result.mentions == [
        Mention(
            source="rss",
            external_id=entry_id,
            text="Owners of the Acme X1 say the battery swells & cracks ...",
            title="Acme laptop recall & refunds",
            author="news.example",
            author_name="news.example",
            url="https://news.example/acme-recall?ref=rss",
            created_at=t - timedelta(minutes=10),
        )
    ]
    cursor = json.loads(result.cursors[url])
    assert cursor == {
        "etag": fake.feeds["/alerts/acme"]["etag"],
        "modified": fake.feeds["/alerts/acme"]["modified"],
        "latest": (t - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def test_conditional_get_304_is_nothing_new(fake, make):
    t = now()
    url = fake.set_feed("/a", atom([google_alert_entry("acme", "acme", "https://a.example", t)]))
    source = make(url)
    r1 = source.fetch({}, now=t)
    r2 = source.fetch(r1.cursors, now=t)
    assert (r2.mentions, r2.cursors, r2.problems) == ([], {}, [])
    second = fake.requests[1].headers
    assert second["if-none-match"] == fake.feeds["/a"]["etag"]
    assert second["if-modified-since"] == fake.feeds["/a"]["modified"]


def test_rss_with_language_and_changed_feed(fake, make):
    t = now()
    items = [
        {
            "title": "Acme Kundendienst",
            "link": "https://reviews.example/1",
            "description": "<p>Der <i>Acme</i> Support antwortet nicht</p>",
            "guid": "review-1",
            "pub": t - timedelta(minutes=1),
        }
    ]
    url = fake.set_feed("/reviews", rss(items, language="de"), content_type="application/rss+xml")
    source = make(url)
    r1 = source.fetch({}, now=t)
    assert [(m.external_id, m.text, m.lang) for m in r1.mentions] == [
        ("review-1", "Der Acme Support antwortet nicht", "de")
    ]
    # an edited item (same guid) and a new one: the feed's ETag changes
    items[0]["description"] = "<p>Der <i>Acme</i> Support antwortet immer noch nicht</p>"
    items.append({**items[0], "guid": "review-2", "link": "https://reviews.example/2"})
    fake.set_feed("/reviews", rss(items, language="de"), content_type="application/rss+xml")
    r2 = source.fetch(r1.cursors, now=t)
    assert [m.external_id for m in r2.mentions] == ["review-1", "review-2"]


def test_one_failing_feed_does_not_fail_the_others(fake, make):
    t = now()
    good = fake.set_feed("/good", atom([google_alert_entry("acme", "acme", "https://a.b", t)]))
    bad = fake.feed_url("/missing")
    junk = fake.set_feed("/junk", "this is not xml at all", content_type="text/plain")
    result = make(bad, good, junk).fetch({}, now=t)
    assert len(result.mentions) == 1
    assert list(result.cursors) == [good]
    assert result.problems[0] == (
        f"feed {bad} failed: 127.0.0.1 answered HTTP 404: '<h1>Not Found</h1>'"
    )
    assert result.problems[1].startswith(f"feed {junk} failed: not an RSS or Atom feed")


def test_every_feed_failing_fails_the_source(fake, make):
    bad = fake.feed_url("/missing")
    with pytest.raises(SourceError) as info:
        make(bad).fetch({}, now=now())
    assert str(info.value) == (
        f"every feed failed: feed {bad} failed: 127.0.0.1 answered HTTP 404: '<h1>Not Found</h1>'"
    )


def test_429_and_500_are_retried(fake, make):
    t = now()
    url = fake.set_feed("/a", atom([google_alert_entry("acme", "acme", "https://a.b", t)]))
    fake.fail_next(429, retry_after=4)
    fake.fail_next(500)
    source = make(url)
    assert len(source.fetch({}, now=t).mentions) == 1
    assert source.sleeps[0] == 4.0 and len(source.sleeps) == 2


def test_unwrap_google():
    assert (
        unwrap_google("https://www.google.com/url?rct=j&sa=t&url=https://x.example/a%3Fb%3D1&ct=ga")
        == "https://x.example/a?b=1"
    )
    assert (
        unwrap_google("https://x.example/url?url=https://y")
        == "https://x.example/url?url=https://y"
    )
