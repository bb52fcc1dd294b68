"""Escalation state in SQLite: levels fired, follow-up reminders, on-call overrides, the lease
that lets one process run the scheduler, and the PagerDuty outbox.

Nothing here lives in memory: a restart resumes exactly where the database says. Each level
fires once per mention because it is set by a compare-and-set inside BEGIN IMMEDIATE
(`... WHERE escalation_level < :level AND status IN (...) RETURNING id`), with an audit event
in the same transaction; the Slack pings are sent only by the caller that won.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bot.models import dumps, iso
from storage import SYSTEM, Store, Transition, _event, _mention

LEASE = "scheduler"  # the one lease: who polls, posts and pings

# --- escalation ------------------------------------------------------------------------------


def escalation_candidates(store: Store, below_level: int) -> list[dict]:
    """Posted (unclaimed) alerts whose escalation level is below `below_level`, oldest first."""
    with store.connect() as db:
        return list(
            db.query(
                "SELECT id, source, urgency, created_at, escalation_level, escalated_at"
                " FROM mentions WHERE status = 'posted' AND ts IS NOT NULL"
                " AND escalation_level < ? ORDER BY created_at, id",
                [below_level],
            )
        )


def escalation_statuses(auto: bool) -> tuple[str, ...]:
    """The states a mention may be escalated from: an automatic escalation needs it unclaimed
    (`posted`); a manual one may also escalate a claimed mention."""
    return ("posted",) if auto else ("posted", "claimed")


def why_not_escalate(m: dict | None, level: int, *, auto: bool = False) -> str | None:
    """Why `m` can't be raised to `level` now (`not_found`, its status such as `resolved`,
    or `already_escalated`), or None when it can. `mark_escalated` names its refusals with
    this, so a check ahead of time gives the same answer the compare-and-set would."""
    if m is None:
        return "not_found"
    if m["status"] not in escalation_statuses(auto):
        return m["status"]
    if (m.get("escalation_level") or 0) >= level:
        return "already_escalated"
    return None


def mark_escalated(
    store: Store,
    mention_id: int,
    *,
    level: int,
    targets: Iterable[str],
    by: str,
    severity: str,
    now: datetime,
    note: str | None = None,
    auto: bool = False,
    pagerduty: dict | None = None,
) -> Transition:
    """Raise a mention's escalation to `level`, once. Automatic escalation needs the mention
    unclaimed (`posted`); a manual one may also escalate a claimed mention. With `pagerduty`
    (the event's payload, without the routing key), a trigger is queued in the same
    transaction, so it is never lost and never sent for a level that did not fire."""
    statuses = escalation_statuses(auto)
    at = iso(now)
    to = ",".join(targets)
    with store.write() as db:
        before = _mention(db, mention_id)
        if before is None:
            return Transition(False, None, "not_found")
        marks = ",".join("?" * len(statuses))
        row = db.execute(
            "UPDATE mentions SET escalation_level = ?, escalated_at = ?, escalated_to = ?,"
            " escalation_severity = ?, version = version + 1"
            f" WHERE id = ? AND escalation_level < ? AND status IN ({marks}) RETURNING id",
            [level, at, to, severity, mention_id, level, *statuses],
        ).fetchone()
        if row is None:
            reason = why_not_escalate(before, level, auto=auto) or "already_escalated"
            return Transition(False, before, reason)
        detail = {"level": level, "to": to.split(",") if to else [], "severity": severity}
        if note:
            detail["note"] = note
        if auto:
            detail["auto"] = True
        _event(db, mention_id, at, by, "escalate", before["status"], before["status"], detail)
        if pagerduty is not None:
            _queue_pagerduty(db, mention_id, "trigger", pagerduty, at)
        return Transition(True, _mention(db, mention_id))


def followup_candidates(store: Store) -> list[dict]:
    """Claimed, unresolved mentions with their reminder state."""
    with store.connect() as db:
        return list(
            db.query(
                "SELECT id, claimed_by, claimed_at, followup_for, followup_count, followup_at"
                " FROM mentions WHERE status = 'claimed' AND claimed_at IS NOT NULL"
                " ORDER BY claimed_at, id"
            )
        )


def mark_reminded(store: Store, row: dict, now: datetime) -> int | None:
    """Count one reminder for the claim in `row` (compare-and-set on the claim and on the
    reminder count read), so a reminder is sent once however many ticks race. Returns the
    reminder's number, or None when someone else sent it or the claim changed."""
    at = iso(now)
    same_claim = row["followup_for"] == row["claimed_at"]
    count = (row["followup_count"] if same_claim else 0) + 1
    with store.write() as db:
        done = db.execute(
            "UPDATE mentions SET followup_for = :claimed_at, followup_count = :count,"
            " followup_at = :now WHERE id = :id AND status = 'claimed'"
            " AND claimed_by = :owner AND claimed_at = :claimed_at"
            " AND followup_for IS :prev_for AND followup_count = :prev_count RETURNING id",
            {
                "id": row["id"],
                "owner": row["claimed_by"],
                "claimed_at": row["claimed_at"],
                "count": count,
                "now": at,
                "prev_for": row["followup_for"],
                "prev_count": row["followup_count"],
            },
        ).fetchone()
        if done is None:
            return None
        _event(
            db,
            row["id"],
            at,
            SYSTEM,
            "followup",
            "claimed",
            "claimed",
            {"to": row["claimed_by"], "reminder": count},
        )
    return count


def overdue_claims(store: Store, claimed_before: datetime) -> list[dict]:
    """Claimed mentions still unresolved that were claimed before `claimed_before` (for
    summaries: claims older than `followup_minutes`), oldest claim first."""
    with store.connect() as db:
        ids = [
            r[0]
            for r in db.execute(
                "SELECT id FROM mentions WHERE status = 'claimed' AND claimed_at <= ?"
                " ORDER BY claimed_at, id",
                [iso(claimed_before)],
            )
        ]
        return [_mention(db, i) for i in ids]


# --- on-call overrides -------------------------------------------------------------------------


def add_override(
    store: Store, user: str, starts_at: datetime, ends_at: datetime, *, by: str, now: datetime
) -> dict:
    at = iso(now)
    with store.write() as db:
        row_id = db.execute(
            "INSERT INTO oncall_overrides (user, starts_at, ends_at, created_by, created_at)"
            " VALUES (?, ?, ?, ?, ?) RETURNING id",
            [user, iso(starts_at), iso(ends_at), by, at],
        ).fetchone()[0]
        _event(
            db,
            None,
            at,
            by,
            "oncall_override",
            None,
            None,
            {"user": user, "from": iso(starts_at), "until": iso(ends_at)},
        )
        return next(db.query("SELECT * FROM oncall_overrides WHERE id = ?", [row_id]))


def overrides(store: Store, *, ending_after: datetime) -> list[dict]:
    """Overrides not cleared that end after `ending_after`, oldest first."""
    with store.connect() as db:
        return list(
            db.query(
                "SELECT * FROM oncall_overrides WHERE cleared_at IS NULL AND ends_at > ?"
                " ORDER BY id",
                [iso(ending_after)],
            )
        )


def clear_overrides(store: Store, *, by: str, now: datetime) -> int:
    """End every current and future override; returns how many."""
    at = iso(now)
    with store.write() as db:
        count = db.execute(
            "UPDATE oncall_overrides SET cleared_at = ? WHERE cleared_at IS NULL AND ends_at > ?",
            [at, at],
        ).rowcount
        if count:
            _event(db, None, at, by, "oncall_override_cleared", None, None, {"count": count})
        return count


# --- the lease ------------------------------------------------------------------------------


def acquire_lease(
    store: Store,
    holder: str,
    *,
    pid: int,
    host: str,
    now: datetime,
    ttl_seconds: float,
    take_over: bool = False,
) -> tuple[bool, dict]:
    """Take or renew the lease. It is ours when it is free, already ours, expired, or
    `take_over` (the holder is known dead). Returns (ours, the lease row as it stands)."""
    at = iso(now)
    expires = iso(datetime.fromtimestamp(now.timestamp() + ttl_seconds, now.tzinfo))
    with store.write() as db:
        current = next(db.query("SELECT * FROM lease WHERE name = ?", [LEASE]), None)
        ours = (
            current is None
            or current["holder"] == holder
            or current["expires_at"] <= at
            or take_over
        )
        if ours:
            acquired = current["acquired_at"] if current and current["holder"] == holder else at
            db.execute(
                "INSERT INTO lease (name, holder, pid, host, acquired_at, expires_at)"
                " VALUES (:name, :holder, :pid, :host, :acquired, :expires)"
                " ON CONFLICT (name) DO UPDATE SET holder = :holder, pid = :pid, host = :host,"
                " acquired_at = :acquired, expires_at = :expires",
                {
                    "name": LEASE,
                    "holder": holder,
                    "pid": pid,
                    "host": host,
                    "acquired": acquired,
                    "expires": expires,
                },
            )
            if current is None or current["holder"] != holder:
                _event(
                    db,
                    None,
                    at,
                    SYSTEM,
                    "lease_acquired",
                    None,
                    None,
                    {"pid": pid, "host": host, "from": current["holder"] if current else None},
                )
        row = next(db.query("SELECT * FROM lease WHERE name = ?", [LEASE]))
    return ours, row


def release_lease(store: Store, holder: str) -> bool:
    with store.write() as db:
        return (
            db.execute("DELETE FROM lease WHERE name = ? AND holder = ?", [LEASE, holder]).rowcount
            > 0
        )


# --- small state ----------------------------------------------------------------------------


def set_meta(store: Store, key: str, value: str) -> None:
    with store.write() as db:
        db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )


# --- PagerDuty outbox -------------------------------------------------------------------------


def _queue_pagerduty(db, mention_id: int, action: str, payload: dict, at: str) -> bool:
    cur = db.execute(
        "INSERT INTO pagerduty_outbox (mention_id, action, payload, next_attempt_at,"
        " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (mention_id, action) DO NOTHING RETURNING id",
        [mention_id, action, dumps(payload), at, at, at],
    )
    return cur.fetchone() is not None


# A mention is closed, and its incident with it, when it is resolved (button, menu, a manager)
# or marked not urgent.
_CLOSED = "('resolved', 'ignored')"
CANCELLED = "not sent: the mention was closed first"


def queue_pagerduty_resolves(store: Store, now: datetime) -> list[int]:
    """A `resolve` for every closed mention whose incident was (or may have been) triggered.

    A trigger never tried yet is cancelled instead: nobody is paged for a mention already
    closed. One tried before (a 5xx, a timeout) may have reached PagerDuty, so it is sent and
    resolved after it, like one that was sent."""
    at = iso(now)
    with store.write() as db:
        cancelled = db.execute(
            "UPDATE pagerduty_outbox SET state = 'failed', last_error = ?, updated_at = ?"
            " WHERE action = 'trigger' AND state = 'pending' AND attempts = 0 AND mention_id IN"
            f" (SELECT id FROM mentions WHERE status IN {_CLOSED}) RETURNING mention_id",
            [CANCELLED, at],
        ).fetchall()
        for (mention_id,) in cancelled:
            status = db.execute(
                "SELECT status FROM mentions WHERE id = ?", [mention_id]
            ).fetchone()[0]
            detail = {"action": "trigger", "status": status}
            _event(db, mention_id, at, SYSTEM, "pagerduty_cancelled", status, status, detail)
        ids = [
            r[0]
            for r in db.execute(
                "SELECT o.mention_id FROM pagerduty_outbox o JOIN mentions m"
                " ON m.id = o.mention_id WHERE o.action = 'trigger' AND o.state != 'failed'"
                f" AND m.status IN {_CLOSED} AND NOT EXISTS (SELECT 1 FROM pagerduty_outbox r"
                " WHERE r.mention_id = o.mention_id AND r.action = 'resolve')"
            )
        ]
        return [i for i in ids if _queue_pagerduty(db, i, "resolve", {}, at)]


def pagerduty_due(store: Store, now: datetime, *, stuck_before: datetime) -> list[dict]:
    """Rows to send now, in order: pending and due, or left `sending` by a crash. A resolve
    waits while its trigger is not sent yet."""
    with store.connect() as db:
        return list(
            db.query(
                "SELECT * FROM pagerduty_outbox o WHERE ((o.state = 'pending'"
                " AND o.next_attempt_at <= :now)"
                " OR (o.state = 'sending' AND o.updated_at < :stuck))"
                " AND NOT (o.action = 'resolve' AND EXISTS (SELECT 1 FROM pagerduty_outbox t"
                " WHERE t.mention_id = o.mention_id AND t.action = 'trigger'"
                " AND t.state IN ('pending', 'sending'))) ORDER BY o.id",
                {"now": iso(now), "stuck": iso(stuck_before)},
            )
        )


def begin_pagerduty(store: Store, row: dict, now: datetime) -> bool:
    """Take a row for sending (compare-and-set on its state and update time)."""
    with store.write() as db:
        return (
            db.execute(
                "UPDATE pagerduty_outbox SET state = 'sending', attempts = attempts + 1,"
                " updated_at = ? WHERE id = ? AND state = ? AND updated_at = ? RETURNING id",
                [iso(now), row["id"], row["state"], row["updated_at"]],
            ).fetchone()
            is not None
        )


def pagerduty_done(
    store: Store,
    row_id: int,
    state: str,
    now: datetime,
    *,
    error: str | None = None,
    retry_at: datetime | None = None,
) -> None:
    """After a send: `sent`, `failed` (refused for good) or `pending` again until `retry_at`."""
    at = iso(now)
    with store.write() as db:
        db.execute(
            "UPDATE pagerduty_outbox SET state = ?, last_error = ?, updated_at = ?,"
            " next_attempt_at = coalesce(?, next_attempt_at) WHERE id = ?",
            [
                state,
                error[:500] if error else None,
                at,
                iso(retry_at) if retry_at else None,
                row_id,
            ],
        )


def pagerduty_rows(store: Store) -> list[dict]:
    with store.connect() as db:
        return list(db.query("SELECT * FROM pagerduty_outbox ORDER BY id"))
