"""storage: migrations, save_batch with outbox and cursors, CAS state changes, audit events."""

from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from datetime import UTC, datetime, timedelta

import pytest
from sqlite_utils import Database

from bot.models import Mention, Score
from storage import Saved, Store, Transition
from storage.migrations import migrations

T0 = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
NOW = "2026-11-26T09:30:00Z"

TABLES = [
    "_sqlite_migrations",
    "cursors",
    "digests",
    "drafts",
    "events",
    "lease",
    "mentions",
    "meta",
    "oncall_overrides",
    "outbox",
    "pagerduty_outbox",
    "source_health",
    "source_state",
    "storms",
]
INDEXES = [
    "events_at",
    "events_first_claim",
    "events_mention",
    "mentions_author",
    "mentions_author_lower",
    "mentions_category_created",
    "mentions_created",
    "mentions_duplicate_of",
    "mentions_message",
    "mentions_name_lower",
    "mentions_source_created",
    "mentions_status_created",
    "mentions_urgent_created",
    "oncall_overrides_ends",
    "outbox_channel_created",
    "outbox_state",
    "outbox_thread",
    "pagerduty_outbox_state",
]


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = T0):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs) -> None:
        self.now += timedelta(**kwargs)


# Every migration, in the order they are applied; each named step ships once and never changes.
def _all_migrations() -> list[str]:
    db = Database(memory=True)
    try:
        return [m.name for m in migrations.pending(db)]
    finally:
        db.close()


ALL_MIGRATIONS = _all_migrations()


def test_migration_names_are_ordered_and_unique():
    assert ALL_MIGRATIONS[0] == "0001_initial"
    assert sorted(ALL_MIGRATIONS) == ALL_MIGRATIONS
    assert len(set(ALL_MIGRATIONS)) == len(ALL_MIGRATIONS)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store(tmp_path, clock):
    s = Store(tmp_path / "x.db", clock=clock)
    assert s.migrate() == ALL_MIGRATIONS
    return s


def query(store: Store, sql: str, params=()) -> list[tuple]:
    with closing(sqlite3.connect(store.path)) as conn:
        return conn.execute(sql, params).fetchall()


def mention(n: int, *, source: str = "hackernews", **changes) -> Mention:
    fields = {
        "source": source,
        "external_id": str(n),
        "text": f"acme mention {n}",
        "author": f"user{n}",
        "author_name": f"User {n}",
        "followers": n * 10,
        "url": f"https://news.ycombinator.com/item?id={n}",
        "created_at": T0 - timedelta(minutes=n),
        "metrics": {"points": n},
    }
    fields.update(changes)
    return Mention(**fields)


def score(urgent: bool = True, urgency: int | None = None, reasons=None) -> Score:
    return Score(
        urgency=(80 if urgent else 10) if urgency is None else urgency,
        urgent=urgent,
        category="outage" if urgent else "other",
        sentiment=-0.5 if urgent else 0.2,
        reasons=["broken device"] if reasons is None else reasons,
    )


def posted(store: Store, n: int, **changes) -> int:
    """Store one urgent mention and post it; returns its id."""
    saved = store.save_batch(
        changes.pop("source", "hackernews"), [(mention(n, **changes), score())], alert_channel="C0A"
    )
    [mention_id] = saved.new_ids
    assert store.begin_send(mention_id) is True
    assert store.mark_sent(mention_id, "C0A", f"1764149940.{n:06d}").ok is True
    return mention_id


# --- migrations --------------------------------------------------------------------------------


def test_migrate_creates_schema(tmp_path, clock):
    store = Store(tmp_path / "nested" / "dir" / "x.db", clock=clock)
    assert store.migrate() == ALL_MIGRATIONS
    assert store.migrate() == []
    assert query(store, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") == [
        (t,) for t in TABLES
    ]
    assert query(
        store,
        "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        " AND name NOT LIKE 'idx__sqlite_migrations%' ORDER BY name",
    ) == [(i,) for i in INDEXES]
    assert query(store, "PRAGMA journal_mode") == [("wal",)]
    assert query(store, "SELECT key, value FROM meta") == [("created_at", NOW)]
    # A later migrate keeps the first creation time.
    clock.advance(days=3)
    assert store.migrate() == []
    assert store.meta("created_at") == NOW
    assert store.meta("missing") is None


def test_two_processes_migrating_a_new_file_at_once(tmp_path, clock):
    """Two `mentionops run` started together on a new database: one applies every step, the
    other waits for it and finds nothing left to do (no "table already exists")."""
    path = tmp_path / "fresh.db"
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("PRAGMA journal_mode = WAL")
    blocker.execute("BEGIN IMMEDIATE")  # both read "nothing applied yet", then wait to write
    stores = [Store(path, clock=clock) for _ in range(2)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(s.migrate) for s in stores]
        threading.Event().wait(0.5)
        blocker.execute("COMMIT")
        blocker.close()
        applied = sorted((f.result(timeout=20) for f in futures), key=len)
    assert applied == [[], ALL_MIGRATIONS]
    assert query(stores[0], "SELECT count(*) FROM _sqlite_migrations") == [(len(ALL_MIGRATIONS),)]
    assert query(stores[0], "SELECT key, value FROM meta") == [("created_at", NOW)]


def test_migrations_on_in_memory_database():
    db = Database(memory=True)
    try:
        assert [m.name for m in migrations.pending(db)] == ALL_MIGRATIONS
        migrations.apply(db)
        assert [m.name for m in migrations.pending(db)] == []
        assert sorted(db.table_names()) == TABLES
        assert db["mentions"].columns_dict == {
            "id": int,
            "source": str,
            "external_id": str,
            "url": str,
            "author": str,
            "author_name": str,
            "followers": int,
            "title": str,
            "text": str,
            "lang": str,
            "metrics": str,
            "created_at": str,
            "fetched_at": str,
            "urgency": int,
            "urgent": int,
            "category": str,
            "sentiment": float,
            "reasons": str,
            "status": str,
            "status_at": str,
            "claimed_by": str,
            "claimed_at": str,
            "resolved_by": str,
            "resolved_at": str,
            "outcome": str,
            "escalation_level": int,
            "escalated_at": str,
            "escalated_to": str,
            "channel": str,
            "ts": str,
            "version": int,
            "ignored_by": str,
            "ignored_reason": str,
            "source_deleted_at": str,
            "duplicate_of": int,
            "escalation_severity": str,
            "followup_for": str,
            "followup_count": int,
            "followup_at": str,
        }
        with pytest.raises(sqlite3.IntegrityError):
            db.execute(
                "INSERT INTO mentions (source, external_id, text, created_at, fetched_at,"
                " status, status_at) VALUES ('x', '1', 't', 'c', 'f', 'bogus', 's')"
            )
    finally:
        db.close()


# --- save_batch --------------------------------------------------------------------------------


def test_save_batch_stores_queues_and_moves_cursor(store):
    saved = store.save_batch(
        "hackernews",
        [(mention(1), score()), (mention(2), score(urgent=False)), (mention(3), score())],
        cursors={"acme": "1764149000"},
        alert_channel="C0ALERTS",
    )
    assert saved == Saved(new_ids=[1, 2, 3], queued_ids=[1, 3], duplicates=0)
    assert store.mention(1) == {
        "id": 1,
        "source": "hackernews",
        "external_id": "1",
        "url": "https://news.ycombinator.com/item?id=1",
        "author": "user1",
        "author_name": "User 1",
        "followers": 10,
        "title": "",
        "text": "acme mention 1",
        "lang": None,
        "metrics": {"points": 1},
        "created_at": "2026-11-26T09:29:00Z",
        "fetched_at": NOW,
        "urgency": 80,
        "urgent": True,
        "category": "outage",
        "sentiment": -0.5,
        "reasons": ["broken device"],
        "status": "new",
        "status_at": NOW,
        "claimed_by": None,
        "claimed_at": None,
        "resolved_by": None,
        "resolved_at": None,
        "outcome": None,
        "escalation_level": 0,
        "escalated_at": None,
        "escalated_to": None,
        "channel": None,
        "ts": None,
        "version": 0,
        "ignored_by": None,
        "ignored_reason": None,
        "source_deleted_at": None,
        "duplicate_of": None,
        "escalation_severity": None,
        "followup_for": None,
        "followup_count": 0,
        "followup_at": None,
        "cross_posts": [],
    }
    assert store.outbox("pending") == [
        {
            "mention_id": mention_id,
            "state": "pending",
            "channel": "C0ALERTS",
            "ts": None,
            "attempts": 0,
            "last_error": None,
            "created_at": NOW,
            "updated_at": NOW,
            "thread_ts": None,
        }
        for mention_id in (1, 3)
    ]
    assert store.cursors("hackernews") == {"acme": "1764149000"}
    assert store.cursors("bluesky") == {}
    assert store.events() == [
        {
            "id": i,
            "mention_id": i,
            "at": NOW,
            "actor": "mentionops",
            "action": "stored",
            "from_status": None,
            "to_status": "new",
            "detail": {"urgency": urgency, "urgent": urgent},
        }
        for i, urgency, urgent in ((1, 80, True), (2, 10, False), (3, 80, True))
    ]
    assert store.counts() == {"stored": 3, "urgent": 2, "unsent": 2, "new": 3}


def test_save_batch_duplicates_left_unchanged(store, clock):
    store.save_batch(
        "hackernews", [(mention(1), score()), (mention(2), score())], alert_channel="C0A"
    )
    before = [store.mention(1), store.mention(2)]
    clock.advance(minutes=5)
    saved = store.save_batch(
        "hackernews",
        [
            (mention(1, text="edited"), score(urgent=False)),
            (mention(2, text="edited too"), score(urgency=99)),
            (mention(4), score(urgent=False)),
            # Same id on another platform is another mention.
            (mention(1, source="bluesky", text="acme, another post"), score(urgent=False)),
        ],
        cursors={"acme": "2"},
        alert_channel="C0A",
    )
    assert saved == Saved(new_ids=[3, 4], queued_ids=[], duplicates=2)
    assert [store.mention(1), store.mention(2)] == before
    assert query(store, "SELECT id, source, external_id FROM mentions ORDER BY id") == [
        (1, "hackernews", "1"),
        (2, "hackernews", "2"),
        (3, "hackernews", "4"),
        (4, "bluesky", "1"),
    ]
    assert [o["mention_id"] for o in store.outbox("pending")] == [1, 2]
    assert store.cursors("hackernews") == {"acme": "2"}
    assert store.known_ids("hackernews", ["1", "2", "3", "4", "5"]) == {"1", "2", "4"}
    assert store.known_ids("hackernews", [str(i) for i in range(1200)]) == {"1", "2", "4"}
    assert store.known_ids("x", []) == set()


def test_save_batch_without_alert_channel_queues_nothing(store):
    saved = store.save_batch("hackernews", [(mention(1), score())])
    assert saved == Saved(new_ids=[1], queued_ids=[], duplicates=0)
    assert query(store, "SELECT count(*) FROM outbox") == [(0,)]


def test_save_batch_mention_without_time_uses_now(store):
    store.save_batch("replay", [(mention(1, source="replay", created_at=None), score())])
    assert store.mention(1)["created_at"] == NOW


def test_save_batch_is_atomic(store, clock):
    store.save_batch(
        "hackernews", [(mention(1), score())], cursors={"acme": "100"}, alert_channel="C0A"
    )
    before = query(store, "SELECT * FROM mentions ORDER BY id")
    clock.advance(minutes=1)
    with pytest.raises(TypeError):
        store.save_batch(
            "hackernews",
            [
                (mention(2), score()),
                (mention(3), score(reasons=[object()])),  # not JSON: fails half-way
                (mention(4), score()),
            ],
            cursors={"acme": "200", "acme corp": "300"},
            alert_channel="C0A",
        )
    assert query(store, "SELECT * FROM mentions ORDER BY id") == before
    assert store.cursors("hackernews") == {"acme": "100"}
    assert query(store, "SELECT updated_at FROM cursors") == [(NOW,)]
    assert [o["mention_id"] for o in store.outbox("pending")] == [1]
    assert [(e["mention_id"], e["action"]) for e in store.events()] == [(1, "stored")]
    # The failed batch left no lock behind: the next one goes through.
    assert store.save_batch("hackernews", [(mention(2), score())]).new_ids == [2]


# --- outbox ------------------------------------------------------------------------------------


def test_outbox_send_cycle(store, clock):
    store.save_batch("hackernews", [(mention(1), score())], alert_channel="C0A")
    clock.advance(minutes=1)
    assert store.begin_send(1) is True
    assert store.begin_send(1) is False  # someone else has it
    assert store.outbox("sending") == [
        {
            "mention_id": 1,
            "state": "sending",
            "channel": "C0A",
            "ts": None,
            "attempts": 1,
            "last_error": None,
            "created_at": NOW,
            "updated_at": "2026-11-26T09:31:00Z",
            "thread_ts": None,
        }
    ]
    clock.advance(minutes=1)
    store.send_failed(1, "channel_not_found " + "x" * 1000)
    [row] = store.outbox("pending")
    assert (row["state"], row["attempts"], row["last_error"]) == (
        "pending",
        1,
        ("channel_not_found " + "x" * 1000)[:500],
    )
    store.send_failed(1, "not sending: ignored")
    assert store.outbox("pending")[0]["last_error"] == ("channel_not_found " + "x" * 1000)[:500]
    assert store.mention(1)["status"] == "new"

    assert store.begin_send(1) is True
    clock.advance(minutes=1)
    result = store.mark_sent(1, "C0ALERTS", "1764149940.000100")
    assert result == Transition(ok=True, mention=store.mention(1))
    assert (result.mention["status"], result.mention["channel"], result.mention["ts"]) == (
        "posted",
        "C0ALERTS",
        "1764149940.000100",
    )
    assert store.outbox("sent") == [
        {
            "mention_id": 1,
            "state": "sent",
            "channel": "C0ALERTS",
            "ts": "1764149940.000100",
            "attempts": 2,
            "last_error": None,
            "created_at": NOW,
            "updated_at": "2026-11-26T09:33:00Z",
            "thread_ts": None,
        }
    ]
    assert store.begin_send(1) is False
    assert store.events(1)[-1] == {
        "id": 2,
        "mention_id": 1,
        "at": "2026-11-26T09:33:00Z",
        "actor": "mentionops",
        "action": "posted",
        "from_status": "new",
        "to_status": "posted",
        "detail": {"channel": "C0ALERTS", "ts": "1764149940.000100"},
    }
    assert store.mention_by_message("C0ALERTS", "1764149940.000100")["id"] == 1
    assert store.mention_by_message("C0ALERTS", "1.0") is None
    # A second mark_sent changes nothing and writes no event.
    again = store.mark_sent(1, "C0ALERTS", "1764149940.000100")
    assert (again.ok, again.mention["status"], len(store.events(1))) == (False, "posted", 2)
    assert store.counts() == {"stored": 1, "urgent": 1, "unsent": 0, "posted": 1}


def test_begin_send_unknown_mention(store):
    assert store.begin_send(99) is False


# --- claim race --------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3])
def test_claim_race_has_one_winner(tmp_path, n):
    path = tmp_path / "race.db"
    Store(path).migrate()
    mention_id = posted(Store(path), n)
    users = [f"U0AGENT{i}" for i in range(10)]
    barrier = threading.Barrier(len(users))

    def click(user: str) -> Transition:
        store = Store(path)  # each thread its own store and connection
        barrier.wait(timeout=10)
        return store.claim(mention_id, user)

    with ThreadPoolExecutor(max_workers=len(users)) as pool:
        results = list(pool.map(click, users))

    winners = [u for u, r in zip(users, results, strict=True) if r.ok]
    assert len(winners) == 1
    [winner] = winners
    refused = [r for r in results if not r.ok]
    assert [r.reason for r in refused] == ["already_claimed"] * 9
    assert all(r.mention["claimed_by"] == winner for r in refused)
    store = Store(path)
    row = store.mention(mention_id)
    assert (row["status"], row["claimed_by"], row["version"]) == ("claimed", winner, 2)
    events = [e for e in store.events(mention_id) if e["action"].startswith("claim")]
    assert sorted((e["action"], e["actor"]) for e in events if e["action"] == "claim") == [
        ("claim", winner)
    ]
    assert sorted(e["actor"] for e in events if e["action"] == "claim_refused") == sorted(
        u for u in users if u != winner
    )
    assert all(
        (e["from_status"], e["to_status"], e["detail"])
        == ("claimed", "claimed", {"reason": "already_claimed"})
        for e in events
        if e["action"] == "claim_refused"
    )


# --- permissions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "action, user, manager, ok, reason",
    [
        ("unclaim", "U0OWNER", False, True, None),
        ("unclaim", "U0OTHER", False, False, "not_owner"),
        ("unclaim", "U0MANAGER", True, True, None),
        ("resolve", "U0OWNER", False, True, None),
        ("resolve", "U0OTHER", False, False, "not_owner"),
        ("resolve", "U0MANAGER", True, True, None),
    ],
)
def test_permission_matrix(store, action, user, manager, ok, reason):
    mention_id = posted(store, 1)
    assert store.claim(mention_id, "U0OWNER").ok is True
    result = getattr(store, action)(mention_id, user, manager=manager)
    expected_status = {"unclaim": "posted", "resolve": "resolved"}[action] if ok else "claimed"
    assert (result.ok, result.reason, result.mention["status"]) == (ok, reason, expected_status)
    assert store.mention(mention_id)["status"] == expected_status
    last = store.events(mention_id)[-1]
    assert (last["actor"], last["action"], last["from_status"], last["to_status"]) == (
        user,
        action if ok else f"{action}_refused",
        "claimed",
        expected_status,
    )


def test_resolve_unclaimed(store):
    mention_id = posted(store, 1)
    refused = store.resolve(mention_id, "U0AGENT")
    assert (refused.ok, refused.reason, refused.mention["status"]) == (
        False,
        "not_claimed",
        "posted",
    )
    done = store.resolve(mention_id, "U0MANAGER", manager=True, outcome="duplicate")
    assert (done.ok, done.reason) == (True, None)
    assert {k: done.mention[k] for k in ("status", "claimed_by", "resolved_by", "outcome")} == {
        "status": "resolved",
        "claimed_by": None,
        "resolved_by": "U0MANAGER",
        "outcome": "duplicate",
    }


@pytest.mark.parametrize(
    "action, kwargs",
    [("claim", {}), ("unclaim", {"manager": True}), ("resolve", {"manager": True})],
)
def test_resolved_refuses_everything(store, action, kwargs):
    mention_id = posted(store, 1)
    store.claim(mention_id, "U0OWNER")
    store.resolve(mention_id, "U0OWNER")
    result = getattr(store, action)(mention_id, "U0OWNER", **kwargs)
    assert (result.ok, result.reason, result.mention["status"]) == (False, "resolved", "resolved")


def test_not_yet_posted_and_not_found(store):
    store.save_batch("hackernews", [(mention(1), score())], alert_channel="C0A")
    assert store.claim(1, "U0A").reason == "new"
    assert store.unclaim(1, "U0A").reason == "new"
    assert store.claim(99, "U0A") == Transition(ok=False, mention=None, reason="not_found")
    assert store.events(99) == []


# --- audit trail -------------------------------------------------------------------------------


def test_every_transition_writes_an_event(tmp_path):
    store = Store(tmp_path / "x.db", clock=lambda: datetime(2026, 11, 26, 9, 30, tzinfo=UTC))
    store.migrate()
    mention_id = posted(store, 1)
    store.claim(mention_id, "U0ALICE")
    store.claim(mention_id, "U0BOB")
    store.unclaim(mention_id, "U0BOB")
    store.unclaim(mention_id, "U0ALICE")
    store.claim(mention_id, "U0BOB")
    store.resolve(mention_id, "U0ALICE")
    store.resolve(mention_id, "U0BOB", outcome="replied publicly")
    store.record_event(mention_id, "U0BOB", "note", {"text": "customer happy"})
    store.record_event(None, "U0MANAGER", "oncall_changed", None)

    def event(i, actor, action, from_status, to_status, detail=None, mention=mention_id):
        return {
            "id": i,
            "mention_id": mention,
            "at": NOW,
            "actor": actor,
            "action": action,
            "from_status": from_status,
            "to_status": to_status,
            "detail": detail or {},
        }

    assert store.events() == [
        event(1, "mentionops", "stored", None, "new", {"urgency": 80, "urgent": True}),
        event(
            2,
            "mentionops",
            "posted",
            "new",
            "posted",
            {"channel": "C0A", "ts": "1764149940.000001"},
        ),
        event(3, "U0ALICE", "claim", "posted", "claimed"),
        event(4, "U0BOB", "claim_refused", "claimed", "claimed", {"reason": "already_claimed"}),
        event(5, "U0BOB", "unclaim_refused", "claimed", "claimed", {"reason": "not_owner"}),
        event(6, "U0ALICE", "unclaim", "claimed", "posted"),
        event(7, "U0BOB", "claim", "posted", "claimed"),
        event(8, "U0ALICE", "resolve_refused", "claimed", "claimed", {"reason": "not_owner"}),
        event(9, "U0BOB", "resolve", "claimed", "resolved", {"outcome": "replied publicly"}),
        event(10, "U0BOB", "note", "resolved", "resolved", {"text": "customer happy"}),
        event(11, "U0MANAGER", "oncall_changed", None, None, mention=None),
    ]
    assert store.events(mention_id) == store.events()[:10]
    row = store.mention(mention_id)
    assert {
        k: row[k]
        for k in (
            "status",
            "claimed_by",
            "claimed_at",
            "resolved_by",
            "resolved_at",
            "outcome",
            "status_at",
            "version",
        )
    } == {
        "status": "resolved",
        "claimed_by": "U0BOB",
        "claimed_at": NOW,
        "resolved_by": "U0BOB",
        "resolved_at": NOW,
        "outcome": "replied publicly",
        "status_at": NOW,
        "version": 5,
    }


# --- source health -----------------------------------------------------------------------------


def test_poll_health_counters(store, clock):
    def health():
        [row] = store.health()
        return row

    assert store.poll_failed("x", "HTTP 500 " + "e" * 600, next_run=T0 + timedelta(minutes=5)) == {
        "source": "x",
        "last_run": NOW,
        "last_success": None,
        "last_error": ("HTTP 500 " + "e" * 600)[:500],
        "last_error_at": NOW,
        "consecutive_failures": 1,
        "failing_since": NOW,
        "mentions_fetched": 0,
        "last_mention_at": None,
        "next_run": "2026-11-26T09:35:00Z",
        "notice": None,
        "first_success": None,
    }
    clock.advance(minutes=5)
    after = store.poll_failed("x", "timeout")
    assert {
        k: after[k]
        for k in ("consecutive_failures", "failing_since", "last_error", "last_run", "next_run")
    } == {
        "consecutive_failures": 2,
        "failing_since": NOW,
        "last_error": "timeout",
        "last_run": "2026-11-26T09:35:00Z",
        "next_run": None,
    }
    store.set_notice("x", "failing")
    clock.advance(minutes=5)
    before = store.poll_succeeded("x", 3)
    assert before == {**after, "notice": "failing"}
    assert health() == {
        "source": "x",
        "last_run": "2026-11-26T09:40:00Z",
        "last_success": "2026-11-26T09:40:00Z",
        "last_error": "timeout",
        "last_error_at": "2026-11-26T09:35:00Z",
        "consecutive_failures": 0,
        "failing_since": None,
        "mentions_fetched": 3,
        "last_mention_at": "2026-11-26T09:40:00Z",
        "next_run": None,
        "notice": "failing",
        "first_success": "2026-11-26T09:40:00Z",
    }
    store.set_notice("x", None)
    clock.advance(minutes=5)
    store.poll_succeeded("x", 0, next_run=T0 + timedelta(hours=1))
    assert {
        k: health()[k]
        for k in ("mentions_fetched", "last_mention_at", "last_success", "next_run", "notice")
    } == {
        "mentions_fetched": 3,
        "last_mention_at": "2026-11-26T09:40:00Z",
        "last_success": "2026-11-26T09:45:00Z",
        "next_run": "2026-11-26T10:30:00Z",
        "notice": None,
    }
    clock.advance(minutes=5)
    assert store.poll_failed("x", "again")["failing_since"] == "2026-11-26T09:50:00Z"


def test_first_poll_success_and_notice_before_any_poll(store):
    assert store.poll_succeeded("hackernews", 0) == {}
    store.set_notice("rss", "silent")
    assert [
        (h["source"], h["consecutive_failures"], h["notice"], h["last_run"]) for h in store.health()
    ] == [
        ("hackernews", 0, None, NOW),
        ("rss", 0, "silent", None),
    ]


# --- queries -----------------------------------------------------------------------------------


def test_recent_authors(store):
    store.save_batch(
        "bluesky",
        [
            (mention(1, source="bluesky", author="Jo.Bsky.Social"), score()),
            (
                mention(2, source="bluesky", author="old", created_at=T0 - timedelta(hours=25)),
                score(),
            ),
            (mention(3, source="bluesky", author=""), score()),
        ],
    )
    since = T0 - timedelta(hours=24)
    assert store.recent_authors(
        ["jo.bsky.social", "JO.BSKY.SOCIAL", "old", "nobody", ""], since
    ) == {"jo.bsky.social"}
    assert store.recent_authors(["old"], T0 - timedelta(hours=26)) == {"old"}
    assert store.recent_authors([], since) == set()
    assert store.recent_authors([""], since) == set()


def test_cross_post_lookup_seeks_the_author_indexes(store, monkeypatch):
    """The cross-post lookup runs for every mention stored, inside the write transaction: it
    must seek by author and display name, not walk every `duplicate_of IS NULL` row."""
    seen: list[tuple[str, dict]] = []
    execute = Database.execute

    def spy(self, sql, parameters=None):
        if "JOIN outbox" in sql and "duplicate_of IS NULL" in sql:
            seen.append((sql, parameters))
        return execute(self, sql, parameters)

    monkeypatch.setattr(Database, "execute", spy)
    posted(store, 1)
    [(sql, params)] = seen
    plan = [row[3] for row in query(store, "EXPLAIN QUERY PLAN " + sql, params)]
    assert plan == [
        "MULTI-INDEX OR",
        "INDEX 1",
        "SEARCH m USING INDEX mentions_author_lower (<expr>=?)",
        "INDEX 2",
        "SEARCH m USING INDEX mentions_name_lower (<expr>=?)",
        "SEARCH o USING INTEGER PRIMARY KEY (rowid=?)",
        "USE TEMP B-TREE FOR ORDER BY",
    ]


def test_storm_thread_queries_seek_the_thread(store, monkeypatch):
    """Read on every poll while a storm lasts: a seek on the thread, whatever the outbox holds."""
    seen: list[tuple[str, list]] = []
    run_query = Database.query

    def spy(self, sql, params=None):
        if "thread_ts = ?" in sql:
            seen.append((sql, params))
        return run_query(self, sql, params)

    monkeypatch.setattr(Database, "query", spy)
    assert store.storm_alerts({"channel": "C0A", "ts": "1764149940.000100"}) == []
    [(sql, params)] = seen
    plan = [row[3] for row in query(store, "EXPLAIN QUERY PLAN " + sql, params)]
    assert plan == [
        "SEARCH o USING INDEX outbox_thread (channel=? AND thread_ts=?)",
        "SEARCH m USING INTEGER PRIMARY KEY (rowid=?)",
    ]


def test_open_urgent_and_claimed_by(store, clock):
    # Posted in this order; created 5, 30, 10 and 20 minutes before T0.
    a = posted(store, 5)
    b = posted(store, 30)
    c = posted(store, 10)
    d = posted(store, 20)
    store.claim(d, "U0ALICE")
    clock.advance(minutes=1)
    store.claim(a, "U0ALICE")
    clock.advance(minutes=1)
    store.claim(c, "U0BOB")
    assert [m["id"] for m in store.open_urgent()] == [b]
    store.unclaim(c, "U0BOB")
    assert [m["id"] for m in store.open_urgent()] == [b, c]
    assert [m["id"] for m in store.open_urgent(older_than=T0 - timedelta(minutes=15))] == [b]
    assert [m["id"] for m in store.claimed_by("U0ALICE")] == [d, a]
    assert store.claimed_by("U0BOB") == []
    store.resolve(d, "U0ALICE")
    assert [m["id"] for m in store.claimed_by("U0ALICE")] == [a]
    assert store.open_urgent()[0]["reasons"] == ["broken device"]
