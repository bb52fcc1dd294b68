"""Mastodon source against the fake server over real HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.config import SourceConfig
from bot.models import Mention
from bot.sources.base import SourceError
from bot.sources.mastodon import Mastodon
from tests.fakes.mastodon import FakeMastodon
from tests.support import now, serving

TAG = "/api/v1/timelines/tag/acme"


@pytest.fixture
def fake():
    yield from serving(FakeMastodon(token="m-token"))


@pytest.fixture
def make(fake, make_source):
    def make(*, token=None, hashtags=("acme",), queries=("acme",)):
        return make_source(
            Mastodon,
            SourceConfig("mastodon", base_url=fake.url),
            queries,
            hashtags=hashtags,
            token=token,
        )

    return make


def test_first_poll_reads_the_tag_timeline_as_plain_text(fake, make):
    t = now()
    fake.add_status("<p>old #acme</p>", tags=("acme",), created_at=t - timedelta(hours=3))
    status = fake.add_status(
        '<p>My <a href="https://x.example/tags/acme" class="mention hashtag">#<span>Acme</span>'
        "</a> order is late &amp; support won&#39;t answer</p><p>Día 3</p>",
        tags=("acme",),
        language="es",
        followers=321,
        created_at=t - timedelta(minutes=2),
        spoiler_text="rant &amp; more",
    )
    result = make().fetch({}, now=t)
    assert result.mentions == [
        Mention(
            source="mastodon",
            external_id=status["uri"],
            text="My #Acme order is late & support won't answer\n\nDía 3",
            title="rant & more",
            author="dana@mastodon.example",
            author_name="Dana",
            followers=321,
            url=status["url"],
            created_at=t - timedelta(minutes=2),
            metrics={"reposts": 0, "likes": 0, "replies": 0},
            lang="es",
        )
    ]
    assert result.cursors == {"#acme": status["id"]}
    assert fake.requests[0].params == {"limit": "40"}
    assert "authorization" not in fake.requests[0].headers  # public, no token


def test_incremental_poll_uses_min_id_with_overlap_and_follows_prev_links(fake, make):
    t = now()
    first = fake.add_status("<p>acme 0</p>", tags=("acme",), created_at=t - timedelta(minutes=9))
    source = make()
    r1 = source.fetch({}, now=t)
    added = [
        fake.add_status(f"<p>acme {i}</p>", tags=("acme",), created_at=t + timedelta(seconds=i))
        for i in range(1, 86)
    ]
    fake.requests.clear()
    r2 = source.fetch(r1.cursors, now=t + timedelta(minutes=2))
    overlap_min_id = str(int(first["id"]) - ((120 * 1000) << 16))
    assert [r.params for r in fake.requests] == [
        {"limit": "40", "min_id": overlap_min_id},
        {"limit": "40", "min_id": added[38]["id"]},  # the first page re-read `first` too
        {"limit": "40", "min_id": added[78]["id"]},
        {"limit": "40", "min_id": added[84]["id"]},
    ]
    # each page comes newest first; the pipeline sorts by post time anyway
    assert sorted(m.external_id for m in r2.mentions) == sorted(s["uri"] for s in [first, *added])
    assert r2.cursors == {"#acme": added[-1]["id"]}


def test_reblog_is_the_reblogged_status_once(fake, make):
    t = now()
    original = fake.add_status("<p>acme broke</p>", tags=("acme",), created_at=t)
    fake.add_status("", reblog=original, acct="kai", created_at=t + timedelta(seconds=1))
    result = make().fetch({}, now=t + timedelta(seconds=2))
    assert [m.external_id for m in result.mentions] == [original["uri"]]
    assert result.mentions[0].author == "dana@mastodon.example"


def test_search_needs_a_token_and_sends_it(fake, make):
    t = now()
    status = fake.add_status("<p>acme support is down</p>", created_at=t - timedelta(minutes=1))
    assert make(token=None, hashtags=()).fetch({}, now=t).cursors == {}
    fake.requests.clear()
    result = make(token="m-token", hashtags=()).fetch({}, now=t)
    assert [m.external_id for m in result.mentions] == [status["uri"]]
    assert result.cursors == {"search:acme": status["id"]}
    assert fake.requests[0].path == "/api/v2/search"
    assert fake.requests[0].params == {
        "q": "acme",
        "type": "statuses",
        "limit": "40",
        "resolve": "false",
    }
    assert fake.requests[0].headers["authorization"] == "Bearer m-token"


def test_edited_status_is_the_same_mention(fake, make):
    t = now()
    status = fake.add_status("<p>acme broke</p>", tags=("acme",), created_at=t)
    source = make()
    first = source.fetch({}, now=t)
    fake.edit_status(status["id"], "<p>acme broke, still</p>")
    again = source.fetch({}, now=t)
    assert [m.external_id for m in again.mentions] == [m.external_id for m in first.mentions]
    assert again.mentions[0].text == "acme broke, still"


def test_429_waits_retry_after_and_500_recovers(fake, make):
    fake.add_status("<p>acme</p>", tags=("acme",))
    fake.fail_next(429, retry_after=3)
    fake.fail_next(500)
    source = make()
    assert len(source.fetch({}, now=now()).mentions) == 1
    assert source.sleeps[0] == 3.0 and len(source.sleeps) == 2


def test_malformed_body_and_bad_token(fake, make):
    fake.fail_next(body="{not json")
    with pytest.raises(SourceError) as info:
        make().fetch({}, now=now())
    assert str(info.value) == "127.0.0.1 sent a body that is not JSON: '{not json'"
    with pytest.raises(SourceError) as info:
        make(token="wrong").fetch({}, now=now())
    assert str(info.value) == (
        "127.0.0.1 refused MASTODON_ACCESS_TOKEN: check the token and that it belongs to an "
        "account on [sources.mastodon] base_url"
    )
