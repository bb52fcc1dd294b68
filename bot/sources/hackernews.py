"""Hacker News through Algolia's `search_by_date` (stories and comments; no key needed).

Cursor: the newest `created_at_i` seen for each query. Each poll asks for a little before the
cursor (OVERLAP_SECONDS) so items Algolia indexes late are not missed; the database's
UNIQUE (source, external_id) drops the repeats.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from bot.config import SourceConfig
from bot.models import Mention
from bot.sources.base import FetchResult, SourceError, json_body, new_client, request
from bot.text import html_to_text, plain

NAME = "hackernews"
ITEM_URL = "https://news.ycombinator.com/item?id={}"
OVERLAP_SECONDS = 120
HITS_PER_PAGE = 100
MAX_PAGES = 10


class HackerNews:
    name = NAME

    def __init__(
        self,
        config: SourceConfig,
        queries: tuple[str, ...],
        *,
        client: httpx.Client | None = None,
        sleep=None,
    ):
        self.config = config
        self.queries = queries
        self.client = client or new_client()
        self.sleep = sleep

    def fetch(self, cursors: dict[str, str], *, now: datetime) -> FetchResult:
        result = FetchResult()
        seen: set[str] = set()
        for query in self.queries:
            since = _cursor_value(cursors.get(query))
            if since is None:
                since = int((now - timedelta(minutes=self.config.lookback_minutes)).timestamp())
            newest = since
            for hit in self._hits(query, since - OVERLAP_SECONDS):
                try:
                    mention = transform_hit(hit)
                except (KeyError, TypeError, ValueError) as exc:
                    result.problems.append(f"skipped a malformed hit: {exc!r}")
                    continue
                newest = max(newest, int(hit["created_at_i"]))
                if mention.external_id not in seen:
                    seen.add(mention.external_id)
                    result.mentions.append(mention)
            result.cursors[query] = str(newest)
        return result

    def _hits(self, query: str, after: int):
        for page in range(MAX_PAGES):
            response = request(
                self.client,
                "GET",
                f"{self.config.base_url}/search_by_date",
                params={
                    "query": query,
                    "tags": "(story,comment)",
                    "numericFilters": f"created_at_i>{after}",
                    "hitsPerPage": HITS_PER_PAGE,
                    "page": page,
                },
                sleep=self.sleep,
            )
            data = json_body(response)
            hits = data.get("hits")
            if not isinstance(hits, list):
                raise SourceError("hn.algolia.com sent a response without a 'hits' list")
            yield from (h for h in hits if isinstance(h, dict))
            if page + 1 >= int(data.get("nbPages") or 0) or not hits:
                return


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


def _cursor_value(cursor: str | None) -> int | None:
    try:
        return int(cursor) if cursor else None
    except ValueError:
        return None
