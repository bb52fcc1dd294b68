"""Mastodon: public hashtag timelines, plus status search when MASTODON_ACCESS_TOKEN is set.

- `GET /api/v1/timelines/tag/:tag` for each `[sources.mastodon] hashtags` entry (public; the
  token is sent as a Bearer when set). Cursor key `#tag`.
- `GET /api/v2/search?type=statuses&q=term` for each query, only with a token (Mastodon
  answers anonymous status searches with nothing). Cursor key `search:term`.

Cursor: the newest status id seen (`min_id`). With a cursor, pages are walked oldest to newest
by following the `Link: rel="prev"` header (search pages by `offset`), at most MAX_PAGES (25
pages of 40) a poll; what is left comes next poll. Mastodon's ids are time-based
(milliseconds << 16), and a status that federates in late gets an id from its own post time,
so `min_id` is moved back by OVERLAP_SECONDS; ids that are not Mastodon's (other server
software) are used as they are.
The first poll reads the newest pages and keeps what is within `lookback_minutes`.

A reblog is replaced by the status it reblogs, so one post is one mention.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlsplit

import httpx

from bot.config import SourceConfig
from bot.models import Mention, parse_time
from bot.sources.base import FetchResult, SourceError, json_value, new_client, request
from bot.text import html_to_text, plain

NAME = "mastodon"
PAGE_SIZE = 40
MAX_PAGES = 25  # 1,000 statuses a poll; Mastodon allows 300 calls per 5 minutes
OVERLAP_SECONDS = 120
_SNOWFLAKE_MIN = 1 << 56  # a Mastodon id from after 2016 is at least this


class Mastodon:
    name = NAME

    def __init__(
        self,
        config: SourceConfig,
        queries: tuple[str, ...],
        *,
        hashtags: tuple[str, ...] = (),
        token: str | None = None,
        client: httpx.Client | None = None,
        sleep=None,
    ):
        self.config = config
        self.queries = queries if token else ()
        self.hashtags = tuple(h.lstrip("#") for h in hashtags)
        self._token = token
        self.client = client or new_client()
        self.sleep = sleep
        self.host = urlsplit(config.base_url).hostname or config.base_url

    def __repr__(self) -> str:
        return f"Mastodon(hashtags={self.hashtags!r}, search={bool(self._token)})"

    def fetch(self, cursors: dict[str, str], *, now: datetime) -> FetchResult:
        result = FetchResult()
        seen: set[str] = set()
        oldest = now - timedelta(minutes=self.config.lookback_minutes)
        feeds = [(f"#{tag}", self._tag_pages, tag) for tag in self.hashtags]
        feeds += [(f"search:{q}", self._search_pages, q) for q in self.queries]
        for key, pages, what in feeds:
            cursor = cursors.get(key)
            newest = cursor
            for statuses in pages(what, _overlap(cursor), oldest):
                for status in statuses:
                    if not isinstance(status, dict) or "id" not in status:
                        result.problems.append(f"{key}: skipped a status without an id")
                        continue
                    newest = _max_id(newest, str(status["id"]))
                    post = status.get("reblog") or status
                    try:
                        mention = transform_status(post)
                    except (KeyError, TypeError, ValueError) as exc:
                        result.problems.append(f"{key}: skipped a malformed status: {exc!r}")
                        continue
                    if cursor is None and mention.created_at and mention.created_at < oldest:
                        continue
                    if mention.external_id not in seen:
                        seen.add(mention.external_id)
                        result.mentions.append(mention)
            if newest is not None:
                result.cursors[key] = newest
        return result

    # --- pages -----------------------------------------------------------------------------

    def _tag_pages(self, tag: str, min_id: str | None, oldest: datetime):
        """Lists of statuses. With min_id: oldest page first, then rel="prev" (newer).
        Without: newest page first, then rel="next" (older) until past `oldest`."""
        url = f"{self.config.base_url}/api/v1/timelines/tag/{quote(tag, safe='')}"
        params: dict | None = {"limit": PAGE_SIZE}
        if min_id:
            params["min_id"] = min_id
        for _ in range(MAX_PAGES):
            response = self._get(url, params)
            statuses = _statuses(response, self.host)
            yield statuses
            link = response.links.get("prev" if min_id else "next")
            if not statuses or not link or not link.get("url"):
                return
            if not min_id and _created(statuses[-1]) < oldest:
                return
            url, params = _same_server(link["url"], self.config.base_url), None

    def _search_pages(self, query: str, min_id: str | None, oldest: datetime):
        url = f"{self.config.base_url}/api/v2/search"
        for page in range(MAX_PAGES):
            params = {"q": query, "type": "statuses", "limit": PAGE_SIZE, "resolve": "false"}
            if min_id:
                params["min_id"] = min_id
            if page:
                params["offset"] = page * PAGE_SIZE
            response = self._get(url, params)
            data = json_value(response)
            statuses = data.get("statuses") if isinstance(data, dict) else None
            if not isinstance(statuses, list):
                raise SourceError(f"{self.host} sent a search answer without a 'statuses' list")
            yield statuses
            if len(statuses) < PAGE_SIZE:
                return
            if not min_id:
                return  # first poll: the newest page is the lookback

    def _get(self, url: str, params: dict | None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        try:
            return request(
                self.client, "GET", url, params=params, headers=headers, sleep=self.sleep
            )
        except SourceError as exc:
            if "refused the credentials" in str(exc):
                raise SourceError(
                    f"{self.host} refused MASTODON_ACCESS_TOKEN: check the token and that it "
                    "belongs to an account on [sources.mastodon] base_url"
                ) from None
            raise


def transform_status(status: dict) -> Mention:
    """One Mastodon status (not a reblog wrapper) -> Mention with plain text."""
    account = status["account"]
    acct = str(account["acct"])
    spoiler = plain(status.get("spoiler_text"))
    return Mention(
        source=NAME,
        external_id=str(status.get("uri") or status["id"]),
        text=html_to_text(status.get("content")),
        title=spoiler,
        author=acct,
        author_name=plain(account.get("display_name")) or str(account.get("username") or acct),
        followers=_int(account.get("followers_count")),
        url=str(status.get("url") or status.get("uri") or ""),
        created_at=parse_time(status["created_at"]),
        metrics={
            "reposts": _int(status.get("reblogs_count")) or 0,
            "likes": _int(status.get("favourites_count")) or 0,
            "replies": _int(status.get("replies_count")) or 0,
        },
        lang=status.get("language") or None,
    )


def _statuses(response: httpx.Response, host: str) -> list:
    data = json_value(response)
    if not isinstance(data, list):
        raise SourceError(f"{host} sent a timeline that is not a list of statuses")
    return data


def _created(status) -> datetime:
    try:
        return parse_time(status["created_at"])
    except (KeyError, TypeError, ValueError):
        return datetime.max.replace(tzinfo=UTC)


def _same_server(link: str, base_url: str) -> str:
    """Follow a Link header only to the configured server (scheme, host and port from it)."""
    parts, base = urlsplit(link), urlsplit(base_url)
    return parts._replace(scheme=base.scheme, netloc=base.netloc).geturl()


def _overlap(cursor: str | None) -> str | None:
    if cursor and cursor.isdigit() and int(cursor) >= _SNOWFLAKE_MIN:
        return str(int(cursor) - ((OVERLAP_SECONDS * 1000) << 16))
    return cursor


def _max_id(a: str | None, b: str) -> str:
    if a is None:
        return b
    return max(a, b, key=lambda i: (len(i), i) if i.isdigit() else (0, i))


def _int(value) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
