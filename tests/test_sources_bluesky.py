"""Bluesky source against the fake XRPC server over real HTTP."""

from __future__ import annotations

import json
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
    def make(*, password="app-pass", state=None, queries=("acme",), max_posts=None, **config):
        return make_source(
            Bluesky,
            SourceConfig("bluesky", base_url=fake.url, **config),
            queries,
            handle="acme-care.bsky.social",
            password=password,
            state=state,
            **({} if max_posts is None else {"max_posts": max_posts}),
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


def _burst(fake, count: int, newest: datetime) -> set[str]:
    """`count` posts, newest first, a few to a second and 250 in one millisecond."""
    uris = set()
    for i in range(count):
        if 600 <= i < 850:
            moment = newest - timedelta(seconds=200)
        else:
            moment = newest - timedelta(seconds=i // 3, milliseconds=i % 3)
        uris.add(fake.add_post(f"acme burst {i}", created_at=moment)["uri"])
    return uris


def _poll_until_quiet(source, t, polls: int):
    """Polls as the pipeline does (cursors move only with the mentions); returns
    (every mention id read, the cursor after each poll, how many each poll read)."""
    cursors: dict[str, str] = {}
    read: list[str] = []
    history = []
    counts = []
    for n in range(polls):
        result = source.fetch(cursors, now=t + timedelta(minutes=n))
        assert result.problems == []
        read.extend(m.external_id for m in result.mentions)
        counts.append(len(result.mentions))
        cursors = result.cursors
        history.append(cursors["acme"])
    return read, history, counts


def test_burst_over_the_poll_cap_is_read_over_several_polls(fake, make):
    """2,500 new posts in one interval, 1,000 a poll: nothing is skipped; the cursor keeps the
    gap still to read, and goes back to a plain timestamp once it is read."""
    t = now()
    newest = t - timedelta(minutes=1)
    uris = _burst(fake, 2500, newest)
    source = make(max_posts=1000)
    read, history, counts = _poll_until_quiet(source, t, 4)
    assert set(read) == uris
    gap = json.loads(history[0])
    assert gap["newest"] == _stamp(newest) and gap["before"] < _stamp(newest)
    assert history[-1] == _stamp(newest)
    # A poll reads about its cap (a page more at most), not the whole backlog again.
    assert all(1000 <= n < 1100 for n in counts[:2]), counts
    windows = [r.params for r in fake.requests if r.path == SEARCH]
    assert any("until" in p for p in windows)


def test_one_poll_narrows_its_window_when_pages_run_deep(fake, make):
    t = now()
    uris = _burst(fake, 2500, t - timedelta(minutes=1))
    result = make(max_posts=10_000).fetch({}, now=t)
    assert ({m.external_id for m in result.mentions}, result.problems) == (uris, [])
    assert result.cursors == {"acme": _stamp(t - timedelta(minutes=1))}
    pages = [r.params.get("cursor") for r in fake.requests if r.path == SEARCH]
    assert max(int(c or 0) for c in pages) < 1000  # never deeper than 10 pages of 100


def test_old_plain_cursor_and_a_gap_cursor(fake, make):
    t = now()
    old = fake.add_post("acme old", created_at=t - timedelta(minutes=30))
    mid = fake.add_post("acme mid", created_at=t - timedelta(minutes=10))
    new = fake.add_post("acme new", created_at=t - timedelta(minutes=1))
    source = make()
    plain = source.fetch({"acme": _stamp(t - timedelta(minutes=20))}, now=t)
    assert [m.external_id for m in plain.mentions] == [new["uri"], mid["uri"]]
    gap = json.dumps(
        {
            "since": _stamp(t - timedelta(hours=1)),
            "before": _stamp(t - timedelta(minutes=20)),
            "newest": _stamp(t - timedelta(minutes=5)),
        }
    )
    result = source.fetch({"acme": gap}, now=t)
    assert [m.external_id for m in result.mentions] == [old["uri"], new["uri"]]
    assert result.cursors == {"acme": _stamp(t - timedelta(minutes=1))}
