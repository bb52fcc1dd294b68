"""Bluesky through `app.bsky.feed.searchPosts`, logged in with an app password.

Session: `com.atproto.server.createSession` once per process; when the access token expires
(HTTP 400 `ExpiredToken`, or 401) `com.atproto.server.refreshSession` with the refresh token;
a new login only when the refresh fails. The tokens live in memory only: DESIGN.md keeps
credentials out of the database, so a restart logs in once more. What is persisted (the
`source_state` table) is the time of each recent login, so a crash-looping process stops
before it spends Bluesky's allowance of 30 logins per 5 minutes and locks the account out.

Cursor: for each query, the newest `sortAt` (the earlier of `createdAt` and `indexedAt`, which
is what `since` and `until` filter on) seen. Each poll asks `since` a little before it
(OVERLAP_SECONDS) so posts indexed late are not missed; UNIQUE (source, external_id) drops the
repeats. Posts come newest first; `cursor` pages are followed PAGES_PER_WINDOW deep, then the
window is narrowed with `until` (just after the oldest post seen, so that millisecond is asked
for again and its repeats dropped) and paged again from the top. A poll reads at most
`max_posts` posts a query; when more are waiting the cursor keeps a backfill marker,
`{"since": S, "before": B, "newest": N}` (posts from S up to and including B are still to
read; N is the newest seen), and the next poll finishes that gap before it goes on from N.
A plain timestamp (no gap) is what older versions wrote and still what is written otherwise.
Follower counts come from `app.bsky.actor.getProfiles` (25 actors a call), cached for a day.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx

from bot.config import SourceConfig
from bot.models import Mention, parse_time
from bot.sources.base import (
    FetchResult,
    RateLimited,
    SourceError,
    backfill_cursor,
    json_body,
    new_client,
    parse_backfill_cursor,
    poll_with_backfill,
    request,
)
from bot.sources.state import SourceState
from bot.text import plain

log = logging.getLogger(__name__)

NAME = "bluesky"
POST_URL = "https://bsky.app/profile/{handle}/post/{rkey}"
OVERLAP_SECONDS = 120
PAGE_SIZE = 100
PAGES_PER_WINDOW = 10  # `cursor` pages followed before the window is narrowed with `until`
MAX_POSTS_PER_POLL = 1000  # per query; what is left is read first thing next poll
ONE_MS = timedelta(milliseconds=1)  # the precision of `since`/`until`
PROFILES_PER_CALL = 25
PROFILE_TTL = timedelta(days=1)
LOGIN_WINDOW_SECONDS = 300
LOGIN_BUDGET = 10  # of Bluesky's 30 per 5 minutes; the rest is left for the person's own apps


class Bluesky:
    name = NAME

    def __init__(
        self,
        config: SourceConfig,
        queries: tuple[str, ...],
        *,
        handle: str,
        password: str,
        client: httpx.Client | None = None,
        sleep=None,
        state: SourceState | None = None,
        wall_clock: Callable[[], float] = time.time,
        max_posts: int = MAX_POSTS_PER_POLL,
    ):
        self.config = config
        self.queries = queries
        self.handle = handle
        self._password = password
        self.client = client or new_client()
        self.sleep = sleep
        self.state = state or SourceState(NAME)
        self.wall_clock = wall_clock
        self.max_posts = max(1, max_posts)
        self.host = urlsplit(config.base_url).hostname or config.base_url
        self._access: str | None = None
        self._refresh: str | None = None
        self._followers: dict[str, tuple[int, datetime]] = {}

    def __repr__(self) -> str:  # never show the tokens
        return f"Bluesky(handle={self.handle!r}, logged_in={self._access is not None})"

    # --- fetch -----------------------------------------------------------------------------

    def fetch(self, cursors: dict[str, str], *, now: datetime) -> FetchResult:
        result = FetchResult()
        posts: dict[str, dict] = {}
        for query in self.queries:
            since, before, newest = _cursor(cursors.get(query))
            since = since or now - timedelta(minutes=self.config.lookback_minutes)
            result.cursors[query] = poll_with_backfill(
                since=since,
                before=before,
                newest=max(since, newest or since),
                budget=self.max_posts,
                overlap=timedelta(seconds=OVERLAP_SECONDS),
                window=lambda after, upto, budget, q=query: self._window(
                    q, after, upto, budget, result
                ),
                keep=lambda found, newest: _keep(found, newest, now, posts, result),
                stamp=_stamp,
                gap=_gap,
            )
        followers = self._follower_counts(
            {p["author"]["did"] for p in posts.values() if isinstance(p.get("author"), dict)},
            now,
            result.problems,
        )
        for post in posts.values():
            try:
                result.mentions.append(transform_post(post, followers))
            except (KeyError, TypeError, ValueError) as exc:
                result.problems.append(f"skipped a malformed post: {exc!r}")
        return result

    def _window(
        self,
        query: str,
        since: datetime,
        upto: datetime | None,
        budget: int,
        result: FetchResult,
    ) -> tuple[list[dict], datetime | None]:
        """Posts with since <= sortAt <= upto (no upper bound when None), newest first, each
        once, until about `budget` are read. Returns (posts, left): `left` is None when the
        window was read to its end, else the moment (inclusive) where what is left ends."""
        found: list[dict] = []
        uris: set[str] = set()
        page_cursor = None
        pages = 0
        while True:
            params = {"q": query, "sort": "latest", "since": _stamp(since), "limit": PAGE_SIZE}
            if upto is not None:
                params["until"] = _stamp(_floor_ms(upto) + ONE_MS)  # `until` is exclusive
            if page_cursor:
                params["cursor"] = page_cursor
            data = self._xrpc("GET", "app.bsky.feed.searchPosts", params=params)
            page = data.get("posts")
            if not isinstance(page, list):
                raise SourceError(f"{self.host} sent a searchPosts answer without a 'posts' list")
            times = []
            for post in page:
                if not isinstance(post, dict):
                    continue
                uri = str(post.get("uri"))
                if uri not in uris:
                    uris.add(uri)
                    found.append(post)
                try:
                    times.append(_floor_ms(sort_at(post)))
                except (KeyError, TypeError, ValueError):
                    pass
            page_cursor = data.get("cursor")
            if not page or not page_cursor:
                return found, None  # the window's last page
            if not times:
                raise SourceError(f"{self.host} sent a page of posts without times")
            oldest = min(times)
            pages += 1
            progressed = upto is None or oldest < _floor_ms(upto)
            if len(found) >= budget and progressed:
                return found, oldest  # (a millisecond being paged through is finished first)
            if pages < PAGES_PER_WINDOW:
                continue
            if progressed:
                upto = oldest
            else:
                result.problems.append(
                    f"more than {PAGES_PER_WINDOW * PAGE_SIZE} posts at {_stamp(oldest)} for "
                    f"{query!r}: some of them were skipped"
                )
                upto = _floor_ms(upto) - ONE_MS
            page_cursor, pages = None, 0

    def _follower_counts(self, dids: set[str], now: datetime, problems: list[str]):
        wanted = sorted(
            d for d in dids if d not in self._followers or now - self._followers[d][1] > PROFILE_TTL
        )
        for start in range(0, len(wanted), PROFILES_PER_CALL):
            batch = wanted[start : start + PROFILES_PER_CALL]
            try:
                data = self._xrpc("GET", "app.bsky.actor.getProfiles", params={"actors": batch})
            except RateLimited:
                raise
            except SourceError as exc:  # follower counts are nice to have, never the gate
                problems.append(f"follower counts unavailable: {exc}")
                break
            for profile in data.get("profiles") or []:
                if isinstance(profile, dict) and profile.get("did"):
                    count = int(profile.get("followersCount") or 0)
                    self._followers[profile["did"]] = (count, now)
        return {did: count for did, (count, _) in self._followers.items()}

    # --- session ---------------------------------------------------------------------------

    def _xrpc(self, method: str, nsid: str, **kwargs) -> dict:
        if self._access is None:
            self._login()
        response = self._send(method, nsid, self._access, **kwargs)
        if _expired(response):
            self._renew()
            response = self._send(method, nsid, self._access, **kwargs)
        if response.status_code >= 400:
            raise SourceError(f"{self.host} refused {nsid}: {_describe(response)}")
        return json_body(response)

    def _send(self, method: str, nsid: str, token: str | None, **kwargs) -> httpx.Response:
        return request(
            self.client,
            method,
            f"{self.config.base_url}/xrpc/{nsid}",
            headers={"Authorization": f"Bearer {token}"},
            sleep=self.sleep,
            accept=(400, 401),
            **kwargs,
        )

    def _renew(self) -> None:
        """Refresh the session; log in again only when the refresh is refused."""
        if self._refresh:
            response = self._send("POST", "com.atproto.server.refreshSession", self._refresh)
            if response.status_code < 400:
                self._keep(json_body(response))
                log.info("bluesky: session refreshed")
                return
            log.info("bluesky: refresh refused (%s); logging in again", _describe(response))
        self._access = self._refresh = None
        self._login()

    def _login(self) -> None:
        now = self.wall_clock()
        recent = [t for t in self.state.get("logins", []) if now - t < LOGIN_WINDOW_SECONDS]
        if len(recent) >= LOGIN_BUDGET:
            wait = LOGIN_WINDOW_SECONDS - (now - min(recent))
            raise RateLimited(
                f"{len(recent)} Bluesky logins in the last 5 minutes: waiting {wait:.0f} s "
                "before the next, so the account is not locked out",
                wait,
            )
        self.state.set("logins", [*recent, now])
        response = request(
            self.client,
            "POST",
            f"{self.config.base_url}/xrpc/com.atproto.server.createSession",
            json={"identifier": self.handle, "password": self._password},
            sleep=self.sleep,
            accept=(400, 401),
        )
        if response.status_code >= 400:
            raise SourceError(
                f"{self.host} refused the app password ({_describe(response)}): "
                "check BLUESKY_HANDLE and BLUESKY_APP_PASSWORD"
            )
        self._keep(json_body(response))
        log.info("bluesky: logged in as %s", self.handle)

    def _keep(self, session: dict) -> None:
        access, refresh = session.get("accessJwt"), session.get("refreshJwt")
        if not isinstance(access, str) or not isinstance(refresh, str):
            raise SourceError(f"{self.host} sent a session without accessJwt/refreshJwt")
        self._access, self._refresh = access, refresh


def transform_post(post: dict, followers: dict[str, int] | None = None) -> Mention:
    """One searchPosts post view -> Mention."""
    uri = str(post["uri"])
    author = post["author"]
    record = post["record"]
    handle = str(author["handle"])
    langs = record.get("langs") or []
    return Mention(
        source=NAME,
        external_id=uri,
        text=plain(record.get("text")),
        author=handle,
        author_name=plain(author.get("displayName")) or handle,
        followers=(followers or {}).get(author.get("did")),
        url=POST_URL.format(handle=handle, rkey=uri.rsplit("/", 1)[-1]),
        created_at=parse_time(record["createdAt"]),
        metrics={
            "reposts": int(post.get("repostCount") or 0),
            "likes": int(post.get("likeCount") or 0),
            "replies": int(post.get("replyCount") or 0),
        },
        lang=str(langs[0]) if langs else None,
    )


def sort_at(post: dict) -> datetime:
    created = parse_time(post["record"]["createdAt"])
    indexed = post.get("indexedAt")
    return min(created, parse_time(indexed)) if indexed else created


def _expired(response: httpx.Response) -> bool:
    if response.status_code == 401:
        return True
    return response.status_code == 400 and _error_name(response) in ("ExpiredToken", "InvalidToken")


def _error_name(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return ""
    return str(data.get("error") or "") if isinstance(data, dict) else ""


def _describe(response: httpx.Response) -> str:
    name = _error_name(response)
    return f"{response.status_code} {name}".strip() if name else f"HTTP {response.status_code}"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


def _keep(
    found: list[dict], newest: datetime, now: datetime, posts: dict[str, dict], result
) -> datetime:
    for post in found:
        try:
            moment = sort_at(post)
            posts.setdefault(str(post["uri"]), post)
        except (KeyError, TypeError, ValueError) as exc:
            result.problems.append(f"skipped a malformed post: {exc!r}")
            continue
        newest = max(newest, min(moment, now))
    return newest


def _gap(since: datetime, before: datetime, newest: datetime) -> str:
    return backfill_cursor(_stamp(since), _stamp(before), _stamp(newest))


def _floor_ms(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _cursor(cursor: str | None) -> tuple[datetime | None, datetime | None, datetime | None]:
    """(since, before, newest) from a plain timestamp or a backfill marker; Nones for a
    missing or unreadable cursor (the poll then looks back `lookback_minutes`)."""
    since, before, newest = parse_backfill_cursor(cursor)
    try:
        return tuple(
            parse_time(v) if isinstance(v, str) and v else None for v in (since, before, newest)
        )
    except ValueError:
        return None, None, None
