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
