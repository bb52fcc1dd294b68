"""Read-only queries behind `/mentions summary`, the digest and `mentionops export`.

Every function takes a `Store` and a half-open UTC window `[start, end)` over `created_at`
(the customer's post time): a period's figures are about the mentions posted in it. Counts are
done in SQL on the indexes of migration `0005_reports`, without reading rows; only the urgent
mentions of a period (a small share) come back as rows, for medians, per-agent figures and
complaint terms. Nothing here writes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime

from bot.models import iso
from storage import Store

# The first `claim` event of a mention: an unclaim and a re-claim do not reset its wait.
# Whole seconds between two ISO times, in SQL (NULL when either is NULL).
_SECONDS = "CAST(round((julianday({a}) - julianday({b})) * 86400) AS INTEGER)"
_FIRST_CLAIM = (
    "(SELECT {col} FROM events e WHERE e.mention_id = m.id AND e.action = 'claim'"
    " ORDER BY e.id LIMIT 1)"
)


def seen_by(store: Store, column: str, start: datetime, end: datetime) -> dict[str, int]:
    """Mentions in the window for each value of `column` (`source` or `category`).

    A loose index scan: the distinct values are walked with one index seek each, then each
    value's range is counted on (column, created_at). No row is read and nothing is sorted, so
    the cost is the size of the window, not of the table."""
    if column not in ("source", "category"):
        raise ValueError(column)
    sql = f"""
        WITH RECURSIVE v(x) AS (
            SELECT min({column}) FROM mentions
            UNION ALL
            SELECT (SELECT min({column}) FROM mentions WHERE {column} > v.x) FROM v
            WHERE v.x IS NOT NULL
        )
        SELECT x, (SELECT count(*) FROM mentions
                   WHERE {column} = v.x AND created_at >= :start AND created_at < :end)
        FROM v WHERE x IS NOT NULL
    """
    with store.connect() as db:
        rows = db.execute(sql, {"start": iso(start), "end": iso(end)}).fetchall()
    return {value: count for value, count in rows if count}


def urgent_rows(store: Store, start: datetime, end: datetime, *, text: bool = False) -> list[dict]:
    """The urgent mentions of the window, oldest first, with their first claim (time and who)
    and the seconds from the customer's post to that claim and to the resolution."""
    columns = (
        "id, source, category, status, created_at, claimed_by, resolved_by, resolved_at,"
        " escalation_level, escalated_at" + (", text" if text else "")
    )
    # A claim with no event (an imported row) still counts, from claimed_at.
    sql = f"""
        SELECT {columns}, first_claim_at, first_claim_by,
            {_SECONDS.format(a="first_claim_at", b="created_at")} AS claim_seconds,
            {_SECONDS.format(a="resolved_at", b="created_at")} AS resolve_seconds
        FROM (
            SELECT m.*,
                coalesce({_FIRST_CLAIM.format(col="e.at")}, m.claimed_at) AS first_claim_at,
                coalesce({_FIRST_CLAIM.format(col="e.actor")}, m.claimed_by) AS first_claim_by
            FROM mentions m
            WHERE m.urgent = 1 AND m.created_at >= ? AND m.created_at < ?
        )
        ORDER BY created_at, id
    """
    with store.connect() as db:
        cur = db.execute(sql, [iso(start), iso(end)])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur]


def daily_counts(store: Store, bounds: list[datetime]) -> list[int]:
    """Mentions in each window between consecutive `bounds` (local days), on the index."""
    with store.connect() as db:
        return [
            db.execute(
                "SELECT count(*) FROM mentions WHERE created_at >= ? AND created_at < ?",
                [iso(start), iso(end)],
            ).fetchone()[0]
            for start, end in zip(bounds, bounds[1:], strict=False)
        ]


def oldest_unclaimed(store: Store) -> dict | None:
    """The mention that has waited longest for a claim right now (any period)."""
    with store.connect() as db:
        cur = db.execute(
            "SELECT id, source, author, url, urgency, created_at, channel, ts, text"
            " FROM mentions WHERE status = 'posted' ORDER BY created_at, id LIMIT 1"
        )
        row = cur.fetchone()
        if row is None:
            return None
        return dict(zip([d[0] for d in cur.description], row, strict=True))


# --- export --------------------------------------------------------------------------------

EXPORT_COLUMNS = (
    "id",
    "source",
    "external_id",
    "url",
    "author",
    "author_name",
    "followers",
    "title",
    "text",
    "lang",
    "created_at",
    "fetched_at",
    "urgency",
    "urgent",
    "category",
    "sentiment",
    "reasons",
    "status",
    "status_at",
    "claimed_by",
    "claimed_at",
    "first_claim_at",
    "resolved_by",
    "resolved_at",
    "outcome",
    "escalation_level",
    "escalated_at",
    "escalated_to",
    "channel",
    "ts",
)


def export_rows(store: Store, start: datetime, end: datetime) -> Iterator[dict]:
    """Mentions in the window, oldest first, one flat dict each (reasons as a list), streamed
    so a large export never sits in memory."""
    first_at = _FIRST_CLAIM.format(col="e.at")
    columns = ", ".join(
        f"{first_at} AS first_claim_at" if c == "first_claim_at" else f"m.{c}"
        for c in EXPORT_COLUMNS
    )
    with store.connect() as db:
        cur = db.execute(
            f"SELECT {columns} FROM mentions m WHERE m.created_at >= ? AND m.created_at < ?"
            " ORDER BY m.created_at, m.id",
            [iso(start), iso(end)],
        )
        for row in cur:
            item = dict(zip(EXPORT_COLUMNS, row, strict=True))
            item["urgent"] = bool(item["urgent"])
            try:
                item["reasons"] = json.loads(item["reasons"] or "[]")
            except ValueError:
                pass
            yield item


# Cells a spreadsheet would run as a formula (OWASP "CSV injection"): post text, names and
# handles are untrusted, and `=HYPERLINK(...)` or `@SUM(...)` in a tweet must stay text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_row(row: dict) -> dict:
    """An `export_rows` row for a CSV file: reasons as JSON, and any text cell that starts like a
    formula prefixed with an apostrophe (Excel and LibreOffice then show it as text). Numbers
    (a negative sentiment) are left as they are; JSON Lines exports need none of this."""
    cells = {**row, "reasons": json.dumps(row["reasons"], ensure_ascii=False)}
    return {
        key: "'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) else value
        for key, value in cells.items()
    }
