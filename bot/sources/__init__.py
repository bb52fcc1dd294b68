"""One module per platform, all behind `bot.sources.base.Source`."""

from __future__ import annotations

import logging
import time

import httpx

from bot.config import Settings, SourceConfig, resolve_path
from bot.sources.base import FetchResult, RateLimited, Source, SourceError
from bot.sources.bluesky import Bluesky
from bot.sources.hackernews import HackerNews
from bot.sources.mastodon import Mastodon
from bot.sources.reddit import Reddit
from bot.sources.replay import Replay
from bot.sources.rss import Rss
from bot.sources.state import SourceState
from bot.sources.x import X

log = logging.getLogger(__name__)

__all__ = ["FetchResult", "RateLimited", "Source", "SourceError", "build_source", "build_sources"]

BUILT = {"hackernews", "replay", "bluesky", "mastodon", "x", "reddit", "rss"}


def build_source(
    settings: Settings, config: SourceConfig, *, client: httpx.Client | None = None, store=None
):
    """The Source for one [sources.NAME] table. `store` keeps the little state a source needs
    across restarts (X's reads this hour, Bluesky's recent logins); default: the database."""
    if config.name == "hackernews":
        return HackerNews(config, settings.queries_for(config), client=client)
    if config.name in ("bluesky", "x") and store is None:
        from storage import Store

        store = Store(settings.db_path)
    secret = settings.secrets.get
    if config.name == "bluesky":
        return Bluesky(
            config,
            settings.queries_for(config),
            handle=secret("BLUESKY_HANDLE") or "",
            password=secret("BLUESKY_APP_PASSWORD") or "",
            client=client,
            state=SourceState(config.name, store),
        )
    if config.name == "mastodon":
        return Mastodon(
            config,
            settings.queries_for(config),
            hashtags=config.get("hashtags", ()),
            token=secret("MASTODON_ACCESS_TOKEN"),
            client=client,
        )
    if config.name == "x":
        return X(
            config,
            settings.queries_for(config),
            token=secret("X_BEARER_TOKEN") or "",
            handles=settings.brand.handles,
            max_posts_per_hour=config.get("max_posts_per_hour", 200),
            client=client,
            state=SourceState(config.name, store),
        )
    if config.name == "reddit":
        return Reddit(
            config,
            settings.queries_for(config),
            client_id=secret("REDDIT_CLIENT_ID") or "",
            client_secret=secret("REDDIT_CLIENT_SECRET") or "",
            subreddits=config.get("subreddits", ()),
            token_url=config.get("token_url", "https://www.reddit.com/api/v1/access_token"),
            user_agent=config.get("user_agent"),
            client=client,
        )
    if config.name == "rss":
        return Rss(config, config.get("feeds", ()), client=client)
    if config.name == "replay":
        return Replay(config, resolve_path(settings.config_path, config.get("path")))
    raise SourceError(f"[sources.{config.name}] is not available in this version of mentionops")


def build_sources(
    settings: Settings, only: str | None = None, *, store=None
) -> tuple[dict[str, Source], list[str]]:
    """Every enabled source that can run, and a line for each one that is skipped and why.
    `store`: where sources keep their state (default: the database; see `build_source`)."""
    sources: dict[str, Source] = {}
    skipped: list[str] = []
    for config in settings.enabled_sources():
        if only and config.name != only:
            continue
        missing = settings.source_secrets_missing(config.name)
        if missing:
            skipped.append(f"{config.name}: skipped, set {' and '.join(missing)} to enable it")
            continue
        if config.name not in BUILT:
            skipped.append(f"{config.name}: skipped, not available in this version yet")
            continue
        sources[config.name] = build_source(settings, config, store=store)
    return sources, skipped


def status_extras(settings: Settings, store) -> dict[str, str]:
    """Per-source facts for status lines beyond health: X's paid reads this hour."""
    extras: dict[str, str] = {}
    x = settings.sources.get("x")
    if x and x.enabled:
        reads = SourceState("x", store).get("reads", []) or []
        now = time.time()
        used = sum(n for at, n in reads if now - at < 3600)
        extras["x"] = f"{used} of {x.get('max_posts_per_hour', 200)} paid reads used this hour"
    return extras
