"""Reddit search with an app-only OAuth token (REDDIT_CLIENT_ID / REDDIT_CLIENT_SECRET).

Token: `POST token_url` with HTTP basic auth and `grant_type=client_credentials`; kept in
memory until a minute before it expires, and fetched again when the API answers 401.

Search: `GET {base_url}/search?q=...&sort=new&type=link&limit=100`, or per subreddit
`/r/{sub}/search?restrict_sr=1&...` when `[sources.reddit] subreddits` is set. Cursor, per
(subreddit, query): `<fullname>@<created_utc>` of the newest post seen. A poll asks for
`before=<fullname>` (Reddit's "newer than this") and walks the listing's own `before` up to
MAX_PAGES. Fullnames are not strictly time-ordered, so posts created before the cursor's time
minus OVERLAP_SECONDS are dropped too; and since Reddit answers `before=` with an empty page
when that post was removed, an empty answer is checked once against the newest page.

User-Agent: `python:mentionops:<version> (self-hosted)` unless `[sources.reddit] user_agent`.
`X-Ratelimit-Remaining` / `X-Ratelimit-Reset` are honoured: at 0 no call is made until the
reset (RateLimited, not a failure).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlsplit

import httpx

from bot import __version__
from bot.config import SourceConfig
from bot.models import Mention
from bot.sources.base import FetchResult, RateLimited, SourceError, json_body, new_client, request
from bot.text import plain

log = logging.getLogger(__name__)

NAME = "reddit"
USER_AGENT = f"python:mentionops:{__version__} (self-hosted)"
PERMALINK = "https://www.reddit.com{}"
PAGE_SIZE = 100
MAX_PAGES = 10
OVERLAP_SECONDS = 300


class Reddit:
    name = NAME

    def __init__(
        self,
        config: SourceConfig,
        queries: tuple[str, ...],
        *,
        client_id: str,
        client_secret: str,
        subreddits: tuple[str, ...] = (),
        token_url: str = "https://www.reddit.com/api/v1/access_token",
        user_agent: str | None = None,
        client: httpx.Client | None = None,
        sleep=None,
        wall_clock: Callable[[], float] = time.time,
    ):
        self.config = config
        self.queries = queries
        self.subreddits = tuple(s.removeprefix("r/").strip("/") for s in subreddits)
        self.token_url = token_url
        self.user_agent = user_agent or USER_AGENT
        self._auth = (client_id, client_secret)
        self.client = client or new_client()
        self.sleep = sleep
        self.wall_clock = wall_clock
        self.host = urlsplit(config.base_url).hostname or config.base_url
        self._token: str | None = None
        self._token_expires = 0.0
        self._wait_until = 0.0

    def __repr__(self) -> str:
        return f"Reddit(subreddits={self.subreddits!r}, user_agent={self.user_agent!r})"

    # --- fetch -----------------------------------------------------------------------------

    def fetch(self, cursors: dict[str, str], *, now: datetime) -> FetchResult:
        result = FetchResult()
        seen: set[str] = set()
        for sub in self.subreddits or (None,):
            for query in self.queries:
                key = f"r/{sub}:{query}" if sub else query
                cursor = _parse_cursor(cursors.get(key))
                if cursor:
                    oldest = cursor[1] - OVERLAP_SECONDS
                else:
                    oldest = (now - timedelta(minutes=self.config.lookback_minutes)).timestamp()
                newest = cursor
                for post in self._posts(sub, query, cursor, oldest):
                    try:
                        created = float(post["created_utc"])
                        fullname = str(post["name"])
                        mention = transform_post(post)
                    except (KeyError, TypeError, ValueError) as exc:
                        result.problems.append(f"skipped a malformed post: {exc!r}")
                        continue
                    if created < oldest:
                        continue
                    if newest is None or created >= newest[1]:
                        newest = (fullname, created)
                    if mention.external_id not in seen:
                        seen.add(mention.external_id)
                        result.mentions.append(mention)
                if newest is not None:
                    result.cursors[key] = f"{newest[0]}@{newest[1]:.0f}"
        return result

    def _posts(self, sub: str | None, query: str, cursor, oldest: float):
        path = f"/r/{quote(sub, safe='')}/search" if sub else "/search"
        params = {"q": query, "sort": "new", "type": "link", "limit": PAGE_SIZE, "raw_json": 1}
        if sub:
            params["restrict_sr"] = 1
        if cursor:
            before = cursor[0]
            for page in range(MAX_PAGES):
                listing = self._listing(path, {**params, "before": before})
                yield from listing["children"]
                before = listing.get("before")
                if page == 0 and not listing["children"]:
                    # Nothing newer, or the cursor's post was removed: check the newest page.
                    yield from self._listing(path, params)["children"]
                    return
                if not before:
                    return
        else:
            after = None
            for _ in range(MAX_PAGES):
                listing = self._listing(path, {**params, **({"after": after} if after else {})})
                children = listing["children"]
                yield from children
                after = listing.get("after")
                if not after or not children or _created(children[-1]) < oldest:
                    return

    def _listing(self, path: str, params: dict) -> dict:
        data = json_body(self._get(path, params))
        listing = data.get("data") if data.get("kind") == "Listing" else None
        if not isinstance(listing, dict) or not isinstance(listing.get("children"), list):
            raise SourceError(f"{self.host} sent a search answer that is not a Listing")
        children = [
            c["data"]
            for c in listing["children"]
            if isinstance(c, dict) and c.get("kind") == "t3" and isinstance(c.get("data"), dict)
        ]
        return {
            "children": children,
            "before": listing.get("before"),
            "after": listing.get("after"),
        }

    # --- HTTP ------------------------------------------------------------------------------

    def _get(self, path: str, params: dict) -> httpx.Response:
        for attempt in range(2):
            now = self.wall_clock()
            if now < self._wait_until:
                wait = self._wait_until - now
                raise RateLimited(f"Reddit rate limit: waiting {wait:.0f} s for its reset", wait)
            token = self._access_token()
            response = request(
                self.client,
                "GET",
                f"{self.config.base_url}{path}",
                params=params,
                headers={"Authorization": f"bearer {token}", "User-Agent": self.user_agent},
                sleep=self.sleep,
                accept=(401,),
            )
            self._note_rate_limit(response)
            if response.status_code != 401:
                return response
            self._token = None  # expired or revoked: get a new one, once
            if attempt:
                break
        raise SourceError(
            f"{self.host} refused a fresh token (HTTP 401): check REDDIT_CLIENT_ID and "
            "REDDIT_CLIENT_SECRET"
        )

    def _access_token(self) -> str:
        if self._token and self.wall_clock() < self._token_expires:
            return self._token
        response = request(
            self.client,
            "POST",
            self.token_url,
            auth=self._auth,
            data={"grant_type": "client_credentials"},
            headers={"User-Agent": self.user_agent},
            sleep=self.sleep,
            accept=(400, 401, 403),
        )
        data = {} if response.status_code >= 400 else json_body(response)
        token = data.get("access_token")
        if response.status_code >= 400 or not isinstance(token, str):
            why = data.get("error") or f"HTTP {response.status_code}"
            raise SourceError(
                f"{urlsplit(self.token_url).hostname} refused the app credentials ({why}): "
                "check REDDIT_CLIENT_ID and REDDIT_CLIENT_SECRET (a 'script' or 'web' app)"
            )
        expires_in = float(data.get("expires_in") or 3600)
        self._token = token
        self._token_expires = self.wall_clock() + max(0.0, expires_in - 60)
        return token

    def _note_rate_limit(self, response: httpx.Response) -> None:
        try:
            remaining = float(response.headers.get("x-ratelimit-remaining", "nan"))
            reset = float(response.headers.get("x-ratelimit-reset", "0"))
        except ValueError:
            return
        if remaining < 1:
            self._wait_until = self.wall_clock() + reset


def transform_post(post: dict) -> Mention:
    """One search result (a t3 listing child's `data`) -> Mention."""
    title = plain(post.get("title"))
    text = plain(post.get("selftext")) or title
    author = str(post.get("author") or "")
    return Mention(
        source=NAME,
        external_id=str(post["name"]),
        text=text,
        title="" if text == title else title,
        author=author,
        author_name=author,
        followers=None,
        url=PERMALINK.format(post["permalink"]),
        created_at=datetime.fromtimestamp(float(post["created_utc"]), UTC),
        metrics={
            "likes": int(post.get("score") or 0),
            "replies": int(post.get("num_comments") or 0),
        },
    )


def _created(post: dict) -> float:
    try:
        return float(post["created_utc"])
    except (KeyError, TypeError, ValueError):
        return float("inf")


def _parse_cursor(cursor: str | None) -> tuple[str, float] | None:
    if not cursor or "@" not in cursor:
        return None
    fullname, _, created = cursor.partition("@")
    try:
        return fullname, float(created)
    except ValueError:
        return None
