"""The Slack Web API client, built one way for the whole bot, and links to alert messages."""

from __future__ import annotations

import logging
import re
import threading
import time

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.config import Settings

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"


def make_client(settings: Settings, *, token: str | None = None, timeout: int = 15) -> WebClient:
    """A WebClient on SLACK_API_URL that waits out 429s (Retry-After) and retries 5xx.

    Without these handlers slack_sdk gives up on the first 429, and an alert would be lost.
    """
    return WebClient(
        token=token or settings.secrets.get("SLACK_BOT_TOKEN"),
        base_url=settings.slack_api_url or DEFAULT_API_URL,
        timeout=timeout,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=5),
            ServerErrorRetryHandler(max_retry_count=3),
        ],
    )


# --- links to alert messages -------------------------------------------------------------------

_WORKSPACE_TTL = 3600.0  # seconds: a renamed workspace's links are right within the hour
_workspaces: dict[tuple[str, str], tuple[str, float]] = {}
_workspaces_lock = threading.Lock()
_URL = re.compile(r"^https://[A-Za-z0-9.-]+/$")


def _workspace_key(client) -> tuple[str, str] | None:
    # Bolt builds a WebClient per request: remember the answer per API URL and token.
    base, token = getattr(client, "base_url", None), getattr(client, "token", None)
    if isinstance(base, str) and isinstance(token, str) and token:
        return base, token
    return None


def workspace_url(client) -> str | None:
    """The workspace's address (`https://acme.slack.com/`) from auth.test, asked once an hour
    per workspace; None when auth.test fails (asked again next time)."""
    key = _workspace_key(client)
    with _workspaces_lock:
        known = _workspaces.get(key) if key else None
    if known and time.monotonic() - known[1] < _WORKSPACE_TTL:
        return known[0]
    try:
        url = client.auth_test().get("url")
    except Exception as exc:  # noqa: BLE001 - links fall back to chat.getPermalink
        log.info("auth.test failed (%s); asking Slack for each alert's link instead", exc)
        return None
    url = url if not isinstance(url, str) or url.endswith("/") else url + "/"
    if not isinstance(url, str) or not _URL.match(url):
        log.info("auth.test gave no usable workspace URL (%r)", url)
        return None
    if key:
        with _workspaces_lock:
            _workspaces[key] = (url, time.monotonic())
    return url


def _linkable(m: dict | None) -> bool:
    return bool(m and m.get("ts") and m.get("channel") not in (None, "", "terminal"))


def permalinks(client, rows: list[dict]) -> dict[int, str]:
    """Links to the alert messages of `rows`, by mention id. Built from the workspace URL
    (one auth.test per client, no call per alert): `<workspace>archives/<channel>/p<ts without
    the dot>`, the form chat.getPermalink answers for a top-level message. When auth.test
    fails, each link is asked of chat.getPermalink; a failed lookup just drops that link."""
    wanted = [m for m in rows if _linkable(m)]
    if not wanted:
        return {}
    base = workspace_url(client)
    links = {}
    for m in wanted:
        if base:
            links[m["id"]] = f"{base}archives/{m['channel']}/p{m['ts'].replace('.', '')}"
            continue
        try:
            links[m["id"]] = client.chat_getPermalink(channel=m["channel"], message_ts=m["ts"])[
                "permalink"
            ]
        except Exception as exc:  # noqa: BLE001 - a missing link is not worth failing a page
            log.info("No permalink for mention %s: %s", m["id"], exc)
    return links


def permalink(client, m: dict | None) -> str | None:
    """The link to one mention's alert message, or None (see `permalinks`)."""
    return permalinks(client, [m]).get(m["id"]) if _linkable(m) else None
