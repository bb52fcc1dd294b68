"""The digest's exactly-once state: one `digests` row per (kind, period), taken with a
compare-and-set before anything is posted.

`sending` -> `sent`. A Slack refusal puts the row to `failed`, to be tried again up to
`MAX_ATTEMPTS`; a `sending` row older than `stale` (a crash or a timeout mid-post) may be taken
over, and the caller then looks for the message in the channel before posting again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.models import iso
from storage import Store

MAX_ATTEMPTS = 5


def take(
    store: Store, kind: str, period: str, channel: str, now: datetime, *, stale: timedelta
) -> dict | None:
    """Take the digest for sending; the row (with `ts` if a post is already known), or None
    when it was sent, is being sent by someone else, or has failed too often."""
    with store.write() as db:
        cur = db.execute(
            """
            INSERT INTO digests (kind, period, state, channel, attempts, started_at)
            VALUES (:kind, :period, 'sending', :channel, 1, :now)
            ON CONFLICT (kind, period) DO UPDATE SET state = 'sending',
                attempts = attempts + 1, started_at = :now, last_error = NULL
            WHERE digests.attempts < :max AND (digests.state = 'failed'
                OR (digests.state = 'sending' AND digests.started_at <= :stale))
            RETURNING kind, period, state, channel, ts, file_id, attempts
            """,
            {
                "kind": kind,
                "period": period,
                "channel": channel,
                "now": iso(now),
                "stale": iso(now - stale),
                "max": MAX_ATTEMPTS,
            },
        )
        row = cur.fetchone()
        if row is None:
            return None
        return dict(zip([d[0] for d in cur.description], row, strict=True))


def posted(store: Store, kind: str, period: str, ts: str) -> None:
    """The message is in Slack (a chart may still follow in its thread)."""
    with store.write() as db:
        db.execute("UPDATE digests SET ts = ? WHERE kind = ? AND period = ?", [ts, kind, period])


def sent(store: Store, kind: str, period: str, now: datetime, file_id: str | None = None) -> None:
    with store.write() as db:
        db.execute(
            "UPDATE digests SET state = 'sent', sent_at = ?, file_id = coalesce(?, file_id)"
            " WHERE kind = ? AND period = ?",
            [iso(now), file_id, kind, period],
        )


def failed(store: Store, kind: str, period: str, error: str) -> None:
    """Slack said no for certain: the next check tries again (up to MAX_ATTEMPTS)."""
    with store.write() as db:
        db.execute(
            "UPDATE digests SET state = 'failed', last_error = ? WHERE kind = ? AND period = ?",
            [error[:500], kind, period],
        )


def all_rows(store: Store) -> list[dict]:
    with store.connect() as db:
        return list(db.query("SELECT * FROM digests ORDER BY started_at, kind"))
