"""SQLite storage: one function per state change, each atomic, each with an audit event.

A `Store` holds only the path. Every call opens a short-lived connection (WAL, busy_timeout),
so a Store may be shared by Bolt's worker threads and the scheduler's: no connection ever
crosses a thread. State changes are compare-and-set (`UPDATE ... WHERE status IN (...)
RETURNING`) inside `BEGIN IMMEDIATE`, so two people clicking Claim at once give one owner.
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from difflib import SequenceMatcher
from pathlib import Path
from urllib.parse import quote

from sqlite_utils import Database

from bot.models import Mention, Score, dumps, iso, parse_time, utcnow
from bot.text import fingerprint
from storage.migrations import migrations

BUSY_TIMEOUT_MS = 10_000
SYSTEM = "mentionops"  # the actor of events the bot causes itself


@dataclass(frozen=True)
class Transition:
    """The outcome of a state change. `mention` is the row after the change, or the current
    row when the change was refused; `reason` says why it was refused."""

    ok: bool
    mention: dict | None
    reason: str | None = None


@dataclass(frozen=True)
class Saved:
    """What `save_batch` stored: new mention ids, and which of them wait in the outbox."""

    new_ids: list[int]
    queued_ids: list[int]
    duplicates: int
    cross_posted: list[int] = field(default_factory=list)  # alerts that gained a link


class Store:
    def __init__(
        self, path: str | Path, *, clock: Callable[[], datetime] = utcnow, readonly: bool = False
    ):
        self.path = str(path)
        self.clock = clock
        # Read-only (`fetch --dry-run`): SQLite refuses every write, migrations included.
        self.readonly = readonly
        self._anchor: sqlite3.Connection | None = None
        self._anchor_lock = threading.Lock()

    # --- connections -----------------------------------------------------------------------

    @contextmanager
    def connect(self) -> Iterator[Database]:
        self._hold_open()
        if self.readonly:
            uri = f"file:{quote(str(Path(self.path).resolve()))}?mode=ro"
            conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
        else:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            yield Database(conn, execute_plugins=False)
        finally:
            conn.close()

    def _hold_open(self) -> None:
        """Keep one idle connection to the file for the Store's life. Without it, closing each
        short-lived connection would be closing the last one, which checkpoints the WAL and
        deletes it every time (a quarter of a busy poll's time, measured). The idle connection
        never reads or writes, so it holds no lock; it is never used from another thread."""
        if self._anchor is not None or self.path == ":memory:" or self.readonly:
            return
        with self._anchor_lock:
            if self._anchor is None and Path(self.path).exists():
                anchor = sqlite3.connect(self.path, check_same_thread=False)
                anchor.execute("PRAGMA journal_mode = WAL")  # persistent in the file
                self._anchor = anchor

    def close(self) -> None:
        """Release the idle connection (the database stays as it is)."""
        with self._anchor_lock:
            if self._anchor is not None:
                self._anchor.close()
                self._anchor = None

    @contextmanager
    def write(self) -> Iterator[Database]:
        """A write transaction taken with BEGIN IMMEDIATE: it waits for the write lock up front
        (honouring busy_timeout) instead of failing half-way as a deferred one can in WAL."""
        with self.connect() as db:
            db.conn.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                if db.conn.in_transaction:
                    db.conn.execute("ROLLBACK")
                raise
            else:
                db.conn.execute("COMMIT")

    def pending_migrations(self) -> list[str]:
        """The names of the migrations this database still lacks (read only)."""
        with self.connect() as db:
            return [m.name for m in migrations.pending(db)]

    def migrate(self) -> list[str]:
        """Apply pending migrations; returns the names applied (empty when up to date)."""
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with self.connect() as db:
            db.execute("PRAGMA journal_mode = WAL")  # stays set in the file
        # One transaction, taken with BEGIN IMMEDIATE before `pending` is read: two processes
        # starting together on one file apply the steps once (the other waits, then finds
        # nothing to do) instead of failing with "database is locked" or "already exists".
        # sqlite-utils runs each step in a savepoint inside it.
        with self.write() as db:
            pending = [m.name for m in migrations.pending(db)]
            migrations.apply(db)
            db.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('created_at', ?)",
                [iso(self.clock())],
            )
        return pending

    def now(self) -> str:
        return iso(self.clock())

    def meta(self, key: str) -> str | None:
        with self.connect() as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    # --- mentions ----------------------------------------------------------------------------

    def save_batch(
        self,
        source: str,
        scored: Iterable[tuple[Mention, Score]],
        *,
        cursors: dict[str, str] | None = None,
        alert_channel: str | None = None,
    ) -> Saved:
        """Store new mentions with their scores, queue the urgent ones for Slack, and move the
        source's cursors: all in one transaction, so a cursor never passes an unsaved mention.
        A mention already stored (same source and id) is left as it is."""
        now = self.now()
        new_ids: list[int] = []
        queued: list[int] = []
        cross_posts: list[int] = []
        duplicates = 0
        with self.write() as db:
            for mention, score in scored:
                created = iso(mention.created_at) if mention.created_at else now
                cur = db.execute(
                    """
                    INSERT INTO mentions (source, external_id, url, author, author_name,
                        followers, title, text, lang, metrics, created_at, fetched_at, urgency,
                        urgent, category, sentiment, reasons, status, status_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'new', ?)
                    ON CONFLICT (source, external_id) DO NOTHING
                    RETURNING id
                    """,
                    [
                        mention.source,
                        mention.external_id,
                        mention.url,
                        mention.author,
                        mention.author_name,
                        mention.followers,
                        mention.title,
                        mention.text,
                        mention.lang,
                        dumps(mention.metrics),
                        created,
                        now,
                        score.urgency,
                        int(score.urgent),
                        score.category,
                        score.sentiment,
                        dumps(score.reasons),
                        now,
                    ],
                )
                row = cur.fetchone()
                if row is None:
                    duplicates += 1
                    continue
                mention_id = row[0]
                new_ids.append(mention_id)
                _event(
                    db,
                    mention_id,
                    now,
                    SYSTEM,
                    "stored",
                    None,
                    "new",
                    {"urgency": score.urgency, "urgent": score.urgent},
                )
                primary = _cross_post_of(db, mention, created) if alert_channel else None
                if primary is not None:
                    # The same complaint by the same person on another platform: one alert.
                    db.execute(
                        "UPDATE mentions SET duplicate_of = ? WHERE id = ?", [primary, mention_id]
                    )
                    db.execute("UPDATE mentions SET version = version + 1 WHERE id = ?", [primary])
                    _event(db, mention_id, now, SYSTEM, "cross_post", "new", "new", {"of": primary})
                    cross_posts.append(primary)
                elif score.urgent and alert_channel:
                    db.execute(
                        "INSERT INTO outbox (mention_id, state, channel, created_at, updated_at)"
                        " VALUES (?, 'pending', ?, ?, ?)",
                        [mention_id, alert_channel, now, now],
                    )
                    queued.append(mention_id)
            for query, cursor in (cursors or {}).items():
                db.execute(
                    """
                    INSERT INTO cursors (source, query, cursor, updated_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (source, query) DO UPDATE
                        SET cursor = excluded.cursor, updated_at = excluded.updated_at
                    """,
                    [source, query, cursor, now],
                )
        return Saved(new_ids, queued, duplicates, sorted(set(cross_posts)))

    def known_ids(self, source: str, external_ids: Iterable[str]) -> set[str]:
        ids = list(external_ids)
        found: set[str] = set()
        with self.connect() as db:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = db.execute(
                    "SELECT external_id FROM mentions"
                    f" WHERE source = ? AND external_id IN ({marks})",
                    [source, *chunk],
                )
                found.update(r[0] for r in rows)
        return found

    def recent_authors(self, authors: Iterable[str], since: datetime) -> set[str]:
        """Which of these authors (lower-cased) already have a mention since `since`."""
        names = sorted({a.lower() for a in authors if a})
        if not names:
            return set()
        with self.connect() as db:
            marks = ",".join("?" * len(names))
            rows = db.execute(
                f"SELECT DISTINCT lower(author) FROM mentions WHERE lower(author) IN ({marks})"
                " AND created_at >= ?",
                [*names, iso(since)],
            )
            return {r[0] for r in rows}

    def mention(self, mention_id: int) -> dict | None:
        with self.connect() as db:
            return _mention(db, mention_id)

    def mention_by_message(self, channel: str, ts: str) -> dict | None:
        with self.connect() as db:
            row = db.execute(
                "SELECT id FROM mentions WHERE channel = ? AND ts = ?", [channel, ts]
            ).fetchone()
            return _mention(db, row[0]) if row else None

    def events(self, mention_id: int | None = None) -> list[dict]:
        with self.connect() as db:
            if mention_id is None:
                rows = db.query("SELECT * FROM events ORDER BY id")
            else:
                rows = db.query(
                    "SELECT * FROM events WHERE mention_id = ? ORDER BY id", [mention_id]
                )
            return [{**r, "detail": json.loads(r["detail"])} for r in rows]

    def counts(self) -> dict[str, int]:
        """Mentions by status, plus totals: what `demo` and `status` print."""
        with self.connect() as db:
            by_status = dict(db.execute("SELECT status, count(*) FROM mentions GROUP BY status"))
            total, urgent = db.execute(
                "SELECT count(*), coalesce(sum(urgent), 0) FROM mentions"
            ).fetchone()
            pending = db.execute("SELECT count(*) FROM outbox WHERE state != 'sent'").fetchone()[0]
        return {"stored": total, "urgent": urgent, "unsent": pending, **by_status}

    # --- outbox ------------------------------------------------------------------------------

    def outbox(self, state: str) -> list[dict]:
        with self.connect() as db:
            return list(
                db.query("SELECT * FROM outbox WHERE state = ? ORDER BY mention_id", [state])
            )

    def begin_send(self, mention_id: int) -> bool:
        """Take an outbox row for sending (pending -> sending). False if someone else has it."""
        with self.connect() as db:
            row = db.execute(
                "UPDATE outbox SET state = 'sending', attempts = attempts + 1, updated_at = ?"
                " WHERE mention_id = ? AND state = 'pending' RETURNING mention_id",
                [self.now(), mention_id],
            ).fetchone()
            db.conn.commit()
        return row is not None

    def mark_sent(self, mention_id: int, channel: str, ts: str) -> Transition:
        """The alert is in Slack: record where, and move the mention new -> posted."""
        now = self.now()
        with self.write() as db:
            db.execute(
                "UPDATE outbox SET state = 'sent', ts = ?, channel = ?, last_error = NULL,"
                " updated_at = ? WHERE mention_id = ?",
                [ts, channel, now, mention_id],
            )
            row = db.execute(
                "UPDATE mentions SET status = 'posted', status_at = ?, channel = ?, ts = ?,"
                " version = version + 1 WHERE id = ? AND status = 'new' RETURNING id",
                [now, channel, ts, mention_id],
            ).fetchone()
            if row:
                _event(
                    db,
                    mention_id,
                    now,
                    SYSTEM,
                    "posted",
                    "new",
                    "posted",
                    {"channel": channel, "ts": ts},
                )
            return Transition(row is not None, _mention(db, mention_id))

    def send_failed(self, mention_id: int, error: str) -> None:
        """Slack said no for certain (not a maybe): back to pending, to try again later."""
        with self.connect() as db:
            db.execute(
                "UPDATE outbox SET state = 'pending', last_error = ?, updated_at = ?"
                " WHERE mention_id = ? AND state = 'sending'",
                [error[:500], self.now(), mention_id],
            )
            db.conn.commit()

    # --- state changes -----------------------------------------------------------------------

    def claim(self, mention_id: int, user: str) -> Transition:
        return self._transition(
            mention_id,
            user,
            "claim",
            "UPDATE mentions SET status = 'claimed', claimed_by = :user, claimed_at = :now,"
            " status_at = :now, version = version + 1"
            " WHERE id = :id AND status = 'posted' RETURNING id",
            {},
            refusal=lambda m: "already_claimed" if m["status"] == "claimed" else m["status"],
        )

    def unclaim(self, mention_id: int, user: str, *, manager: bool = False) -> Transition:
        return self._transition(
            mention_id,
            user,
            "unclaim",
            "UPDATE mentions SET status = 'posted', claimed_by = NULL, claimed_at = NULL,"
            " status_at = :now, version = version + 1"
            " WHERE id = :id AND status = 'claimed' AND (claimed_by = :user OR :manager)"
            " RETURNING id",
            {"manager": int(manager)},
            refusal=lambda m: "not_owner" if m["status"] == "claimed" else m["status"],
        )

    def resolve(
        self, mention_id: int, user: str, *, manager: bool = False, outcome: str | None = None
    ) -> Transition:
        return self._transition(
            mention_id,
            user,
            "resolve",
            "UPDATE mentions SET status = 'resolved', resolved_by = :user, resolved_at = :now,"
            " outcome = :outcome, status_at = :now, version = version + 1"
            " WHERE id = :id AND ((status = 'claimed' AND (claimed_by = :user OR :manager))"
            " OR (status = 'posted' AND :manager)) RETURNING id",
            {"manager": int(manager), "outcome": outcome},
            refusal=lambda m: {
                "claimed": "not_owner",
                "posted": "not_claimed",
            }.get(m["status"], m["status"]),
        )

    def reassign(
        self, mention_id: int, user: str, to_user: str, *, manager: bool = False
    ) -> Transition:
        """Hand a claimed mention to someone else (its owner or a manager may)."""
        return self._transition(
            mention_id,
            user,
            "reassign",
            "UPDATE mentions SET claimed_by = :to_user, claimed_at = :now, status_at = :now,"
            " version = version + 1"
            " WHERE id = :id AND status = 'claimed' AND (claimed_by = :user OR :manager)"
            " AND claimed_by != :to_user RETURNING id",
            {"manager": int(manager), "to_user": to_user},
            refusal=lambda m: (
                "same_owner"
                if m["status"] == "claimed" and m["claimed_by"] == to_user
                else "not_owner"
                if m["status"] == "claimed"
                else m["status"]
            ),
        )

    def ignore(
        self, mention_id: int, user: str, reason: str, *, manager: bool = False
    ) -> Transition:
        """Not urgent: anyone may dismiss an unclaimed alert; a claimed one, its owner or a
        manager. The reason is kept as feedback for the scorer."""
        return self._transition(
            mention_id,
            user,
            "ignore",
            "UPDATE mentions SET status = 'ignored', ignored_by = :user, ignored_reason = :reason,"
            " status_at = :now, version = version + 1"
            " WHERE id = :id AND (status = 'posted'"
            " OR (status = 'claimed' AND (claimed_by = :user OR :manager))) RETURNING id",
            {"manager": int(manager), "reason": reason},
            refusal=lambda m: "not_owner" if m["status"] == "claimed" else m["status"],
        )

    def record_draft(self, mention_id: int, user: str, text: str) -> int:
        """Save a reply draft as the next version (editing keeps the history); returns it."""
        now = self.now()
        with self.write() as db:
            version = db.execute(
                "SELECT coalesce(max(version), 0) + 1 FROM drafts WHERE mention_id = ?",
                [mention_id],
            ).fetchone()[0]
            db.execute(
                "INSERT INTO drafts (mention_id, version, text, author, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                [mention_id, version, text, user, now],
            )
            db.execute("UPDATE mentions SET version = version + 1 WHERE id = ?", [mention_id])
            status = db.execute(
                "SELECT status FROM mentions WHERE id = ?", [mention_id]
            ).fetchone()[0]
            _event(
                db,
                mention_id,
                now,
                user,
                "draft",
                status,
                status,
                {"version": version, "chars": len(text)},
            )
        return version

    def drafts(self, mention_id: int) -> list[dict]:
        with self.connect() as db:
            return list(
                db.query("SELECT * FROM drafts WHERE mention_id = ? ORDER BY version", [mention_id])
            )

    def mark_source_deleted(self, mention_id: int) -> bool:
        """The customer's post is gone: the card says so and Draft reply is disabled."""
        now = self.now()
        with self.write() as db:
            row = db.execute(
                "UPDATE mentions SET source_deleted_at = :now, version = version + 1"
                " WHERE id = :id AND source_deleted_at IS NULL RETURNING status",
                {"id": mention_id, "now": now},
            ).fetchone()
            if row:
                _event(db, mention_id, now, SYSTEM, "source_deleted", row[0], row[0], {})
        return row is not None

    def _transition(
        self,
        mention_id: int,
        user: str,
        action: str,
        sql: str,
        params: dict,
        *,
        refusal: Callable[[dict], str],
    ) -> Transition:
        now = self.now()
        with self.write() as db:
            before = _mention(db, mention_id)
            if before is None:
                return Transition(False, None, "not_found")
            row = db.execute(sql, {"id": mention_id, "user": user, "now": now, **params}).fetchone()
            after = _mention(db, mention_id)
            if row is None:
                reason = refusal(before)
                _event(
                    db,
                    mention_id,
                    now,
                    user,
                    f"{action}_refused",
                    before["status"],
                    before["status"],
                    {"reason": reason},
                )
                return Transition(False, before, reason)
            detail = {k: v for k, v in params.items() if k != "manager" and v is not None}
            _event(db, mention_id, now, user, action, before["status"], after["status"], detail)
            return Transition(True, after)

    def record_event(
        self, mention_id: int | None, actor: str, action: str, detail: dict | None = None
    ) -> None:
        """An audit line for something that changes no state (a note, a refused click)."""
        with self.write() as db:
            status = None
            if mention_id is not None:
                row = db.execute(
                    "SELECT status FROM mentions WHERE id = ?", [mention_id]
                ).fetchone()
                status = row[0] if row else None
            _event(db, mention_id, self.now(), actor, action, status, status, detail or {})

    # --- cursors and source health -----------------------------------------------------------

    def cursors(self, source: str) -> dict[str, str]:
        with self.connect() as db:
            return dict(db.execute("SELECT query, cursor FROM cursors WHERE source = ?", [source]))

    def poll_succeeded(
        self, source: str, fetched: int, *, next_run: datetime | None = None
    ) -> dict:
        """Record a good poll; returns the health row as it was before (for recovery notices)."""
        now = self.now()
        with self.write() as db:
            before = _health(db, source)
            db.execute(
                """
                INSERT INTO source_health (source, last_run, last_success, consecutive_failures,
                    failing_since, mentions_fetched, last_mention_at, next_run, first_success)
                VALUES (:s, :now, :now, 0, NULL, :n, CASE WHEN :n > 0 THEN :now END, :next, :now)
                ON CONFLICT (source) DO UPDATE SET last_run = :now, last_success = :now,
                    first_success = coalesce(first_success, :now),
                    consecutive_failures = 0, failing_since = NULL,
                    mentions_fetched = mentions_fetched + :n,
                    last_mention_at = CASE WHEN :n > 0 THEN :now ELSE last_mention_at END,
                    next_run = :next
                """,
                {
                    "s": source,
                    "now": now,
                    "n": fetched,
                    "next": iso(next_run) if next_run else None,
                },
            )
        return before

    def poll_failed(self, source: str, error: str, *, next_run: datetime | None = None) -> dict:
        """Record a failed poll; returns the health row after it."""
        now = self.now()
        with self.write() as db:
            db.execute(
                """
                INSERT INTO source_health (source, last_run, last_error, last_error_at,
                    consecutive_failures, failing_since, next_run)
                VALUES (:s, :now, :err, :now, 1, :now, :next)
                ON CONFLICT (source) DO UPDATE SET last_run = :now, last_error = :err,
                    last_error_at = :now, consecutive_failures = consecutive_failures + 1,
                    failing_since = coalesce(failing_since, :now), next_run = :next
                """,
                {
                    "s": source,
                    "now": now,
                    "err": error[:500],
                    "next": iso(next_run) if next_run else None,
                },
            )
            return _health(db, source)

    def set_notice(self, source: str, notice: str | None) -> None:
        """Remember which health notice is out for a source, so it is sent once, not per poll."""
        with self.connect() as db:
            db.execute(
                "INSERT INTO source_health (source, notice) VALUES (?, ?)"
                " ON CONFLICT (source) DO UPDATE SET notice = excluded.notice",
                [source, notice],
            )
            db.conn.commit()

    def health(self) -> list[dict]:
        with self.connect() as db:
            return list(db.query("SELECT * FROM source_health ORDER BY source"))

    def claimed_by(self, user: str) -> list[dict]:
        """Mentions this user has claimed and not resolved, oldest claim first."""
        with self.connect() as db:
            ids = [
                r[0]
                for r in db.execute(
                    "SELECT id FROM mentions WHERE status = 'claimed' AND claimed_by = ?"
                    " ORDER BY claimed_at, id",
                    [user],
                )
            ]
            return [_mention(db, i) for i in ids]

    def open_urgent(self, older_than: datetime | None = None) -> list[dict]:
        """Posted but unclaimed mentions, oldest first."""
        with self.connect() as db:
            sql = "SELECT id FROM mentions WHERE status = 'posted'"
            params: list = []
            if older_than is not None:
                sql += " AND created_at <= ?"
                params.append(iso(older_than))
            ids = [r[0] for r in db.execute(sql + " ORDER BY created_at, id", params)]
            return [_mention(db, i) for i in ids]

    # --- source state (small, non-secret values a source keeps across restarts) -------------

    def source_state_get(self, source: str, key: str) -> str | None:
        with self.connect() as db:
            row = db.execute(
                "SELECT value FROM source_state WHERE source = ? AND key = ?", [source, key]
            ).fetchone()
        return row[0] if row else None

    def source_state_set(self, source: str, key: str, value: str) -> None:
        with self.write() as db:
            db.execute(
                "INSERT INTO source_state (source, key, value, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (source, key) DO UPDATE SET value = excluded.value,"
                " updated_at = excluded.updated_at",
                [source, key, value, self.now()],
            )

    # --- storm mode (bot/storm.py) -----------------------------------------------------------

    def storm_check(
        self,
        channel: str,
        *,
        window: timedelta,
        factor: float,
        min_mentions: int,
        baseline_hours: int,
    ) -> tuple[str | None, dict | None]:
        """Measure the alert rate and open, update or close the storm: all in one write
        transaction, so two pollers checking at once open one storm between them.

        The rate counts outbox rows by when we stored them (not the customers' post times):
        what storm mode prevents is a flood of messages in the channel. Returns the action
        (`opened`, `updated`, `closed` or None) and the storm row after it."""
        now = self.clock()
        start = now - window
        since = start - timedelta(hours=baseline_hours)
        with self.write() as db:
            count = db.execute(
                "SELECT count(*) FROM outbox WHERE channel = ? AND created_at > ?"
                " AND created_at <= ?",
                [channel, iso(start), iso(now)],
            ).fetchone()[0]
            storm = _open_storm(db)
            if storm is None:
                if min_mentions <= 0 or count < min_mentions:
                    return None, None
                before = db.execute(
                    "SELECT count(*) FROM outbox WHERE channel = ? AND created_at > ?"
                    " AND created_at <= ?",
                    [channel, iso(since), iso(start)],
                ).fetchone()[0]
                baseline = before * window / timedelta(hours=baseline_hours)
                threshold = max(min_mentions, math.ceil(factor * baseline - 1e-9))
                if count < threshold:
                    return None, None
                row = db.execute(
                    "INSERT INTO storms (is_open, started_at, channel, baseline, threshold,"
                    " window_count, peak, updated_at) VALUES (1, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (is_open) DO NOTHING RETURNING id",
                    [iso(now), channel, baseline, threshold, count, count, iso(now)],
                ).fetchone()
                if row is None:  # opened meanwhile (the UNIQUE index is the last guard)
                    return None, _open_storm(db)
                detail = {"storm": row[0], "count": count, "baseline": round(baseline, 2)}
                _event(db, None, iso(now), SYSTEM, "storm_open", None, None, detail)
                return "opened", _storm(db, row[0])
            calm_since = storm["calm_since"]
            if count >= storm["threshold"]:
                calm_since = None
            elif calm_since is None:
                calm_since = iso(now)
            if calm_since is not None and now - parse_time(calm_since) >= window:
                row = db.execute(
                    "UPDATE storms SET is_open = NULL, ended_at = ?, window_count = ?,"
                    " calm_since = ?, updated_at = ? WHERE id = ? AND is_open = 1 RETURNING id",
                    [iso(now), count, calm_since, iso(now), storm["id"]],
                ).fetchone()
                if row is None:
                    return None, _storm(db, storm["id"])
                threaded = _storm_threaded(db, _storm(db, storm["id"]))
                detail = {"storm": storm["id"], "threaded": threaded, "peak": storm["peak"]}
                _event(db, None, iso(now), SYSTEM, "storm_close", None, None, detail)
                return "closed", _storm(db, storm["id"])
            db.execute(
                "UPDATE storms SET window_count = ?, peak = max(peak, ?), calm_since = ?,"
                " updated_at = ? WHERE id = ? AND is_open = 1",
                [count, count, calm_since, iso(now), storm["id"]],
            )
            return "updated", _storm(db, storm["id"])

    def open_storm(self) -> dict | None:
        with self.connect() as db:
            return _open_storm(db)

    def storm(self, storm_id: int) -> dict | None:
        with self.connect() as db:
            return _storm(db, storm_id)

    def storms(self, msg_state: str | None = None) -> list[dict]:
        with self.connect() as db:
            if msg_state is None:
                return list(db.query("SELECT * FROM storms ORDER BY id"))
            return list(
                db.query("SELECT * FROM storms WHERE msg_state = ? ORDER BY id", [msg_state])
            )

    def storm_begin_post(self, storm_id: int) -> bool:
        """Take the storm message for posting (pending -> sending): one poster posts it."""
        with self.write() as db:
            row = db.execute(
                "UPDATE storms SET msg_state = 'sending', updated_at = ?"
                " WHERE id = ? AND msg_state = 'pending' RETURNING id",
                [self.now(), storm_id],
            ).fetchone()
        return row is not None

    def storm_posted(self, storm_id: int, ts: str) -> None:
        """The storm message is in Slack (posted, or found by reconcile): once, first ts wins."""
        with self.write() as db:
            row = db.execute(
                "UPDATE storms SET msg_state = 'sent', ts = ?, updated_at = ?"
                " WHERE id = ? AND msg_state != 'sent' RETURNING id",
                [ts, self.now(), storm_id],
            ).fetchone()
            if row:
                detail = {"storm": storm_id}
                _event(db, None, self.now(), SYSTEM, "storm_posted", None, None, detail)

    def storm_post_failed(self, storm_id: int) -> None:
        """Not in Slack for certain: back to pending."""
        with self.write() as db:
            db.execute(
                "UPDATE storms SET msg_state = 'pending', updated_at = ?"
                " WHERE id = ? AND msg_state = 'sending'",
                [self.now(), storm_id],
            )

    def storm_shown(self, storm_id: int, shown: str) -> None:
        """Remember what the storm message shows, so it is edited only when that changes."""
        with self.write() as db:
            db.execute("UPDATE storms SET shown = ? WHERE id = ?", [shown, storm_id])

    def storm_alerts(self, storm: dict) -> list[dict]:
        """The alerts threaded under this storm's message: mention id, text, outbox state."""
        if not storm.get("ts"):
            return []
        with self.connect() as db:
            return list(
                db.query(
                    "SELECT o.mention_id, o.state, o.created_at, m.title, m.text"
                    " FROM outbox o JOIN mentions m ON m.id = o.mention_id"
                    " WHERE o.channel = ? AND o.thread_ts = ? ORDER BY o.mention_id",
                    [storm["channel"], storm["ts"]],
                )
            )

    def storm_texts(self, storm: dict, window: timedelta) -> list[str]:
        """Texts of the alerts of a storm (from one window before it opened until it closed),
        for its top terms."""
        end = storm.get("ended_at") or self.now()
        begin = iso(parse_time(storm["started_at"]) - window)
        with self.connect() as db:
            rows = db.execute(
                "SELECT m.title, m.text FROM outbox o JOIN mentions m ON m.id = o.mention_id"
                " WHERE o.channel = ? AND o.created_at > ? AND o.created_at <= ?"
                " ORDER BY o.mention_id LIMIT 2000",
                [storm["channel"], begin, end],
            )
            return [f"{title} {text}" if title else text for title, text in rows]

    def set_outbox_thread(self, mention_id: int, thread_ts: str | None) -> None:
        """Before an alert is posted: the thread it goes into (None: the channel itself), so a
        reconcile after a crash knows where to look for it."""
        with self.write() as db:
            db.execute(
                "UPDATE outbox SET thread_ts = ? WHERE mention_id = ? AND state = 'sending'",
                [thread_ts, mention_id],
            )


def _open_storm(db: Database) -> dict | None:
    rows = list(db.query("SELECT * FROM storms WHERE is_open = 1"))
    return rows[0] if rows else None


def _storm(db: Database, storm_id: int) -> dict | None:
    rows = list(db.query("SELECT * FROM storms WHERE id = ?", [storm_id]))
    return rows[0] if rows else None


def _storm_threaded(db: Database, storm: dict | None) -> int:
    if not storm or not storm.get("ts"):
        return 0
    return db.execute(
        "SELECT count(*) FROM outbox WHERE channel = ? AND thread_ts = ?",
        [storm["channel"], storm["ts"]],
    ).fetchone()[0]


def _mention(db: Database, mention_id: int) -> dict | None:
    rows = list(db.query("SELECT * FROM mentions WHERE id = ?", [mention_id]))
    if not rows:
        return None
    row = rows[0]
    row["reasons"] = json.loads(row["reasons"])
    row["metrics"] = json.loads(row["metrics"])
    row["urgent"] = bool(row["urgent"])
    row["cross_posts"] = list(
        db.query(
            "SELECT id, source, url, created_at FROM mentions WHERE duplicate_of = ? ORDER BY id",
            [mention_id],
        )
    )
    return row


CROSS_POST_WINDOW = timedelta(hours=24)
CROSS_POST_SIMILARITY = 0.9
# Run for every mention stored, inside save_batch's write transaction, so it must stay a few
# index seeks: on mentions_author_lower and mentions_name_lower. The `+` keeps SQLite from
# choosing mentions_duplicate_of for `duplicate_of IS NULL`, which matches nearly every row
# (a scan of the whole table per mention stored).
CROSS_POST_SQL = """
    SELECT m.id, m.title, m.text FROM mentions m JOIN outbox o ON o.mention_id = m.id
    WHERE m.source != :source AND +m.duplicate_of IS NULL
      AND m.created_at BETWEEN :lo AND :hi
      AND ((:author != '' AND lower(m.author) = lower(:author))
           OR (:name != '' AND lower(m.author_name) = lower(:name)))
    ORDER BY m.id LIMIT 20
"""


def _cross_post_of(db: Database, mention: Mention, created: str) -> int | None:
    """The alerted mention this one repeats on another platform, if any: same handle or
    display name (any case), at most 24 h apart, and the same text once URLs, hashtags,
    @-mentions, punctuation and spacing are set aside (or nearly the same)."""
    author, name = mention.author.strip(), mention.author_name.strip()
    if not author and not name:
        return None
    moment = parse_time(created)
    rows = db.execute(
        CROSS_POST_SQL,
        {
            "source": mention.source,
            "lo": iso(moment - CROSS_POST_WINDOW),
            "hi": iso(moment + CROSS_POST_WINDOW),
            "author": author,
            "name": name,
        },
    ).fetchall()
    mine = fingerprint(f"{mention.title} {mention.text}")
    if not mine:
        return None
    for mention_id, title, text in rows:
        theirs = fingerprint(f"{title} {text}")
        if theirs == mine or (
            theirs and SequenceMatcher(None, mine, theirs).ratio() >= CROSS_POST_SIMILARITY
        ):
            return mention_id
    return None


def _health(db: Database, source: str) -> dict:
    rows = list(db.query("SELECT * FROM source_health WHERE source = ?", [source]))
    return rows[0] if rows else {}


def _event(
    db: Database,
    mention_id: int | None,
    at: str,
    actor: str,
    action: str,
    from_status: str | None,
    to_status: str | None,
    detail: dict,
) -> None:
    db.execute(
        "INSERT INTO events (mention_id, at, actor, action, from_status, to_status, detail)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [mention_id, at, actor, action, from_status, to_status, dumps(detail)],
    )


def since(delta: timedelta, clock: Callable[[], datetime] = utcnow) -> datetime:
    return clock() - delta


__all__ = ["Store", "Transition", "Saved", "parse_time"]
