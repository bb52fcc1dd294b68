"""The pipeline and poster in one process, over real HTTP to the fakes: fetch -> store ->
score -> post, the outbox's at-most-once promise, retries, cursors and source health."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bot import blocks, ids
from bot.config import Settings
from bot.pipeline import Pipeline
from bot.poster import SlackPoster
from bot.slack import make_client
from bot.sources import build_sources
from bot.sources.hackernews import HackerNews
from storage import Store
from tests.fakes.hn import FakeHN
from tests.fakes.slack import FakeSlack
from tests.support import ALERT_CHANNEL, BOT_TOKEN, write_config

URGENT = "My Acme order was charged twice and nobody answers support. Please refund me!"
CALM = "Acme's new dashboard looks nice."


@pytest.fixture
def setup(tmp_path):
    with FakeSlack(token=BOT_TOKEN) as slack, FakeHN() as hn:
        config = write_config(tmp_path, hn_url=hn.base_url)
        settings = Settings.load(
            environ={"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": slack.base_url},
            path=config,
            db_path=str(tmp_path / "m.db"),
        )
        store = Store(settings.db_path)
        store.migrate()
        client = make_client(settings)
        poster = SlackPoster(client, store, settings)
        sources, skipped = build_sources(settings)
        assert skipped == []
        hn_source: HackerNews = sources["hackernews"]
        hn_source.sleep = lambda seconds: None  # retries without real waiting
        pipeline = Pipeline(settings, store, sources, poster)
        yield {
            "slack": slack,
            "hn": hn,
            "store": store,
            "poster": poster,
            "pipeline": pipeline,
            "settings": settings,
        }
        hn_source.client.close()


def now_i() -> int:
    return int(time.time())


def test_urgent_mention_posted_once_calm_one_stored(setup):
    hn, slack, store = setup["hn"], setup["slack"], setup["store"]
    hn.add_hit(object_id="1", author="dana", comment_text=URGENT, created_at_i=now_i() - 100)
    hn.add_hit(object_id="2", author="kai", comment_text=CALM, created_at_i=now_i() - 50)
    hn.add_hit(
        object_id="3",
        author="acmesupport",
        comment_text="Acme: refund issued, sorry!",
        created_at_i=now_i() - 40,
    )
    hn.add_hit(
        object_id="4",
        author="x",
        comment_text="Buy the acme anvil, broken deal!",
        created_at_i=now_i() - 30,
    )
    report = setup["pipeline"].run_once("hackernews")
    assert (report.fetched, report.matched, report.new, report.urgent, report.posted) == (
        4,
        2,
        2,
        1,
        1,
    )
    posts = slack.calls_to("chat.postMessage")
    assert len(posts) == 1
    assert posts[0].args["metadata"]["event_payload"]["mention_id"] == 1
    # The card arrives ready to act on: Claim, Draft reply, Escalate, Open post and the menu.
    actions = [b for b in posts[0].args["blocks"] if b["type"] == "actions"][0]
    assert [e["action_id"] for e in actions["elements"]] == [
        ids.CLAIM,
        ids.DRAFT,
        ids.ESCALATE,
        ids.OPEN_POST,
        ids.MORE,
    ]
    rows = {r["external_id"]: r["status"] for r in [store.mention(1), store.mention(2)]}
    assert rows == {"1": "posted", "2": "new"}
    # A second poll sees the same hits again (overlap window): nothing new, nothing re-posted.
    again = setup["pipeline"].run_once("hackernews")
    assert (again.new, again.posted) == (0, 0)
    assert len(slack.calls_to("chat.postMessage")) == 1
    assert slack.errors == []


def test_cursor_moves_with_the_mentions(setup):
    hn, store = setup["hn"], setup["store"]
    created = now_i() - 100
    hn.add_hit(object_id="1", author="dana", comment_text=URGENT, created_at_i=created)
    setup["pipeline"].run_once("hackernews")
    cursors = store.cursors("hackernews")
    assert cursors["acme"] == str(created)
    # No hit for "acme corp" yet: its cursor stays where the first poll started looking.
    assert abs(int(cursors["acme corp"]) - (now_i() - 3600)) <= 5
    first = hn.requests[0]
    assert first["tags"] == "(story,comment)"
    assert first["numericFilters"].startswith("created_at_i>")
    asked = int(first["numericFilters"].split(">")[1])
    # First poll looks back lookback_minutes (60) minus the overlap window.
    assert abs((now_i() - 3600 - 120) - asked) <= 5
    hn.requests.clear()
    setup["pipeline"].run_once("hackernews")
    assert hn.requests[0]["numericFilters"] == f"created_at_i>{created - 120}"


def test_failed_poll_keeps_cursor_and_stores_nothing(setup):
    hn, store = setup["hn"], setup["store"]
    hn.add_hit(object_id="1", author="dana", comment_text=URGENT, created_at_i=now_i() - 100)
    hn.fail_next(status=500, times=10)
    report = setup["pipeline"].run_once("hackernews")
    assert report.error == "127.0.0.1 answered HTTP 500 4 times in a row"
    assert store.cursors("hackernews") == {}
    assert store.counts()["stored"] == 0
    health = store.health()[0]
    assert (health["consecutive_failures"], health["last_error"]) == (1, report.error)


def test_429_is_waited_out_not_a_failure(setup):
    hn, store = setup["hn"], setup["store"]
    hn.add_hit(object_id="1", author="dana", comment_text=URGENT, created_at_i=now_i() - 100)
    hn.fail_next(status=429, retry_after=1)
    report = setup["pipeline"].run_once("hackernews")
    assert (report.error, report.new, report.posted) == (None, 1, 1)
    assert store.health()[0]["consecutive_failures"] == 0


def test_malformed_body_is_a_clear_failure(setup):
    setup["hn"].fail_next(body="not json{", times=4)
    report = setup["pipeline"].run_once("hackernews")
    assert report.error == "127.0.0.1 sent a body that is not JSON: 'not json{'"


def test_health_notice_once_at_threshold_and_once_on_recovery(setup):
    hn, slack = setup["hn"], setup["slack"]
    hn.fail_next(status=500, times=4 * 5)
    for _ in range(5):
        setup["pipeline"].run_once("hackernews")
    notices = [
        c
        for c in slack.calls_to("chat.postMessage")
        if c.args["metadata"]["event_type"] == ids.NOTICE_EVENT_TYPE
    ]
    assert len(notices) == 1
    assert notices[0].args["channel"] == ALERT_CHANNEL
    assert "Hacker News failing since" in notices[0].args["text"]
    assert "HTTP 500" in notices[0].args["text"]
    setup["pipeline"].run_once("hackernews")
    setup["pipeline"].run_once("hackernews")
    notices = [
        c.args["text"]
        for c in slack.calls_to("chat.postMessage")
        if c.args["metadata"]["event_type"] == ids.NOTICE_EVENT_TYPE
    ]
    assert len(notices) == 2
    assert notices[1].startswith("✅ *🟧 Hacker News is back:*")


def test_slack_429_alert_posted_exactly_once_after_the_wait(setup):
    hn, slack = setup["hn"], setup["slack"]
    hn.add_hit(object_id="1", author="dana", comment_text=URGENT, created_at_i=now_i() - 100)
    slack.fail_next("chat.postMessage", status=429, retry_after=1)
    started = time.monotonic()
    report = setup["pipeline"].run_once("hackernews")
    assert report.posted == 1
    assert time.monotonic() - started >= 1.0
    attempts = slack.calls_to("chat.postMessage")
    assert [c.status for c in attempts] == [429, 200]
    assert len(slack.messages(ALERT_CHANNEL)) == 1


def test_slack_refusal_keeps_the_alert_queued(setup):
    hn, slack, store = setup["hn"], setup["slack"], setup["store"]
    hn.add_hit(object_id="1", author="dana", comment_text=URGENT, created_at_i=now_i() - 100)
    slack.fail_next("chat.postMessage", error="not_in_channel")
    report = setup["pipeline"].run_once("hackernews")
    assert report.posted == 0
    assert [r["last_error"] for r in store.outbox("pending")] == ["slack: not_in_channel"]
    assert setup["poster"].flush() == 1
    assert store.outbox("pending") == []
    assert len(slack.messages(ALERT_CHANNEL)) == 1


def test_crash_between_post_and_save_does_not_post_twice(setup, monkeypatch):
    hn, slack, store = setup["hn"], setup["slack"], setup["store"]
    hn.add_hit(object_id="1", author="dana", comment_text=URGENT, created_at_i=now_i() - 100)

    def crash(*args, **kwargs):
        raise SystemExit("killed after chat.postMessage, before saving its ts")

    monkeypatch.setattr(store, "mark_sent", crash)
    with pytest.raises(SystemExit):
        setup["pipeline"].run_once("hackernews")
    monkeypatch.undo()
    assert [r["state"] for r in store.outbox("sending")] == ["sending"]
    assert len(slack.messages(ALERT_CHANNEL)) == 1

    # "Restart": a new poster reconciles before posting anything.
    restarted = SlackPoster(make_client(setup["settings"]), store, setup["settings"])
    assert restarted.reconcile() == {"found": 1, "requeued": 0}
    assert restarted.flush() == 0
    assert len(slack.calls_to("chat.postMessage")) == 1
    row = store.mention(1)
    assert (row["status"], row["ts"]) == ("posted", slack.messages(ALERT_CHANNEL)[0]["ts"])


def test_interrupted_before_reaching_slack_is_posted_after_restart(setup, monkeypatch):
    hn, slack, store = setup["hn"], setup["slack"], setup["store"]
    hn.add_hit(object_id="1", author="dana", comment_text=URGENT, created_at_i=now_i() - 100)
    slack.fail_next("chat.postMessage", status=500, times=4)  # retries exhausted: outcome unknown
    setup["pipeline"].run_once("hackernews")
    assert len(store.outbox("sending")) == 1
    restarted = SlackPoster(make_client(setup["settings"]), store, setup["settings"])
    assert restarted.reconcile() == {"found": 0, "requeued": 1}
    assert restarted.flush() == 1
    assert len(slack.messages(ALERT_CHANNEL)) == 1


def test_one_source_hanging_does_not_block_another(tmp_path):
    """Each source polls in its own job; a hung platform only times out its own poll."""
    from bot.sources import base

    with FakeHN() as hung:
        hung.hang(30)
        settings = Settings.load(
            environ={},
            path=write_config(tmp_path, hn_url=hung.base_url),
            db_path=str(tmp_path / "m.db"),
        )
        source = build_sources(settings)[0]["hackernews"]
        source.client = httpx.Client(timeout=httpx.Timeout(0.5))
        source.sleep = lambda s: None
        started = time.monotonic()
        with pytest.raises(base.SourceError, match="did not answer in time"):
            source.fetch({}, now=datetime.now(UTC))
        assert time.monotonic() - started < 5
        source.client.close()
        hung.hang(0)


def test_replay_source_reads_new_lines_only(tmp_path):
    lines = [
        {"source": "bluesky", "id": "a", "text": URGENT, "author": "dana"},
        {"source": "bluesky", "id": "b", "text": CALM},
    ]
    feed = tmp_path / "m.jsonl"
    feed.write_text("\n".join(json.dumps(x) for x in lines) + "\nnot json\n", encoding="utf-8")
    config = write_config(tmp_path, extra=f'\n[sources.replay]\npath = "{feed.name}"\n')
    settings = Settings.load(environ={}, path=config, db_path=str(tmp_path / "m.db"))
    store = Store(settings.db_path)
    store.migrate()

    class Quiet:
        def flush(self):
            return 0

    pipeline = Pipeline(settings, store, build_sources(settings)[0], Quiet())
    report = pipeline.run_once("replay")
    assert (report.fetched, report.new, report.problems) == (
        2,
        2,
        [f"{feed}: line 3: not valid JSON (Expecting value)"],
    )
    with feed.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"source": "x", "id": "c", "text": URGENT}) + "\n")
    assert pipeline.run_once("replay").new == 1


def test_reconcile_finds_an_alert_even_without_metadata(setup, monkeypatch):
    """Should a workspace withhold message metadata, the card's block ids still identify it."""
    hn, slack, store = setup["hn"], setup["slack"], setup["store"]
    hn.add_hit(object_id="1", author="dana", comment_text=URGENT, created_at_i=now_i() - 100)
    monkeypatch.setattr(setup["poster"], "send", lambda *a: False)
    setup["pipeline"].run_once("hackernews")
    monkeypatch.undo()
    assert store.begin_send(1)
    card = blocks.alert_message(store.mention(1), datetime.now(UTC), sla_minutes=20)
    ts = slack.add_message(ALERT_CHANNEL, card["text"], bot=True, blocks=card["blocks"])
    slack.add_message(ALERT_CHANNEL, "someone else's message with the same words")
    assert setup["poster"].reconcile() == {"found": 1, "requeued": 0}
    assert store.mention(1)["ts"] == ts
    assert setup["poster"].flush() == 0
    assert slack.calls_to("chat.postMessage") == []


class Clock:
    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def replay_world(tmp_path, slack, clock, lines):
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    config = write_config(tmp_path, extra=f'\n[sources.replay]\npath = "{feed.name}"\n')
    settings = Settings.load(
        environ={"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": slack.base_url},
        path=config,
        db_path=str(tmp_path / "r.db"),
    )
    store = Store(settings.db_path, clock=clock)
    store.migrate()
    poster = SlackPoster(make_client(settings), store, settings, clock=clock)
    pipeline = Pipeline(settings, store, build_sources(settings)[0], poster, clock=clock)
    return feed, store, pipeline


def test_cross_post_shares_one_alert_listing_every_link(tmp_path):
    clock = Clock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    first = {
        "source": "x",
        "id": "1861",
        "author": "dana_w",
        "author_name": "Dana Whitfield",
        "text": "@acme charged me TWICE for order 44182!! Refund please https://t.co/abc #fail",
        "url": "https://x.com/dana_w/status/1861",
        "created_at": "2026-11-26T08:50:00Z",
    }
    again = {
        "source": "bluesky",
        "id": "3lc2",
        "author": "dana.bsky.social",
        "author_name": "dana whitfield",
        "text": "Acme charged me twice for order 44182! Refund please",
        "url": "https://bsky.app/profile/dana.bsky.social/post/3lc2",
        "created_at": "2026-11-26T08:55:00Z",
    }
    other = {
        **again,
        "id": "3lc3",
        "text": "Acme charged my card twice for a different order, 5512. Refund now please!",
    }
    with FakeSlack(token=BOT_TOKEN) as slack:
        feed, store, pipeline = replay_world(tmp_path, slack, clock, [first])
        assert pipeline.run_once("replay").posted == 1
        with feed.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(again) + "\n" + json.dumps(other) + "\n")
        report = pipeline.run_once("replay")
        assert (report.new, report.posted) == (2, 1)  # the cross-post joins; the other is new
        assert len(slack.messages(ALERT_CHANNEL)) == 2
        card = json.dumps(slack.messages(ALERT_CHANNEL)[0]["blocks"], ensure_ascii=False)
        link = "<https://bsky.app/profile/dana.bsky.social/post/3lc2|Bluesky ↗>"
        assert f"*Also posted on:* {link}" in card
        assert store.mention(2)["duplicate_of"] == 1
        assert store.mention(3)["duplicate_of"] is None
        assert [e["action"] for e in store.events(2)] == ["stored", "cross_post"]


def test_silence_gets_one_notice(tmp_path):
    clock = Clock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    with FakeSlack(token=BOT_TOKEN) as slack:
        feed, store, pipeline = replay_world(tmp_path, slack, clock, [])
        pipeline.run_once("replay")
        clock.now += timedelta(hours=23)
        pipeline.run_once("replay")
        assert slack.calls_to("chat.postMessage") == []
        clock.now += timedelta(hours=2)
        pipeline.run_once("replay")
        pipeline.run_once("replay")
        notices = [c.args["text"] for c in slack.calls_to("chat.postMessage")]
        assert notices == [
            "🔕 *📼 Replay has been quiet:* it answers, but has not brought any mention for 24 h. "
            "If that is unusual for Acme, check [sources.replay] path and the search terms."
        ]
        with feed.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"source": "x", "id": "9", "text": "acme is fine"}) + "\n")
        pipeline.run_once("replay")
        assert store.health()[0]["notice"] is None


def _replay(tmp_path, content: bytes):
    from bot.config import SourceConfig
    from bot.sources.replay import Replay

    feed = tmp_path / "m.jsonl"
    feed.write_bytes(content)
    return feed, Replay(SourceConfig("replay"), feed)


def _lines_read(cursors: dict[str, str], feed) -> int:
    assert list(cursors) == [str(feed)]
    return json.loads(cursors[str(feed)])["lines"]


def test_replay_leaves_a_half_written_last_line_for_the_next_poll(tmp_path):
    """A writer appending to the file may be mid-line: that line is read once it is whole,
    not counted as read and lost."""
    whole = json.dumps({"source": "x", "id": "c", "text": URGENT})
    feed, source = _replay(
        tmp_path,
        (json.dumps({"source": "x", "id": "a", "text": CALM}) + "\n").encode()
        + whole[:20].encode(),
    )
    first = source.fetch({}, now=datetime.now(UTC))
    with feed.open("a", encoding="utf-8") as fh:
        fh.write(whole[20:] + "\n")
    second = source.fetch(first.cursors, now=datetime.now(UTC))
    assert (
        [m.external_id for m in first.mentions],
        _lines_read(first.cursors, feed),
        first.problems,
        [m.external_id for m in second.mentions],
        _lines_read(second.cursors, feed),
        second.problems,
    ) == (["a"], 1, [], ["c"], 2, [])


def test_replay_names_a_line_that_is_not_utf8_and_reads_the_rest(tmp_path):
    good = [json.dumps({"source": "x", "id": i, "text": CALM}).encode() for i in ("a", "b")]
    feed, source = _replay(tmp_path, good[0] + b"\n\xff\xfe broken\n" + good[1] + b"\n")
    result = source.fetch({}, now=datetime.now(UTC))
    assert (
        [m.external_id for m in result.mentions],
        _lines_read(result.cursors, feed),
        result.problems,
    ) == (
        ["a", "b"],
        3,
        [f"{feed}: line 2: not UTF-8 text (save the file as UTF-8)"],
    )


def test_replay_bounds_and_normalises_the_title_too(tmp_path):
    line = {"source": "x", "id": "t", "text": "Acme  broke", "title": "Acme\n\n\n  " + "x" * 50_000}
    _, source = _replay(tmp_path, (json.dumps(line) + "\n").encode())
    (mention,) = source.fetch({}, now=datetime.now(UTC)).mentions
    assert (mention.text, mention.title) == ("Acme broke", ("Acme\n\n" + "x" * 50_000)[:40_000])


# --- more new posts in one interval than one poll reads -------------------------------------


class _Quiet:
    def flush(self):
        return 0


def _hn_pipeline(tmp_path, hn: FakeHN, **source_kwargs):
    config = write_config(tmp_path, hn_url=hn.base_url)
    settings = Settings.load(environ={}, path=config, db_path=str(tmp_path / "m.db"))
    store = Store(settings.db_path)
    store.migrate()
    source = HackerNews(
        settings.sources["hackernews"],
        ("acme",),
        client=httpx.Client(timeout=10),
        sleep=lambda s: None,
        **source_kwargs,
    )
    return store, source, Pipeline(settings, store, {"hackernews": source}, _Quiet())


def _add_burst(hn: FakeHN, count: int, newest: int, prefix: str = "") -> set[str]:
    """`count` hits, newest first, several to a second and one second with 250 of them."""
    added = set()
    for i in range(count):
        moment = newest - (i // 3 if i < 600 else 200 if i < 850 else i // 3 - 83)
        hit = hn.add_hit(
            object_id=f"{prefix}{i}",
            author=f"user{i}",
            comment_text=f"Acme question number {prefix}{i}",
            created_at_i=moment,
        )
        added.add(hit["objectID"])
    return added


def _stored_ids(store: Store) -> list[str]:
    with store.connect() as db:
        return [r[0] for r in db.execute("SELECT external_id FROM mentions")]


def test_hn_burst_over_the_poll_cap_is_read_over_several_polls_each_hit_once(tmp_path):
    """2,500 hits in one interval, 1,000 a poll: the cursor keeps the gap, the next polls finish
    it (oldest part last), and every hit is stored exactly once; hits that arrive meanwhile
    are read once the gap is closed."""
    with FakeHN() as hn:
        store, source, pipeline = _hn_pipeline(tmp_path, hn, max_hits=1000)
        top = now_i() - 60
        added = _add_burst(hn, 2500, top)
        first = pipeline.run_once("hackernews")
        assert first.error is None and 1000 <= first.new < 1100
        gap = json.loads(store.cursors("hackernews")["acme"])
        assert gap["newest"] == top and gap["before"] < top
        later = hn.add_hit(object_id="late", comment_text="Acme again", created_at_i=top + 30)
        added.add(later["objectID"])
        reports = [pipeline.run_once("hackernews") for _ in range(4)]
        assert [r.error for r in reports] == [None] * 4
        stored = _stored_ids(store)
        assert (len(stored), set(stored)) == (2501, added)
        assert first.new + sum(r.new for r in reports) == 2501
        assert store.cursors("hackernews")["acme"] == str(top + 30)  # a plain cursor again
        # Algolia's limit: no request pages past the first 1,000 hits of its query.
        assert all((int(r.get("page", 0)) + 1) * int(r["hitsPerPage"]) <= 1000 for r in hn.requests)
        assert hn.errors == []
        source.client.close()


def test_hn_one_poll_reads_past_algolias_1000_hit_limit(tmp_path):
    with FakeHN() as hn:
        store, source, pipeline = _hn_pipeline(tmp_path, hn, max_hits=5000)
        top = now_i() - 60
        added = _add_burst(hn, 2500, top)
        report = pipeline.run_once("hackernews")
        assert (report.error, report.problems, report.new) == (None, [], 2500)
        assert set(_stored_ids(store)) == added
        assert store.cursors("hackernews")["acme"] == str(top)
        assert any(",created_at_i<=" in r["numericFilters"] for r in hn.requests)
        source.client.close()


def test_hn_old_plain_cursor_still_works_and_a_gap_cursor_is_finished_first(tmp_path):
    with FakeHN() as hn:
        store, source, pipeline = _hn_pipeline(tmp_path, hn, max_hits=1000)
        top = now_i() - 60
        for i, moment in enumerate((top - 1000, top - 600, top - 100, top)):
            hn.add_hit(object_id=str(i), comment_text=f"Acme {i}", created_at_i=moment)
        result = source.fetch({"acme": str(top - 700)}, now=datetime.now(UTC))
        assert sorted(m.external_id for m in result.mentions) == ["1", "2", "3"]
        assert result.cursors == {"acme": str(top)}
        gap = json.dumps({"since": top - 2000, "before": top - 900, "newest": top - 100})
        result = source.fetch({"acme": gap}, now=datetime.now(UTC))
        # The gap (only hit 0 in it), then on from the newest seen (overlap: hit 2 again, 3).
        assert [m.external_id for m in result.mentions] == ["0", "3", "2"]
        assert result.cursors == {"acme": str(top)}
        source.client.close()


def _jsonl(*ids: str) -> bytes:
    return b"".join(
        json.dumps({"source": "x", "id": i, "text": CALM}).encode() + b"\n" for i in ids
    )


@pytest.mark.parametrize(
    ("rewrite", "expected"),
    [
        pytest.param(lambda feed: feed.write_bytes(_jsonl("d")), ["d"], id="shorter"),
        # Same size and line count, another first line: a rotated file, not an appended one.
        pytest.param(
            lambda feed: feed.write_bytes(_jsonl("d", "e", "f")), ["d", "e", "f"], id="same-size"
        ),
        # Rotated by renaming the old one away and starting a new file.
        pytest.param(
            lambda feed: (feed.rename(feed.with_suffix(".1")), feed.write_bytes(_jsonl("d"))),
            ["d"],
            id="renamed",
        ),
    ],
)
def test_replay_reads_a_replaced_file_from_the_top(tmp_path, rewrite, expected):
    feed, source = _replay(tmp_path, _jsonl("a", "b", "c"))
    first = source.fetch({}, now=datetime.now(UTC))
    rewrite(feed)
    second = source.fetch(first.cursors, now=datetime.now(UTC))
    with feed.open("ab") as fh:
        fh.write(_jsonl("g"))
    third = source.fetch(second.cursors, now=datetime.now(UTC))
    assert [
        [m.external_id for m in first.mentions],
        [m.external_id for m in second.mentions],
        [m.external_id for m in third.mentions],
    ] == [["a", "b", "c"], expected, ["g"]]
    assert _lines_read(third.cursors, feed) == len(expected) + 1


def test_replay_understands_the_old_line_count_cursor(tmp_path):
    feed, source = _replay(tmp_path, _jsonl("a", "b", "c"))
    appended = source.fetch({str(feed): "2"}, now=datetime.now(UTC))
    feed.write_bytes(_jsonl("d"))  # rotated while an old version was running
    rotated = source.fetch({str(feed): "3"}, now=datetime.now(UTC))
    assert (
        [m.external_id for m in appended.mentions],
        [m.external_id for m in rotated.mentions],
    ) == (
        ["c"],
        ["d"],
    )
    assert _lines_read(appended.cursors, feed) == 3
