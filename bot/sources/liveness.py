"""Is the customer's post still there? Asked when an agent opens Draft reply, so a card for a
deleted post says so instead of inviting a reply to nothing.

Answers True, False, or None when the platform can't tell quickly (then nothing changes).
Only platforms with a cheap public lookup are asked; the rest answer None.
"""

from __future__ import annotations

import logging

import httpx

from bot.config import Settings
from bot.sources.base import USER_AGENT

log = logging.getLogger(__name__)

TIMEOUT = httpx.Timeout(2.0, connect=1.0)


def still_there(settings: Settings, mention: dict) -> bool | None:
    if mention["source"] == "hackernews":
        config = settings.sources.get("hackernews")
        base = config.base_url if config else "https://hn.algolia.com/api/v1"
        return _hackernews(base, mention["external_id"])
    return None


def _hackernews(base_url: str, item_id: str) -> bool | None:
    """Algolia's items endpoint: 404 once HN has deleted the item (or never had it); a
    deleted comment that is still indexed comes back without author and text."""
    try:
        with httpx.Client(timeout=TIMEOUT, headers={"User-Agent": USER_AGENT}) as client:
            response = client.get(f"{base_url}/items/{item_id}")
    except httpx.HTTPError as exc:
        log.info("Could not check HN item %s: %s", item_id, exc)
        return None
    if response.status_code == 404:
        return False
    if response.status_code != 200:
        return None
    try:
        item = response.json()
    except ValueError:
        return None
    deleted = isinstance(item, dict) and item.get("author") is None and not item.get("text")
    return not deleted
