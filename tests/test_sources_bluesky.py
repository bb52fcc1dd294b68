"""Bluesky source against the fake XRPC server over real HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.config import SourceConfig
from bot.models import Mention
from bot.sources.base import RateLimited, SourceError
from bot.sources.bluesky import Bluesky, _stamp
from bot.sources.state import SourceState
from tests.fakes.bluesky import FakeBluesky
from tests.support import migrated_store, now, serving

SEARCH = "/xrpc/app.bsky.feed.searchPosts"


@pytest.fixture
def fake():
    yield from serving(FakeBluesky())


@pytest.fixture
def make(fake, make_source):
    def make(*, password="app-pass", state=None, queries=("acme",), **config):
        return make_source(
            Bluesky,
            SourceConfig("bluesky", base_url=fake.url, **config),
            queries,
            handle="acme-care.bsky.social",
            password=password,
            state=state,
        )

    return make


def nsids(fake) -> list[str]:
    return [p.removeprefix("/xrpc/") for p in fake.paths()]


def test_first_poll_looks_back_and_builds_whole_mentions(fake, make):
    t = now()
    old = fake.add_post("acme from two hours ago", created_at=t - timedelta(hours=2))
    post = fake.add_post(
        "My  Acme laptop &amp; charger\n\n\n died",
        created_at=t - timedelta(minutes=5),
        langs=["en", "de"],
        followers=4321,
        likes=3,
        reposts=2,
        replies=1,
    )
    source = make()
    result = source.fetch({}, now=t)
    rkey = post["uri"].rsplit("/", 1)[1]
    assert result.mentions == [
        Mention(
            source="bluesky",
            external_id=post["uri"],
            text="My Acme laptop & charger\n\ndied",
            author="dana.bsky.social",
            author_name="Dana",
            followers=4321,
            url=f"https://bsky.app/profile/dana.bsky.social/post/{rkey}",
            created_at=t - timedelta(minutes=5),
            metrics={"reposts": 2, "likes": 3, "replies": 1},
            lang="en",
        )
    ]
    assert old["uri"] not in {m.external_id for m in result.mentions}
    assert result.cursors == {"acme": _stamp(t - timedelta(minutes=5))}
    assert result.problems == []
    assert nsids(fake) == [
        "com.atproto.server.createSession",
        "app.bsky.feed.searchPosts",
        "app.bsky.actor.getProfiles",
    ]
    search = fake.requests[1].params
    assert search == {
        "q": "acme",
        "sort": "latest",
        "since": _stamp(t - timedelta(minutes=60, seconds=120)),
        "limit": "100",
    }
    assert fake.requests[0].json() == {
        "identifier": "acme-care.bsky.social",
        "password": "app-pass",
    }


def test_incremental_poll_sends_since_with_overlap_and_sees_late_post_once(fake, make):
    t = now()
    source = make()
    first = fake.add_post("acme one", created_at=t - timedelta(minutes=3))
    r1 = source.fetch({}, now=t)
    cursor = r1.cursors["acme"]
    # indexed late: created before the cursor, inside the overlap window
    late = fake.add_post("acme late", created_at=t - timedelta(minutes=4))
    fake.requests.clear()
    r2 = source.fetch(r1.cursors, now=t + timedelta(minutes=1))
    assert fake.requests[0].params["since"] == _stamp(
        datetime.fromisoformat(cursor.replace("Z", "+00:00")) - timedelta(seconds=120)
    )
    assert [m.external_id for m in r2.mentions] == [first["uri"], late["uri"]]
    assert r2.cursors == {"acme": cursor}
    # followers are cached for a day: no second getProfiles for the same author
    assert nsids(fake) == ["app.bsky.feed.searchPosts"]


def test_pagination_follows_cursor(fake, make):
    t = now()
    for i in range(130):
        fake.add_post(f"acme post {i}", created_at=t - timedelta(seconds=i + 1))
    result = make().fetch({}, now=t)
    searches = [r.params.get("cursor") for r in fake.requests if r.path == SEARCH]
    assert searches == [None, "100"]
    assert len({m.external_id for m in result.mentions}) == 130
    assert len([r for r in fake.requests if r.path.endswith("getProfiles")]) == 1


def test_429_waits_retry_after(fake, make):
    fake.add_post("acme", created_at=now() - timedelta(minutes=1))
    fake.fail_next(429, retry_after=7, path=SEARCH)
    source = make()
    result = source.fetch({}, now=now())
    assert source.sleeps == [7.0]
    assert len(result.mentions) == 1


def test_long_retry_after_is_rate_limited_not_failure(fake, make):
    fake.fail_next(429, retry_after=900, path=SEARCH)
    with pytest.raises(RateLimited) as info:
        make().fetch({}, now=now())
    assert info.value.retry_after == 900


def test_500_then_recovery(fake, make):
    fake.add_post("acme", created_at=now() - timedelta(minutes=1))
    fake.fail_next(500, path=SEARCH, times=2)
    source = make()
    assert len(source.fetch({}, now=now()).mentions) == 1
    assert len(source.sleeps) == 2


def test_malformed_body_is_a_clear_error(fake, make):
    fake.fail_next(body="<html>oops", path=SEARCH)
    with pytest.raises(SourceError) as info:
        make().fetch({}, now=now())
    assert str(info.value) == "127.0.0.1 sent a body that is not JSON: '<html>oops'"


def test_expired_access_token_is_refreshed_not_a_new_login(fake, make):
    source = make()
    fake.add_post("acme", created_at=now() - timedelta(minutes=1))
    source.fetch({}, now=now())
    fake.expire_access_tokens()
    fake.requests.clear()
    result = source.fetch({}, now=now())
    assert len(result.mentions) == 1
    assert nsids(fake) == [
        "app.bsky.feed.searchPosts",
        "com.atproto.server.refreshSession",
        "app.bsky.feed.searchPosts",
    ]


def test_refused_refresh_logs_in_again(fake, make):
    source = make()
    source.fetch({}, now=now())
    fake.expire_access_tokens()
    fake.revoke_refresh_tokens()
    fake.requests.clear()
    source.fetch({}, now=now())
    assert nsids(fake) == [
        "app.bsky.feed.searchPosts",
        "com.atproto.server.refreshSession",
        "com.atproto.server.createSession",
        "app.bsky.feed.searchPosts",
    ]


def test_wrong_app_password_names_the_variables(fake, make):
    with pytest.raises(SourceError) as info:
        make(password="nope").fetch({}, now=now())
    assert str(info.value) == (
        "127.0.0.1 refused the app password (401 AuthenticationRequired): "
        "check BLUESKY_HANDLE and BLUESKY_APP_PASSWORD"
    )


def test_logins_are_remembered_across_restarts_and_budgeted(fake, make, tmp_path):
    store = migrated_store(tmp_path / "m.db")
    for _ in range(10):  # ten restarts, each logging in once
        make(state=SourceState("bluesky", store)).fetch({}, now=now())
    with pytest.raises(RateLimited) as info:
        make(state=SourceState("bluesky", store)).fetch({}, now=now())
    assert "10 Bluesky logins in the last 5 minutes" in str(info.value)
    assert len(fake.calls("com.atproto.server.createSession")) == 10
    # only login times are stored, never a token
    with store.connect() as db:
        rows = list(db.query("SELECT source, key FROM source_state"))
        values = " ".join(r[0] for r in db.execute("SELECT value FROM source_state"))
    assert rows == [{"source": "bluesky", "key": "logins"}]
    assert "acc." not in values and "ref." not in values and "app-pass" not in values


def test_repr_hides_tokens(fake, make):
    source = make()
    source.fetch({}, now=now())
    assert repr(source) == "Bluesky(handle='acme-care.bsky.social', logged_in=True)"
