"""X (Twitter) API v2 recent search, `/2/tweets/search/recent`, with X_BEARER_TOKEN.

One query for all terms: `(acme OR "acme corp") -is:retweet -from:acme -from:acmesupport`.
Cursor: `since_id`, keyed by the query text. Pages are walked with `next_token`, newest first,
so the next `since_id` is the FIRST page's `meta.newest_id`. There is no overlap window here:
`since_id` is exact and every post read again would be paid for again.

Reads are paid per post, so `[sources.x] max_posts_per_hour` caps them. The posts read in the
last hour are kept in the `source_state` table (a restart does not reset the count); each
page asks for no more than what is left (`max_results`, 10 to 100), and paging stops at the
cap. When the cap stops paging part-way, the older posts of that gap are not read (and not
paid for); a problem line says so. X's smallest page is 10 posts, so a cap below 10 reads up
to 10 an hour.

Rate limits: `x-rate-limit-remaining` / `x-rate-limit-reset` are honoured. At 0 remaining no
call is made until the reset time (persisted too); the poll raises RateLimited, which the
pipeline treats as waiting, not failing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx

from bot.config import SourceConfig
from bot.models import Mention, parse_time
from bot.sources.base import FetchResult, RateLimited, SourceError, json_body, new_client, request
from bot.sources.state import SourceState
from bot.text import plain

log = logging.getLogger(__name__)

NAME = "x"
POST_URL = "https://x.com/{username}/status/{id}"
MIN_RESULTS, MAX_RESULTS = 10, 100
MAX_PAGES = 10
HOUR = 3600
TWEET_FIELDS = "created_at,public_metrics,lang,author_id"
USER_FIELDS = "username,name,public_metrics"


def build_query(terms: tuple[str, ...], handles: tuple[str, ...]) -> str:
    """`(a OR "b c") -is:retweet -from:h`: multi-word terms quoted, brand handles excluded."""
    quoted = [f'"{t}"' if any(c.isspace() for c in t) else t for t in terms]
    group = " OR ".join(quoted)
    if len(quoted) > 1:
        group = f"({group})"
    parts = [group, "-is:retweet", *(f"-from:{h.lstrip('@')}" for h in handles)]
    return " ".join(parts)


class X:
    name = NAME

    def __init__(
        self,
        config: SourceConfig,
        queries: tuple[str, ...],
        *,
        token: str,
        handles: tuple[str, ...] = (),
        max_posts_per_hour: int = 200,
        client: httpx.Client | None = None,
        sleep=None,
        state: SourceState | None = None,
        wall_clock: Callable[[], float] = time.time,
    ):
        self.config = config
        self.query = build_query(queries, handles)
        self._token = token
        self.max_posts_per_hour = max_posts_per_hour
        self.client = client or new_client()
        self.sleep = sleep
        self.state = state or SourceState(NAME)
        self.wall_clock = wall_clock
        self.host = urlsplit(config.base_url).hostname or config.base_url

    def __repr__(self) -> str:
        return f"X(query={self.query!r}, max_posts_per_hour={self.max_posts_per_hour})"

    # --- the read budget ---------------------------------------------------------------------

    def reads_last_hour(self) -> int:
        """Posts read in the last hour (what `mentionops status` can show)."""
        now = self.wall_clock()
        return sum(n for at, n in self.state.get("reads", []) if now - at < HOUR)

    def _record_reads(self, count: int) -> None:
        now = self.wall_clock()
        reads = [[at, n] for at, n in self.state.get("reads", []) if now - at < HOUR]
        self.state.set("reads", [*reads, [now, count]])

    def _budget_wait(self) -> float:
        """Seconds until enough of the last hour's reads age out to allow one more page."""
        now = self.wall_clock()
        need = min(MIN_RESULTS, self.max_posts_per_hour)
        left = self.max_posts_per_hour - self.reads_last_hour()
        for at, n in sorted(r for r in self.state.get("reads", []) if now - r[0] < HOUR):
            left += n
            if left >= need:
                return max(1.0, HOUR - (now - at))
        return 60.0

    # --- fetch -------------------------------------------------------------------------------

    def fetch(self, cursors: dict[str, str], *, now: datetime) -> FetchResult:
        result = FetchResult()
        since_id = cursors.get(self.query)
        newest_id: str | None = None
        users: dict[str, dict] = {}
        tweets: list[dict] = []
        next_token = None
        for page in range(MAX_PAGES):
            budget = self.max_posts_per_hour - self.reads_last_hour()
            if budget < min(MIN_RESULTS, self.max_posts_per_hour):
                if page == 0:
                    raise RateLimited(
                        f"X read cap reached: {self.reads_last_hour()} posts read in the last "
                        f"hour ([sources.x] max_posts_per_hour = {self.max_posts_per_hour})",
                        self._budget_wait(),
                    )
                result.problems.append(
                    f"X read cap reached ({self.max_posts_per_hour} posts an hour): older "
                    "posts since the last poll were not read"
                )
                break
            params = {
                "query": self.query,
                "max_results": max(MIN_RESULTS, min(MAX_RESULTS, budget)),
                "expansions": "author_id",
                "tweet.fields": TWEET_FIELDS,
                "user.fields": USER_FIELDS,
            }
            if since_id:
                params["since_id"] = since_id
            else:
                start = now - timedelta(minutes=self.config.lookback_minutes)
                params["start_time"] = start.strftime("%Y-%m-%dT%H:%M:%SZ")
            if next_token:
                params["next_token"] = next_token
            data = self._get(params)
            page_tweets = data.get("data") or []
            meta = data.get("meta") if isinstance(data.get("meta"), dict) else {}
            if not isinstance(page_tweets, list):
                raise SourceError(f"{self.host} sent a search answer whose 'data' is not a list")
            self._record_reads(len(page_tweets))
            if page == 0:
                newest_id = meta.get("newest_id")
            for user in (data.get("includes") or {}).get("users") or []:
                if isinstance(user, dict) and user.get("id"):
                    users[str(user["id"])] = user
            tweets.extend(t for t in page_tweets if isinstance(t, dict))
            next_token = meta.get("next_token")
            if not next_token:
                break
            if self._limited():
                result.problems.append("X rate limit reached: older posts of this poll skipped")
                break
        seen: set[str] = set()
        for tweet in tweets:
            try:
                mention = transform_tweet(tweet, users)
            except (KeyError, TypeError, ValueError) as exc:
                result.problems.append(f"skipped a malformed post: {exc!r}")
                continue
            if mention.external_id not in seen:
                seen.add(mention.external_id)
                result.mentions.append(mention)
        if newest_id:
            result.cursors[self.query] = str(newest_id)
        return result

    def _get(self, params: dict) -> dict:
        reset = self.state.get("rate_reset")
        if reset and self._limited():
            wait = max(1.0, reset - self.wall_clock())
            raise RateLimited(f"X rate limit: no calls until its reset in {wait:.0f} s", wait)
        try:
            response = request(
                self.client,
                "GET",
                f"{self.config.base_url}/2/tweets/search/recent",
                params=params,
                headers={"Authorization": f"Bearer {self._token}"},
                sleep=self.sleep,
            )
        except SourceError as exc:
            if "refused the credentials" in str(exc):
                raise SourceError(
                    f"{self.host} refused X_BEARER_TOKEN ({str(exc).rsplit('(', 1)[-1]}: check "
                    "the token and that your X API plan includes recent search"
                ) from None
            raise
        self._note_rate_limit(response)
        return json_body(response)

    def _note_rate_limit(self, response: httpx.Response) -> None:
        remaining = response.headers.get("x-rate-limit-remaining")
        reset = response.headers.get("x-rate-limit-reset")
        try:
            if remaining is not None and int(remaining) <= 0 and reset:
                self.state.set("rate_reset", float(reset))
            elif self.state.get("rate_reset"):
                self.state.set("rate_reset", None)
        except ValueError:
            pass

    def _limited(self) -> bool:
        reset = self.state.get("rate_reset")
        return bool(reset) and self.wall_clock() < reset


def transform_tweet(tweet: dict, users: dict[str, dict]) -> Mention:
    """One v2 post (with its author from `includes.users`) -> Mention.

    The external id is the first of `edit_history_tweet_ids`: an edit gets a new post id on X,
    but it is still the same post for us."""
    tweet_id = str(tweet["id"])
    history = tweet.get("edit_history_tweet_ids") or [tweet_id]
    user = users.get(str(tweet.get("author_id")), {})
    username = str(user.get("username") or "i")
    metrics = tweet.get("public_metrics") or {}
    created = tweet.get("created_at")
    return Mention(
        source=NAME,
        external_id=str(history[0]),
        text=plain(tweet["text"]),
        author=str(user.get("username") or ""),
        author_name=plain(user.get("name")),
        followers=(user.get("public_metrics") or {}).get("followers_count"),
        url=POST_URL.format(username=username, id=tweet_id),
        created_at=parse_time(created) if created else None,
        metrics={
            "reposts": int(metrics.get("retweet_count") or 0),
            "likes": int(metrics.get("like_count") or 0),
            "replies": int(metrics.get("reply_count") or 0),
        },
        lang=tweet.get("lang") or None,
    )
