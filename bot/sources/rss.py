"""RSS and Atom feeds: Google Alerts, review sites, blog searches (`[sources.rss] feeds`).

Each feed is fetched with httpx (our retries and timeouts apply) as a conditional GET: the
cursor, one per feed URL, is a small JSON object with the feed's `ETag`, `Last-Modified` and
the newest entry time seen. A 304 means nothing new. The body is parsed by
`feedparser.parse(response.content)`.

An entry's external id is its `id` (else its link). Title and summary HTML become plain text.
Google Alerts links are redirects (`https://www.google.com/url?...&url=REAL`): the real URL is
kept. Entries older than the newest time seen minus OVERLAP (or, on the first poll, than
`lookback_minutes`) are skipped; UNIQUE (source, external_id) drops the rest of the repeats.

One feed failing does not fail the others: its error goes to `problems` with its URL, and the
source fails only when every feed failed.
"""

from __future__ import annotations

import calendar
import json
import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import feedparser
import httpx

from bot.config import SourceConfig
from bot.models import Mention, iso, parse_time
from bot.sources.base import FetchResult, RateLimited, SourceError, new_client, request
from bot.text import html_to_text

log = logging.getLogger(__name__)

NAME = "rss"
OVERLAP = timedelta(hours=1)


class Rss:
    name = NAME

    def __init__(
        self,
        config: SourceConfig,
        feeds: tuple[str, ...],
        *,
        client: httpx.Client | None = None,
        sleep=None,
    ):
        self.config = config
        self.feeds = feeds
        self.client = client or new_client()
        self.sleep = sleep

    def fetch(self, cursors: dict[str, str], *, now: datetime) -> FetchResult:
        result = FetchResult()
        failures: list[SourceError] = []
        seen: set[str] = set()
        for feed in self.feeds:
            try:
                mentions, cursor = self._feed(feed, _load(cursors.get(feed)), now)
            except SourceError as exc:
                failures.append(exc)
                result.problems.append(f"feed {feed} failed: {exc}")
                if not isinstance(exc, RateLimited):  # waiting is not failing
                    result.parts[feed] = str(exc)
                continue
            result.parts[feed] = None
            for mention in mentions:
                if mention.external_id not in seen:
                    seen.add(mention.external_id)
                    result.mentions.append(mention)
            if cursor is not None:
                result.cursors[feed] = cursor
        if self.feeds and len(failures) == len(self.feeds):
            if all(isinstance(f, RateLimited) for f in failures):
                raise RateLimited(
                    "every feed asked us to wait", max(f.retry_after for f in failures)
                )
            raise SourceError("every feed failed: " + "; ".join(result.problems))
        return result

    def _feed(self, url: str, cursor: dict, now: datetime) -> tuple[list[Mention], str | None]:
        headers = {}
        if cursor.get("etag"):
            headers["If-None-Match"] = cursor["etag"]
        if cursor.get("modified"):
            headers["If-Modified-Since"] = cursor["modified"]
        response = request(self.client, "GET", url, headers=headers, sleep=self.sleep)
        if response.status_code == 304:
            return [], None
        parsed = feedparser.parse(response.content)
        if parsed.bozo and not parsed.entries:
            reason = getattr(parsed, "bozo_exception", None) or "no entries"
            raise SourceError(f"not an RSS or Atom feed ({reason})")
        if cursor.get("latest"):
            oldest = parse_time(cursor["latest"]) - OVERLAP
        else:
            oldest = now - timedelta(minutes=self.config.lookback_minutes)
        latest = parse_time(cursor["latest"]) if cursor.get("latest") else None
        mentions = []
        for entry in parsed.entries:
            mention = transform_entry(entry, parsed.feed.get("language"))
            if mention is None:
                continue
            if mention.created_at is not None:
                if mention.created_at < oldest:
                    continue
                stamp = min(mention.created_at, now)
                latest = stamp if latest is None else max(latest, stamp)
            mentions.append(mention)
        new_cursor = {
            "etag": response.headers.get("ETag"),
            "modified": response.headers.get("Last-Modified"),
            "latest": iso(latest) if latest else None,
        }
        return mentions, json.dumps({k: v for k, v in new_cursor.items() if v})


def transform_entry(entry, feed_lang: str | None = None) -> Mention | None:
    """One feedparser entry -> Mention; None when it has neither id nor link."""
    link = unwrap_google(entry.get("link") or "")
    external_id = entry.get("id") or entry.get("link")
    if not external_id:
        return None
    title = html_to_text(entry.get("title"))
    summary = entry.get("summary")
    if not summary and entry.get("content"):
        summary = entry["content"][0].get("value")
    text = html_to_text(summary) or title
    when = entry.get("published_parsed") or entry.get("updated_parsed")
    author = html_to_text(entry.get("author")) or (urlsplit(link).hostname or "")
    return Mention(
        source=NAME,
        external_id=str(external_id),
        text=text,
        title="" if text == title else title,
        author=author,
        author_name=author,
        url=link,
        created_at=datetime.fromtimestamp(calendar.timegm(when), UTC) if when else None,
        lang=(entry.get("title_detail") or {}).get("language") or feed_lang or None,
    )


def unwrap_google(link: str) -> str:
    """`https://www.google.com/url?...&url=REAL` -> REAL; any other link as it is."""
    parts = urlsplit(link)
    host = parts.hostname or ""
    if (host == "google.com" or host.endswith(".google.com")) and parts.path == "/url":
        query = parse_qs(parts.query)
        for key in ("url", "q"):
            if query.get(key) and query[key][0].startswith(("http://", "https://")):
                return query[key][0]
    return link


def _load(cursor: str | None) -> dict:
    if not cursor:
        return {}
    try:
        data = json.loads(cursor)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
