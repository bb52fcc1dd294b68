"""Reddit source against the fake OAuth API over real HTTP."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from bot import __version__
from bot.config import SourceConfig
from bot.models import Mention
from bot.sources.base import RateLimited, SourceError
from bot.sources.reddit import Reddit
from tests.fakes.reddit import FakeReddit
from tests.support import now, serving


@pytest.fixture
def fake():
    yield from serving(FakeReddit(client_id="rid", client_secret="rsecret"))


@pytest.fixture
def make(fake, make_source):
    def make(*, secret="rsecret", subreddits=(), user_agent=None):
        return make_source(
            Reddit,
            SourceConfig("reddit", base_url=fake.url),
            ("acme",),
            client_id="rid",
            client_secret=secret,
            subreddits=subreddits,
            token_url=fake.token_url,
            user_agent=user_agent,
        )

    return make


def test_first_poll_token_search_and_whole_mention(fake, make):
    t = now()
    fake.add_post("acme ancient", created_utc=(t - timedelta(hours=5)).timestamp())
    post = fake.add_post(
        "Acme   laptop dead",
        "Bought it last week & it <b>will not</b> turn on.",
        created_utc=(t - timedelta(minutes=3)).timestamp(),
        score=7,
        num_comments=3,
    )
    result = make().fetch({}, now=t)
    assert result.mentions == [
        Mention(
            source="reddit",
            external_id=post["name"],
            text="Bought it last week & it <b>will not</b> turn on.",
            title="Acme laptop dead",
            author="dana_k",
            author_name="dana_k",
            url=f"https://www.reddit.com{post['permalink']}",
            created_at=t - timedelta(minutes=3),
            metrics={"likes": 7, "replies": 3},
        )
    ]
    assert result.cursors == {
        "acme": f"{post['name']}@{(t - timedelta(minutes=3)).timestamp():.0f}"
    }
    token, search = fake.requests
    assert (token.method, token.path, token.form()) == (
        "POST",
        "/api/v1/access_token",
        {"grant_type": "client_credentials"},
    )
    assert token.headers["user-agent"] == f"python:mentionops:{__version__} (self-hosted)"
    assert search.params == {
        "q": "acme",
        "sort": "new",
        "type": "link",
        "limit": "100",
        "raw_json": "1",
    }
    assert search.headers["authorization"].startswith("bearer eyJ")


def test_incremental_poll_sends_before_and_walks_newer_pages(fake, make):
    t = now()
    first = fake.add_post("acme 0", created_utc=(t - timedelta(minutes=30)).timestamp())
    source = make()
    r1 = source.fetch({}, now=t)
    newer = [
        fake.add_post(f"acme {i}", created_utc=(t - timedelta(minutes=29)).timestamp() + i)
        for i in range(1, 151)
    ]
    fake.requests.clear()
    r2 = source.fetch(r1.cursors, now=t)
    befores = [r.params.get("before") for r in fake.searches()]
    assert befores == [first["name"], newer[99]["name"]]  # the page just newer, then newer still
    assert sorted(m.external_id for m in r2.mentions) == sorted(p["name"] for p in newer)
    assert r2.cursors["acme"].startswith(newer[-1]["name"] + "@")
    assert [r.path for r in fake.requests].count("/api/v1/access_token") == 0  # token cached


def test_removed_cursor_post_falls_back_to_the_newest_page(fake, make):
    t = now()
    first = fake.add_post("acme 0", created_utc=(t - timedelta(minutes=10)).timestamp())
    source = make()
    r1 = source.fetch({}, now=t)
    fake.remove(first["name"])
    later = fake.add_post("acme later", created_utc=(t - timedelta(minutes=1)).timestamp())
    r2 = source.fetch(r1.cursors, now=t)
    assert [m.external_id for m in r2.mentions] == [later["name"]]


def test_subreddits_restrict_the_search(fake, make):
    fake.add_post("acme here", subreddit="acme")
    fake.add_post("acme elsewhere", subreddit="pics")
    result = make(subreddits=("r/acme",), user_agent="bot:acme-care:1.0 (by u/acme)").fetch(
        {}, now=now()
    )
    assert [m.title or m.text for m in result.mentions] == ["acme here"]
    assert list(result.cursors) == ["r/acme:acme"]
    search = fake.searches()[0]
    assert (search.path, search.params["restrict_sr"]) == ("/r/acme/search", "1")
    assert search.headers["user-agent"] == "bot:acme-care:1.0 (by u/acme)"


def test_expired_token_gets_a_new_one(fake, make):
    source = make()
    fake.add_post("acme", created_utc=time.time() - 60)
    source.fetch({}, now=now())
    fake.expire_tokens()
    fake.requests.clear()
    assert len(source.fetch({}, now=now()).mentions) == 1
    assert [r.path for r in fake.requests] == [
        "/search",
        "/api/v1/access_token",
        "/search",
    ]


def test_bad_credentials_name_the_variables(fake, make):
    with pytest.raises(SourceError) as info:
        make(secret="wrong").fetch({}, now=now())
    assert str(info.value) == (
        "127.0.0.1 refused the app credentials (HTTP 401): check REDDIT_CLIENT_ID and "
        "REDDIT_CLIENT_SECRET (a 'script' or 'web' app)"
    )


def test_ratelimit_headers_at_zero_wait_for_reset(fake, make):
    fake.ratelimit_remaining = 1
    fake.ratelimit_reset = 240
    source = make()
    source.fetch({}, now=now())
    with pytest.raises(RateLimited) as info:
        source.fetch({}, now=now())
    assert 235 <= info.value.retry_after <= 240


def test_429_waits_retry_after_500_recovers_and_malformed_fails(fake, make):
    fake.add_post("acme", created_utc=time.time() - 60)
    fake.fail_next(429, retry_after=2, path="/search")
    fake.fail_next(500, path="/search")
    source = make()
    assert len(source.fetch({}, now=now()).mentions) == 1
    assert source.sleeps[0] == 2.0 and len(source.sleeps) == 2
    fake.fail_next(body='{"kind": "t3"}', path="/search")
    with pytest.raises(SourceError) as info:
        source.fetch({}, now=now())
    assert str(info.value) == "127.0.0.1 sent a search answer that is not a Listing"


def test_edited_post_is_the_same_mention(fake, make):
    t = now()
    post = fake.add_post(
        "acme broke", "it broke", created_utc=(t - timedelta(minutes=2)).timestamp()
    )
    source = make()
    r1 = source.fetch({}, now=t)
    fake.posts[0]["selftext"] = "it broke (edit: still broken)"
    r2 = source.fetch({}, now=t)  # e.g. a lost cursor: the same post again
    assert [m.external_id for m in r1.mentions] == [m.external_id for m in r2.mentions]
    assert r2.mentions[0].external_id == post["name"]
