"""Numbered schema steps, applied in order on open (sqlite-utils `Migrations`).

Never edit a step that has shipped: add a new one. Each step is tested on an in-memory
database (tests/test_storage.py).
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("mentionops")


@migrations(name="0001_initial")
def m0001_initial(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE mentions (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            external_id TEXT NOT NULL,
            url TEXT NOT NULL DEFAULT '',
            author TEXT NOT NULL DEFAULT '',
            author_name TEXT NOT NULL DEFAULT '',
            followers INTEGER,
            title TEXT NOT NULL DEFAULT '',
            text TEXT NOT NULL,
            lang TEXT,
            metrics TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL,
            fetched_at TEXT NOT NULL,
            urgency INTEGER NOT NULL DEFAULT 0,
            urgent INTEGER NOT NULL DEFAULT 0,
            category TEXT NOT NULL DEFAULT 'other',
            sentiment REAL NOT NULL DEFAULT 0,
            reasons TEXT NOT NULL DEFAULT '[]',
            status TEXT NOT NULL DEFAULT 'new'
                CHECK (status IN ('new', 'posted', 'claimed', 'resolved', 'ignored')),
            status_at TEXT NOT NULL,
            claimed_by TEXT,
            claimed_at TEXT,
            resolved_by TEXT,
            resolved_at TEXT,
            outcome TEXT,
            escalation_level INTEGER NOT NULL DEFAULT 0,
            escalated_at TEXT,
            escalated_to TEXT,
            channel TEXT,
            ts TEXT,
            version INTEGER NOT NULL DEFAULT 0,
            UNIQUE (source, external_id)
        )
        """
    )
    db.execute("CREATE INDEX mentions_status_created ON mentions (status, created_at)")
    db.execute("CREATE INDEX mentions_created ON mentions (created_at)")
    db.execute("CREATE INDEX mentions_author ON mentions (author, created_at)")
    db.execute("CREATE INDEX mentions_message ON mentions (channel, ts)")
    db.execute(
        """
        CREATE TABLE outbox (
            mention_id INTEGER PRIMARY KEY REFERENCES mentions (id),
            state TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'sending', 'sent')),
            channel TEXT NOT NULL,
            ts TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX outbox_state ON outbox (state, mention_id)")
    db.execute(
        """
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            mention_id INTEGER REFERENCES mentions (id),
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            from_status TEXT,
            to_status TEXT,
            detail TEXT NOT NULL DEFAULT '{}'
        )
        """
    )
    db.execute("CREATE INDEX events_mention ON events (mention_id, id)")
    db.execute("CREATE INDEX events_at ON events (at)")
    db.execute(
        """
        CREATE TABLE cursors (
            source TEXT NOT NULL,
            query TEXT NOT NULL,
            cursor TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (source, query)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE source_health (
            source TEXT PRIMARY KEY,
            last_run TEXT,
            last_success TEXT,
            last_error TEXT,
            last_error_at TEXT,
            consecutive_failures INTEGER NOT NULL DEFAULT 0,
            failing_since TEXT,
            mentions_fetched INTEGER NOT NULL DEFAULT 0,
            last_mention_at TEXT,
            next_run TEXT,
            notice TEXT
        )
        """
    )


@migrations(name="0002_workflow")
def m0002_workflow(db: Database) -> None:
    """Reassign, Not urgent, reply drafts (versioned), deleted source posts, cross-posts and
    source silence."""
    db.execute("ALTER TABLE mentions ADD COLUMN ignored_by TEXT")
    db.execute("ALTER TABLE mentions ADD COLUMN ignored_reason TEXT")
    db.execute("ALTER TABLE mentions ADD COLUMN source_deleted_at TEXT")
    # A cross-post: the same complaint by the same person on another platform shares the
    # first one's alert.
    db.execute("ALTER TABLE mentions ADD COLUMN duplicate_of INTEGER REFERENCES mentions (id)")
    db.execute("CREATE INDEX mentions_duplicate_of ON mentions (duplicate_of)")
    db.execute("CREATE INDEX mentions_author_lower ON mentions (lower(author), created_at)")
    db.execute("CREATE INDEX mentions_name_lower ON mentions (lower(author_name), created_at)")
    # When a source first answered, so silence can be measured before its first mention.
    db.execute("ALTER TABLE source_health ADD COLUMN first_success TEXT")
    db.execute(
        """
        CREATE TABLE drafts (
            id INTEGER PRIMARY KEY,
            mention_id INTEGER NOT NULL REFERENCES mentions (id),
            version INTEGER NOT NULL,
            text TEXT NOT NULL,
            author TEXT NOT NULL,
            created_at TEXT NOT NULL,
            UNIQUE (mention_id, version)
        )
        """
    )


@migrations(name="0003_source_state")
def m0003_source_state(db: Database) -> None:
    # Small, non-secret state a source keeps across restarts: X reads in the last hour, the
    # times of recent Bluesky logins. Never tokens or passwords (DESIGN.md: credentials are
    # never stored in the database).
    db.execute(
        """
        CREATE TABLE source_state (
            source TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (source, key)
        )
        """
    )


@migrations(name="0004_oncall")
def m0004_oncall(db: Database) -> None:
    """On-call escalation: the severity and follow-up state on mentions, rotation overrides,
    the single-runner lease and the PagerDuty outbox (bot/escalation.py)."""
    db.execute("ALTER TABLE mentions ADD COLUMN escalation_severity TEXT")
    # Follow-up reminders belong to one claim: `followup_for` is the claimed_at they count from.
    db.execute("ALTER TABLE mentions ADD COLUMN followup_for TEXT")
    db.execute("ALTER TABLE mentions ADD COLUMN followup_count INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE mentions ADD COLUMN followup_at TEXT")
    db.execute(
        """
        CREATE TABLE oncall_overrides (
            id INTEGER PRIMARY KEY,
            user TEXT NOT NULL,
            starts_at TEXT NOT NULL,
            ends_at TEXT NOT NULL,
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL,
            cleared_at TEXT
        )
        """
    )
    db.execute("CREATE INDEX oncall_overrides_ends ON oncall_overrides (ends_at)")
    db.execute(
        """
        CREATE TABLE lease (
            name TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            pid INTEGER NOT NULL,
            host TEXT NOT NULL,
            acquired_at TEXT NOT NULL,
            expires_at TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE pagerduty_outbox (
            id INTEGER PRIMARY KEY,
            mention_id INTEGER NOT NULL REFERENCES mentions (id),
            action TEXT NOT NULL CHECK (action IN ('trigger', 'resolve')),
            payload TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            last_error TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (mention_id, action)
        )
        """
    )
    db.execute("CREATE INDEX pagerduty_outbox_state ON pagerduty_outbox (state, next_attempt_at)")


@migrations(name="0005_reports")
def m0005_reports(db: Database) -> None:
    """Indexes for summaries (storage/reports.py) and the digest's exactly-once state."""
    # A period's counts by source and by category: one index range per value, no sorting
    # (storage/reports.py walks the distinct values with a loose index scan).
    db.execute("CREATE INDEX mentions_source_created ON mentions (source, created_at)")
    db.execute("CREATE INDEX mentions_category_created ON mentions (category, created_at)")
    # The urgent mentions of a period, the only rows a summary reads one by one.
    db.execute("CREATE INDEX mentions_urgent_created ON mentions (urgent, created_at)")
    # A mention's first claim, from the index alone (an unclaim and a re-claim do not reset
    # the time to claim).
    db.execute(
        "CREATE INDEX events_first_claim ON events (mention_id, action, id, at, actor)"
        " WHERE action = 'claim'"
    )
    # One row per digest and period: inserted before the post (compare-and-set), so a
    # digest goes out once across restarts, several processes and DST changes.
    db.execute(
        """
        CREATE TABLE digests (
            kind TEXT NOT NULL CHECK (kind IN ('daily', 'weekly')),
            period TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'sending'
                CHECK (state IN ('sending', 'sent', 'failed')),
            channel TEXT NOT NULL,
            ts TEXT,
            file_id TEXT,
            attempts INTEGER NOT NULL DEFAULT 1,
            last_error TEXT,
            started_at TEXT NOT NULL,
            sent_at TEXT,
            PRIMARY KEY (kind, period)
        )
        """
    )


@migrations(name="0006_storm")
def m0006_storm(db: Database) -> None:
    """Storm mode (bot/storm.py): one storm alert at a time, and which alerts were threaded
    under it (so reconcile looks for them with conversations.replies)."""
    db.execute(
        """
        CREATE TABLE storms (
            id INTEGER PRIMARY KEY,
            is_open INTEGER UNIQUE CHECK (is_open = 1),  -- 1 while open, NULL once closed
            started_at TEXT NOT NULL,
            ended_at TEXT,
            channel TEXT NOT NULL,
            ts TEXT,
            msg_state TEXT NOT NULL DEFAULT 'pending'
                CHECK (msg_state IN ('pending', 'sending', 'sent')),
            baseline REAL NOT NULL,
            threshold INTEGER NOT NULL,
            window_count INTEGER NOT NULL,
            peak INTEGER NOT NULL,
            calm_since TEXT,
            shown TEXT,
            updated_at TEXT NOT NULL
        )
        """
    )
    db.execute("ALTER TABLE outbox ADD COLUMN thread_ts TEXT")
    # Urgent alerts per 10 minutes and the baseline before them: a range of the index.
    db.execute("CREATE INDEX outbox_channel_created ON outbox (channel, created_at)")


@migrations(name="0007_storm_threads")
def m0007_storm_threads(db: Database) -> None:
    """The alerts threaded under a storm message (Store.storm_alerts, read on every poll while
    a storm lasts): a seek on the thread, not a walk over every alert the channel ever had."""
    db.execute(
        "CREATE INDEX outbox_thread ON outbox (channel, thread_ts) WHERE thread_ts IS NOT NULL"
    )
