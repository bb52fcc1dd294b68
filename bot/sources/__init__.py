"""One module per platform, all behind `bot.sources.base.Source`."""

from __future__ import annotations

import logging

import httpx

from bot.config import Settings, SourceConfig, resolve_path
from bot.sources.base import FetchResult, RateLimited, Source, SourceError
from bot.sources.hackernews import HackerNews
from bot.sources.replay import Replay

log = logging.getLogger(__name__)

__all__ = ["FetchResult", "RateLimited", "Source", "SourceError", "build_source", "build_sources"]

BUILT = {"hackernews", "replay"}


def build_source(settings: Settings, config: SourceConfig, *, client: httpx.Client | None = None):
    """The Source for one [sources.NAME] table."""
    if config.name == "hackernews":
        return HackerNews(config, settings.queries_for(config), client=client)
    if config.name == "replay":
        return Replay(config, resolve_path(settings.config_path, config.get("path")))
    raise SourceError(f"[sources.{config.name}] is not available in this version of mentionops")


def build_sources(
    settings: Settings, only: str | None = None
) -> tuple[dict[str, Source], list[str]]:
    """Every enabled source that can run, and a line for each one that is skipped and why."""
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
        sources[config.name] = build_source(settings, config)
    return sources, skipped
