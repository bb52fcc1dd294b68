"""X source against the fake recent-search API over real HTTP."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from bot.config import SourceConfig
from bot.models import Mention
from bot.sources.base import RateLimited, SourceError
from bot.sources.state import SourceState
from bot.sources.x import X, build_query
from tests.fakes.x import FakeX
from tests.support import migrated_store, now, serving

QUERY = '(acme OR "acme corp") -is:retweet -from:acme -from:acmesupport'


@pytest.fixture
def fake():
    yield from serving(FakeX(token="x-bearer"))


@pytest.fixture
def make(fake, make_source):
    def make(*, token="x-bearer", cap=200, state=None, clock=time.time):
        return make_source(
            X,
            SourceConfig("x", base_url=fake.url),
            ("acme", "acme corp"),
            token=token,
            handles=("acme", "acmesupport"),
            max_posts_per_hour=cap,
            state=state,
            wall_clock=clock,
        )

    return make


def test_query_quotes_phrases_and_excludes_own_handles():
    assert build_query(("acme", "acme corp"), ("acme", "@acmesupport")) == QUERY
    assert build_query(("acme",), ()) == "acme -is:retweet"


def test_first_poll_with_start_time_and_whole_mention(fake, make):
    t = now()
    tweet = fake.add_tweet(
        "@acme my order never came &amp; I was charged twice &gt;:(",
        username="dana",
        name="Dana &amp; Co",
        followers=12,
        lang="fr",
        likes=4,
        retweets=1,
        replies=2,
        created_at=t - timedelta(minutes=5),
    )
    fake.add_tweet("acme: sorry to hear!", username="acmesupport")
    fake.add_tweet("RT acme", retweet_of=tweet["id"], username="kai")
    result = make().fetch({}, now=t)
    assert result.mentions == [
        Mention(
            source="x",
            external_id=tweet["id"],
            text="@acme my order never came & I was charged twice >:(",
            author="dana",
            author_name="Dana & Co",
            followers=12,
            url=f"https://x.com/dana/status/{tweet['id']}",
            created_at=t - timedelta(minutes=5),
            metrics={"reposts": 1, "likes": 4, "replies": 2},
            lang="fr",
        )
    ]
    assert result.cursors == {QUERY: tweet["id"]}
    assert fake.searches() == [
        {
            "query": QUERY,
            "max_results": "100",
            "expansions": "author_id",
            "tweet.fields": "created_at,public_metrics,lang,author_id",
            "user.fields": "username,name,public_metrics",
            "start_time": (t - timedelta(minutes=60)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    ]
    assert fake.requests[0].headers["authorization"] == "Bearer x-bearer"


def test_paging_and_since_id_from_the_first_page(fake, make):
    t = now()
    tweets = [
        fake.add_tweet(f"acme {i}", created_at=t - timedelta(seconds=200 - i)) for i in range(150)
    ]
    source = make(cap=1000)
    r1 = source.fetch({}, now=t)
    assert [p.get("next_token") for p in fake.searches()] == [None, "tok100"]
    assert len(r1.mentions) == 150
    assert r1.cursors == {QUERY: tweets[-1]["id"]}  # newest_id of the FIRST page
    fake.requests.clear()
    new = fake.add_tweet("acme again", created_at=t + timedelta(seconds=1))
    r2 = source.fetch(r1.cursors, now=t)
    assert fake.searches()[0]["since_id"] == tweets[-1]["id"]
    assert "start_time" not in fake.searches()[0]
    assert [m.external_id for m in r2.mentions] == [new["id"]]
    assert source.reads_last_hour() == 151


def test_no_new_posts_keeps_the_cursor(fake, make):
    result = make().fetch({QUERY: "1234"}, now=now())
    assert (result.mentions, result.cursors) == ([], {})


def test_read_cap_limits_max_results_and_persists_across_restarts(fake, make, tmp_path):
    store = migrated_store(tmp_path / "m.db")
    for i in range(40):
        fake.add_tweet(f"acme {i}", created_at=now() - timedelta(seconds=100 - i))
    first = make(cap=25, state=SourceState("x", store))
    r1 = first.fetch({}, now=now())
    assert [p["max_results"] for p in fake.searches()] == ["25"]
    assert len(r1.mentions) == 25
    assert r1.problems == [
        "X read cap reached (25 posts an hour): older posts since the last poll were not read"
    ]
    # a restart: the count comes back from the database
    again = make(cap=25, state=SourceState("x", store))
    assert again.reads_last_hour() == 25
    with pytest.raises(RateLimited) as info:
        again.fetch(r1.cursors, now=now())
    assert str(info.value) == (
        "X read cap reached: 25 posts read in the last hour ([sources.x] max_posts_per_hour = 25)"
    )
    assert 3590 <= info.value.retry_after <= 3600
    assert len(fake.searches()) == 1  # no paid call was made


def test_rate_limit_headers_at_zero_stop_calls_until_reset(fake, make):
    fake.remaining = 1
    fake.reset = int(time.time()) + 600
    fake.add_tweet("acme", created_at=now() - timedelta(minutes=1))
    source = make()
    assert len(source.fetch({}, now=now()).mentions) == 1  # that call used the last one
    with pytest.raises(RateLimited) as info:
        source.fetch({}, now=now())
    assert 590 <= info.value.retry_after <= 600
    assert len(fake.searches()) == 1


def test_429_waits_retry_after_and_500_recovers(fake, make):
    fake.add_tweet("acme", created_at=now() - timedelta(minutes=1))
    fake.fail_next(429, retry_after=5)
    fake.fail_next(500)
    source = make()
    assert len(source.fetch({}, now=now()).mentions) == 1
    assert source.sleeps[0] == 5.0 and len(source.sleeps) == 2


def test_edited_post_keeps_its_original_id(fake, make):
    t = now()
    original = fake.add_tweet("acme broke", created_at=t - timedelta(minutes=2))
    source = make()
    r1 = source.fetch({}, now=t)
    edited = fake.add_tweet("acme broke!!", edit_of=original["id"], created_at=t)
    r2 = source.fetch(r1.cursors, now=t)
    assert [m.external_id for m in r2.mentions] == [original["id"]]
    assert r2.mentions[0].url.endswith(edited["id"])


def test_bad_token_and_malformed_body(fake, make):
    with pytest.raises(SourceError) as info:
        make(token="nope").fetch({}, now=now())
    assert str(info.value) == (
        "127.0.0.1 refused X_BEARER_TOKEN (HTTP 401): check the token and that your X API "
        "plan includes recent search"
    )
    fake.fail_next(body="]")
    with pytest.raises(SourceError) as info:
        make().fetch({}, now=now())
    assert str(info.value) == "127.0.0.1 sent a body that is not JSON: ']'"


def test_a_token_with_a_stray_line_break_never_reaches_the_error(make):
    """httpx refuses such a header with its value in the message; that message would reach
    the log, source_health.last_error and the alert channel."""
    source = make(token="x-bearer-S3CRET\n")
    with pytest.raises(SourceError) as info:
        source.fetch({}, now=now())
    assert (str(info.value), source.sleeps) == (
        "could not send a request to 127.0.0.1: a header value is not valid HTTP (look for a "
        "stray space or line break in the credentials' environment variables)",
        [],  # not retried: the same header would be refused again
    )


def test_secrets_from_the_environment_are_trimmed():
    from bot.config import from_mapping

    settings, _ = from_mapping({}, {"X_BEARER_TOKEN": " x-bearer\n", "SLACK_BOT_TOKEN": "\t"})
    assert (settings.secrets.get("X_BEARER_TOKEN"), settings.secrets.get("SLACK_BOT_TOKEN")) == (
        "x-bearer",
        None,
    )
