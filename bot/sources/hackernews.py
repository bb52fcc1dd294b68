"""Hacker News through Algolia's `search_by_date` (stories and comments; no key needed).

Cursor: the newest `created_at_i` seen for each query. Each poll asks for a little before the
cursor (OVERLAP_SECONDS) so items Algolia indexes late are not missed; the database's
UNIQUE (source, external_id) drops the repeats.

Paging is by time, not page number: hits come newest first, and each next request asks for
`created_at_i<=` the oldest second seen so far (that second is asked for again and its repeats
dropped), so Algolia's limit of 1,000 hits per query never cuts a poll short, and hits that
arrive while paging do not shift the pages. A poll reads at most `max_hits` hits a query; when
more are waiting, the cursor keeps a backfill marker, `{"since": S, "before": B, "newest": N}`:
the hits from S (exclusive) to B (inclusive) are still to read, and N is the newest seen. The
next poll finishes that gap first, then goes on from N. A plain integer cursor (no gap) is
what older versions wrote, and still what is written when nothing is left behind.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from bot.config import SourceConfig
from bot.models import Mention
from bot.sources.base import (
    FetchResult,
    SourceError,
    backfill_cursor,
    json_body,
    new_client,
    parse_backfill_cursor,
    poll_with_backfill,
    request,
)
from bot.text import html_to_text, plain

NAME = "hackernews"
ITEM_URL = "https://news.ycombinator.com/item?id={}"
OVERLAP_SECONDS = 120
HITS_PER_PAGE = 100
MAX_HITS_PER_POLL = 1000  # per query; what is left is read first thing next poll
PAGINATION_LIMIT = 1000  # Algolia pages through the first 1,000 hits of a query, no further


class HackerNews:
    name = NAME

    def __init__(
        self,
        config: SourceConfig,
        queries: tuple[str, ...],
        *,
        client: httpx.Client | None = None,
        sleep=None,
        max_hits: int = MAX_HITS_PER_POLL,
    ):
        self.config = config
        self.queries = queries
        self.client = client or new_client()
        self.sleep = sleep
        self.max_hits = max(1, max_hits)

    def fetch(self, cursors: dict[str, str], *, now: datetime) -> FetchResult:
        result = FetchResult()
        seen: set[str] = set()
        for query in self.queries:
            since, before, newest = _cursor(cursors.get(query))
            if since is None:
                since = int((now - timedelta(minutes=self.config.lookback_minutes)).timestamp())
            result.cursors[query] = poll_with_backfill(
                since=since,
                before=before,
                newest=max(since, newest or since),
                budget=self.max_hits,
                overlap=OVERLAP_SECONDS,
                window=lambda after, upto, budget, q=query: self._window(
                    q, after, upto, budget, result
                ),
                keep=lambda hits, newest: self._keep(hits, newest, seen, result),
                stamp=str,
                gap=backfill_cursor,
            )
        return result

    @staticmethod
    def _keep(hits: list[dict], newest: int, seen: set[str], result: FetchResult) -> int:
        for hit in hits:
            try:
                mention = transform_hit(hit)
            except (KeyError, TypeError, ValueError) as exc:
                result.problems.append(f"skipped a malformed hit: {exc!r}")
                continue
            newest = max(newest, int(hit["created_at_i"]))
            if mention.external_id not in seen:
                seen.add(mention.external_id)
                result.mentions.append(mention)
        return newest

    def _window(
        self, query: str, after: int, upto: int | None, budget: int, result: FetchResult
    ) -> tuple[list[dict], int | None]:
        """Hits with after < created_at_i <= upto (no upper bound when None), newest first,
        each once, until about `budget` are read. Returns (hits, left): `left` is None when
        the window was read to its end, else the second (inclusive) where what is left ends."""
        hits: list[dict] = []
        ids: set[str] = set()
        page = 0
        while True:
            numeric = f"created_at_i>{after}" + (
                f",created_at_i<={upto}" if upto is not None else ""
            )
            response = request(
                self.client,
                "GET",
                f"{self.config.base_url}/search_by_date",
                params={
                    "query": query,
                    "tags": "(story,comment)",
                    "numericFilters": numeric,
                    "hitsPerPage": HITS_PER_PAGE,
                    "page": page,
                },
                sleep=self.sleep,
            )
            data = json_body(response)
            raw = data.get("hits")
            if not isinstance(raw, list):
                raise SourceError("hn.algolia.com sent a response without a 'hits' list")
            times = []
            for hit in raw:
                if not isinstance(hit, dict):
                    continue
                key = str(hit.get("objectID"))
                if key not in ids:
                    ids.add(key)
                    hits.append(hit)
                moment = _hit_time(hit)
                if moment is not None:
                    times.append(moment)
            if len(raw) < HITS_PER_PAGE:
                return hits, None  # the window's last page
            if not times:
                raise SourceError("hn.algolia.com sent a page of hits without created_at_i")
            oldest = min(times)
            if len(hits) >= budget and (upto is None or oldest < upto):
                return hits, oldest  # (a second being paged through is finished first)
            if upto is None or oldest < upto:
                upto, page = oldest, 0  # the next page by time: immune to Algolia's page limit
            elif (page + 2) * HITS_PER_PAGE <= PAGINATION_LIMIT:
                page += 1  # a whole page within one second: page through that second
            else:
                result.problems.append(
                    f"more than {PAGINATION_LIMIT} hits in the one second {upto} for {query!r}: "
                    "Algolia cannot page further, some of that second's hits were skipped"
                )
                upto, page = upto - 1, 0


def transform_hit(hit: dict) -> Mention:
    """One Algolia hit (story or comment) -> Mention with plain text."""
    object_id = str(hit["objectID"])
    tags = hit.get("_tags") or []
    created = datetime.fromtimestamp(int(hit["created_at_i"]), UTC)
    if "comment" in tags or hit.get("comment_text"):
        text = html_to_text(hit.get("comment_text"))
        title = plain(hit.get("story_title"))
        metrics = {}
    else:
        title = plain(hit.get("title"))
        text = html_to_text(hit.get("story_text")) or title
        metrics = {
            "likes": int(hit.get("points") or 0),
            "replies": int(hit.get("num_comments") or 0),
        }
        if text == title:
            title = ""
    return Mention(
        source=NAME,
        external_id=object_id,
        text=text,
        title=title,
        author=str(hit.get("author") or ""),
        author_name=str(hit.get("author") or ""),
        followers=None,
        url=ITEM_URL.format(object_id),
        created_at=created,
        metrics=metrics,
    )


def _hit_time(hit: dict) -> int | None:
    try:
        return int(hit["created_at_i"])
    except (KeyError, TypeError, ValueError):
        return None


def _cursor(cursor: str | None) -> tuple[int | None, int | None, int | None]:
    """(since, before, newest) from a plain `created_at_i` or a backfill marker; Nones for a
    missing or unreadable cursor (the poll then looks back `lookback_minutes`)."""
    since, before, newest = parse_backfill_cursor(cursor)
    try:
        return (
            int(since) if since is not None else None,
            int(before) if before is not None else None,
            int(newest) if newest is not None else None,
        )
    except (TypeError, ValueError):
        return None, None, None
