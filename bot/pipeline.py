"""One poll of one source: fetch -> keep brand mentions -> score -> store -> post.

`Pipeline.run_once` is the scheduled job, and a plain function tests call directly.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot import storm
from bot.blocks import source_label
from bot.config import Settings
from bot.models import Mention, Score, parse_time, utcnow
from bot.scoring import Scorer
from bot.sources import RateLimited, Source, SourceError
from bot.text import BrandMatcher, escape_mrkdwn
from storage import Store

log = logging.getLogger(__name__)

REPEAT_WINDOW = timedelta(hours=24)
CHECK_HINTS = {
    "hackernews": "check that hn.algolia.com is reachable from this machine",
    "bluesky": "check BLUESKY_HANDLE and BLUESKY_APP_PASSWORD",
    "mastodon": "check [sources.mastodon] base_url and MASTODON_ACCESS_TOKEN",
    "x": "check X_BEARER_TOKEN and your X API plan",
    "reddit": "check REDDIT_CLIENT_ID and REDDIT_CLIENT_SECRET",
    "rss": "check the feed URLs in [sources.rss] feeds",
    "replay": "check [sources.replay] path",
}


@dataclass
class PollReport:
    source: str
    fetched: int = 0
    matched: int = 0
    new: int = 0
    urgent: int = 0
    posted: int = 0
    scored: list[tuple[Mention, Score]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0


class Pipeline:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        sources: dict[str, Source],
        poster,
        *,
        scorer: Scorer | None = None,
        clock: Callable[[], datetime] = utcnow,
    ):
        self.settings = settings
        self.store = store
        self.sources = sources
        self.poster = poster
        self.scorer = scorer or Scorer(settings.brand, settings.triage)
        self.matcher = BrandMatcher(settings.brand)
        self.clock = clock

    def run_once(
        self, name: str, *, dry_run: bool = False, next_run: datetime | None = None
    ) -> PollReport:
        """Poll one source once. Never raises for a platform's failure: it is recorded in
        source health and, past `failure_threshold`, announced once in the alert channel."""
        started = time.perf_counter()
        report = PollReport(name)
        source = self.sources[name]
        try:
            result = source.fetch(self.store.cursors(name), now=self.clock())
        except RateLimited as exc:
            log.info("%s: %s; waiting until the next poll", name, exc)
            report.error = str(exc)
            return report
        except SourceError as exc:
            report.error = str(exc)
        except Exception as exc:  # a bug or an unexpected payload: still only this source
            log.exception("%s: poll failed unexpectedly", name)
            report.error = f"unexpected error: {exc!r}"
        if report.error:
            if not dry_run:
                self._failed(name, report.error, next_run)
            log.warning("%s: poll failed: %s", name, report.error)
            return report

        report.fetched = len(result.mentions)
        report.problems = result.problems
        if not dry_run:
            for part, error in result.parts.items():
                self._part(name, part, error)
        for problem in result.problems:
            log.warning("%s: %s", name, problem)
        scored = self.score(result.mentions)
        report.matched = len(scored)
        report.scored = scored
        report.urgent = sum(1 for _, s in scored if s.urgent)
        if dry_run:
            report.seconds = time.perf_counter() - started
            return report

        saved = self.store.save_batch(
            name,
            scored,
            cursors=result.cursors,
            alert_channel=self.settings.slack.alert_channel or "terminal",
        )
        report.new = len(saved.new_ids)
        self._succeeded(name, report.new, next_run)
        storm_sync = getattr(self.poster, "storm_sync", None)
        if storm_sync is not None:  # storm mode: only where alerts go to Slack
            action, row = storm.check(self.store, self.settings)
            if action in ("opened", "closed"):
                log.warning(
                    "Storm mode %s (urgent alerts per 10 min: %s)",
                    action,
                    row and row["window_count"],
                )
        report.posted = self.poster.flush()
        for primary in saved.cross_posted:  # the alert now lists one more link
            self.poster.refresh(primary)
        if storm_sync is not None:
            storm_sync()  # the storm message's figures, at most one edit a poll
        report.seconds = time.perf_counter() - started
        log.info(
            "%s: fetched %s, about the brand %s, new %s, urgent %s, posted %s (%.2f s)",
            name,
            report.fetched,
            report.matched,
            report.new,
            report.urgent,
            report.posted,
            report.seconds,
        )
        return report

    def score(self, mentions: list[Mention]) -> list[tuple[Mention, Score]]:
        """Keep mentions of the brand (not excluded, not our own posts) and score them."""
        kept = [m for m in mentions if self.matcher.accepts(f"{m.title}\n{m.text}", m.author)]
        # Oldest first: alerts reach Slack in the order customers posted.
        kept.sort(key=lambda m: m.created_at or self.clock())
        if not kept:
            return []
        repeaters = self.store.recent_authors(
            (m.author for m in kept), self.clock() - REPEAT_WINDOW
        )
        return [
            (m, self.scorer.score(m, repeat=bool(m.author) and m.author.lower() in repeaters))
            for m in kept
        ]

    # --- source health -------------------------------------------------------------------------

    def _failed(
        self,
        name: str,
        error: str,
        next_run: datetime | None,
        *,
        source: str | None = None,
        label: str | None = None,
    ) -> None:
        """Record a failed poll of `name` (a source, or one feed of it: `source` then names the
        source); one notice when it reaches the source's failure_threshold."""
        source = source or name
        health = self.store.poll_failed(name, error, next_run=next_run)
        config = self.settings.sources.get(source)
        threshold = config.failure_threshold if config else 3
        if health["consecutive_failures"] >= threshold and health.get("notice") != "failing":
            since = self._local(health["failing_since"])
            hint = CHECK_HINTS.get(source, "check its settings")
            what = label or f"*{source_label(name)}"
            others = (
                "The other feeds and sources are fine."
                if label
                else ("The other sources are fine.")
            )
            self.poster.notice(
                f"⚠️ {what} failing since {since}:* {_clean(error)}. "
                f"Mentions from it are not coming in: {hint}. {others}"
            )
            self.store.set_notice(name, "failing")

    def _part(self, source: str, part: str, error: str | None) -> None:
        """Health of one feed of a source: its own notices, once each way."""
        key = f"{source} {part}"
        label = f"*{source_label(source)} feed {escape_mrkdwn(part)}"
        if error:
            self._failed(key, error, None, source=source, label=label)
            return
        before = self.store.poll_succeeded(key, 0)
        if before.get("notice") == "failing":
            self.poster.notice(f"✅ {label} is back:* polling normally again.")
            self.store.set_notice(key, None)

    def _succeeded(self, name: str, new: int, next_run: datetime | None) -> None:
        before = self.store.poll_succeeded(name, new, next_run=next_run)
        if before.get("notice") == "failing":
            self.poster.notice(
                f"✅ *{source_label(name)} is back:* polling normally again. "
                "Mentions from the gap are being picked up now."
            )
            self.store.set_notice(name, None)
        elif before.get("notice") == "silent" and new:
            self.store.set_notice(name, None)
        elif new == 0 and before.get("notice") is None:
            self._check_silence(name, before)

    def _check_silence(self, name: str, health: dict) -> None:
        """Silence is a failure too: nothing new for `silence_hours` gets one notice."""
        hours = self.settings.sources[name].silence_hours if name in self.settings.sources else 24
        since = health.get("last_mention_at") or health.get("first_success")
        if not since or self.clock() - parse_time(since) < timedelta(hours=hours):
            return
        what = "a new mention" if health.get("last_mention_at") else "any mention"
        self.poster.notice(
            f"🔕 *{source_label(name)} has been quiet:* it answers, but has not brought {what} "
            f"for {hours} h. If that is unusual for {escape_mrkdwn(self.settings.brand.name)}, "
            f"{CHECK_HINTS.get(name, 'check its settings')} and the search terms."
        )
        self.store.set_notice(name, "silent")

    def _local(self, stamp: str | None) -> str:
        if not stamp:
            return "now"
        return parse_time(stamp).astimezone(self.settings.tz).strftime("%H:%M")


def _clean(error: str) -> str:
    """Errors come from platforms and our own messages; keep them one short line for mrkdwn."""
    return escape_mrkdwn(" ".join(error.split())[:300])
