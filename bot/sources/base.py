"""The one protocol every platform module follows, and the HTTP habits they share.

A source turns (cursors) into (mentions, new cursors). It does no storing and no scoring:
the pipeline stores the mentions and moves the cursors in one transaction, so a cursor never
passes a mention that was not saved.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Protocol
from urllib.parse import urlsplit

import httpx
import tenacity

from bot import __version__
from bot.models import Mention, utcnow

log = logging.getLogger(__name__)

USER_AGENT = f"mentionops/{__version__} (self-hosted; +https://github.com/mentionops/mentionops)"
TIMEOUT = httpx.Timeout(20.0, connect=5.0)
MAX_ATTEMPTS = 4
MAX_RETRY_AFTER = 120.0  # seconds one request may wait in all; longer waits skip the poll


class SourceError(Exception):
    """A poll failed. The message is written for the person who must fix it."""


class RateLimited(SourceError):
    """The platform asked us to wait longer than one poll should: not a failure."""

    def __init__(self, message: str, retry_after: float):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class FetchResult:
    mentions: list[Mention] = field(default_factory=list)
    cursors: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # skipped items, with why
    # Sub-feeds that keep their own health (one RSS feed among several): URL -> error or None.
    parts: dict[str, str | None] = field(default_factory=dict)


class Source(Protocol):
    name: str

    def fetch(self, cursors: dict[str, str], *, now: datetime) -> FetchResult:
        """Everything new since `cursors` (one per query); never raises for one bad item."""
        ...


def backfill_cursor(since, before, newest) -> str:
    """A cursor that also marks a gap still to read: posts after `since` up to and including
    `before` were left for the next poll (a poll's cap was reached), `newest` is where to go on
    from once the gap is read. Values are the platform's own (epoch seconds, timestamps)."""
    return json.dumps({"since": since, "before": before, "newest": newest}, sort_keys=True)


def poll_with_backfill(
    *,
    since,
    before,
    newest,
    budget: int,
    overlap,
    window: Callable,
    keep: Callable,
    stamp: Callable,
    gap: Callable,
) -> str:
    """One query's poll when a cursor may hold a gap: finish the gap an earlier poll left
    first, then go on from the newest post seen, never reading more than `budget` posts.

    `window(after, before, budget)` reads posts after `after` (up to `before`, or up to now
    when None) and returns (posts, oldest_left or None); `keep(posts, newest)` stores them and
    returns the new newest; `stamp(newest)` and `gap(since, before, newest)` build cursors.
    Returns the query's new cursor."""
    if before is not None:
        found, left = window(since - overlap, before, budget)
        newest = keep(found, newest)
        if left is not None:
            return gap(since, left, newest)
        since = newest  # the gap is closed: go on from the newest seen
        budget -= len(found)
        if budget <= 0:
            return stamp(newest)
    found, left = window(since - overlap, None, budget)
    newest = keep(found, newest)
    return stamp(newest) if left is None else gap(since, left, newest)


def parse_backfill_cursor(cursor: str | None) -> tuple:
    """(since, before, newest) of a `backfill_cursor`, or (cursor, None, None) for a plain one
    (what older versions wrote, and what is written when no gap is left)."""
    if not cursor:
        return None, None, None
    if cursor.lstrip().startswith("{"):
        try:
            data = json.loads(cursor)
        except ValueError:
            return None, None, None
        if isinstance(data, dict) and data.get("since") is not None:
            return data["since"], data.get("before"), data.get("newest")
        return None, None, None
    return cursor, None, None


def new_client() -> httpx.Client:
    return httpx.Client(timeout=TIMEOUT, headers={"User-Agent": USER_AGENT}, follow_redirects=True)


class RetryableStatus(Exception):
    def __init__(self, response: httpx.Response):
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


def retry_after_seconds(
    response: httpx.Response, now: Callable[[], datetime] = utcnow
) -> float | None:
    """Seconds from a Retry-After header (delta seconds or an HTTP date), if there is one."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - now()).total_seconds())
    except (TypeError, ValueError):
        return None


def _wait(state: tenacity.RetryCallState) -> float:
    """Retry-After when the platform gives one; else exponential backoff with full jitter.

    The waits of one request add up to MAX_RETRY_AFTER at most: a platform that keeps asking
    for 100 s is rate limiting us, and the worker goes back to the scheduler."""
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, RetryableStatus):
        after = retry_after_seconds(exc.response)
        if after is not None:
            if after + (state.idle_for or 0.0) > MAX_RETRY_AFTER:
                more = " more" if state.idle_for else ""
                raise RateLimited(
                    f"rate limited by {urlsplit(str(exc.response.url)).hostname}: "
                    f"asked to wait {after:.0f} s{more}",
                    after,
                )
            return after
    return random.uniform(0, min(30.0, 0.5 * 2 ** (state.attempt_number - 1)))


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, httpx.LocalProtocolError):
        return False  # our own request is malformed: asking again cannot help
    return isinstance(exc, RetryableStatus | httpx.TransportError)


def request(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    sleep: Callable[[float], None] | None = None,
    attempts: int = MAX_ATTEMPTS,
    accept: tuple[int, ...] = (),
    **kwargs,
) -> httpx.Response:
    """One HTTP call with retries on 429, 5xx and network errors (Retry-After honoured).

    Returns a 2xx response (or one whose status is in `accept`, e.g. a 401 the caller answers
    by refreshing a token); raises SourceError (or RateLimited) with a readable message.
    """
    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception(_retryable),
        wait=_wait,
        stop=tenacity.stop_after_attempt(attempts),
        sleep=sleep or tenacity.nap.sleep,
        reraise=True,
    )
    host = urlsplit(url).hostname or url
    try:
        for attempt in retrying:
            with attempt:
                response = client.request(method, url, **kwargs)
                if response.status_code == 429 or response.status_code >= 500:
                    raise RetryableStatus(response)
    except RetryableStatus as exc:
        status = exc.response.status_code
        if status == 429:
            after = retry_after_seconds(exc.response) or 60.0
            raise RateLimited(f"rate limited by {host} (HTTP 429)", after) from None
        raise SourceError(f"{host} answered HTTP {status} {attempts} times in a row") from None
    except httpx.TimeoutException:
        raise SourceError(f"{host} did not answer in time ({attempts} tries)") from None
    except httpx.LocalProtocolError:
        # Its message quotes the refused header, and that header may carry a token.
        raise SourceError(
            f"could not send a request to {host}: a header value is not valid HTTP (look for "
            "a stray space or line break in the credentials' environment variables)"
        ) from None
    except httpx.TransportError as exc:
        raise SourceError(f"cannot reach {host}: {exc}") from None
    if response.status_code in accept:
        return response
    if response.status_code in (401, 403):
        raise SourceError(f"{host} refused the credentials (HTTP {response.status_code})")
    if response.status_code >= 400:
        raise SourceError(f"{host} answered HTTP {response.status_code}: {_snippet(response)}")
    return response


def json_value(response: httpx.Response):
    """The response's JSON, or a SourceError that says the body was not JSON."""
    try:
        return response.json()
    except ValueError:
        host = urlsplit(str(response.url)).hostname
        raise SourceError(f"{host} sent a body that is not JSON: {_snippet(response)}") from None


def json_body(response: httpx.Response) -> dict:
    """The response's JSON object, or a SourceError that says the body was not one."""
    data = json_value(response)
    if not isinstance(data, dict):
        raise SourceError(f"{urlsplit(str(response.url)).hostname} sent JSON that is not an object")
    return data


def _snippet(response: httpx.Response) -> str:
    text = " ".join(response.text[:200].split())
    return repr(text) if text else "(empty body)"
