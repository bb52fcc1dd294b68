"""The Slack Web API client, built one way for the whole bot."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.config import Settings

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
