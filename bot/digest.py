"""The daily digest (and the weekly one, with a chart): posted once per period.

The scheduler calls `DigestJob.run` every minute. Once the local time in `[digest] timezone`
has reached `[digest] time`, yesterday's digest is due (and, on `weekly_day`, the previous
seven days'). Each is sent at most once, also across restarts, DST changes and two processes:
a `digests` row is taken with a compare-and-set before the post (storage/digests.py). A post
whose outcome is unknown (a crash, a timeout) is looked up in the channel by its message
metadata before it is tried again. A process started after the digest time still sends that
day's digest; a day the bot was down all day is not sent later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import blocks, ids, slack
from bot.config import DAYS, Settings
from bot.models import utcnow
from bot.summary import Period, day_period, for_settings, week_period
from storage import Store
from storage import digests as state

log = logging.getLogger(__name__)

STALE = timedelta(minutes=10)  # a `sending` row this old is not in flight any more


class DigestJob:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        client: WebClient,
        *,
        clock: Callable[[], datetime] = utcnow,
    ):
        self.store = store
        self.settings = settings
        self.client = client
        self.clock = clock

    @property
    def config(self):
        return self.settings.digest

    def due(self, now: datetime) -> list[tuple[str, Period]]:
        """What is due at `now`: [] before the digest time, else yesterday's daily digest and,
        on the weekly day, the previous seven days'."""
        cfg = self.config
        if not (cfg.enabled and cfg.channel):
            return []
        zone = ZoneInfo(cfg.timezone)
        local = now.astimezone(zone)
        hour, minute = (int(x) for x in cfg.time.split(":"))
        # Wall-clock comparison: on a spring-forward day a time that never happens (01:30)
        # is passed at the jump; on a fall-back day the CAS row stops the repeated hour.
        if local.time().replace(tzinfo=None) < time(hour, minute):
            return []
        today = local.date()
        jobs = [("daily", day_period(today - timedelta(days=1), cfg.timezone))]
        if cfg.weekly_day and local.weekday() == DAYS.index(cfg.weekly_day):
            jobs.append(("weekly", week_period(today - timedelta(days=7), cfg.timezone)))
        return jobs

    def run(self, now: datetime | None = None) -> list[str]:
        """Send whatever is due and not sent yet; returns the keys sent ('daily:2026-11-25')."""
        now = now or self.clock()
        done = []
        for kind, period in self.due(now):
            key = period.local(period.start).date().isoformat()
            try:
                if self._send_once(kind, key, period, now):
                    done.append(f"{kind}:{key}")
            except Exception:  # one digest failing must not stop the other, or the job
                log.exception("The %s digest for %s failed", kind, key)
        return done

    # --- one digest ------------------------------------------------------------------------

    def _send_once(self, kind: str, key: str, period: Period, now: datetime) -> bool:
        channel = self.config.channel
        row = state.take(self.store, kind, key, channel, now, stale=STALE)
        if row is None:
            return False
        ts = row["ts"]
        if ts is None and row["attempts"] > 1:
            ts = self._find_posted(row["channel"], kind, key, now)
            if ts:
                state.posted(self.store, kind, key, ts)
        summary = for_settings(self.store, self.settings, period, now=now, series=kind == "weekly")
        if ts is None:
            message = blocks.digest_message(
                summary, kind=kind, period_key=key, oldest_link=self._permalink(summary)
            )
            try:
                response = self.client.chat_postMessage(channel=row["channel"], **message)
            except SlackApiError as exc:
                status = exc.response.status_code
                if status < 500:
                    error = exc.response.get("error", "unknown_error")
                    log.error(
                        "Slack refused the %s digest for %s in %s: %s (invite the bot to the "
                        "channel, or check [digest] channel)",
                        kind,
                        key,
                        row["channel"],
                        error,
                    )
                    state.failed(self.store, kind, key, error)
                return False  # a 5xx may have posted: the row stays `sending`, checked later
            except Exception:
                log.exception("Posting the %s digest for %s: outcome unknown", kind, key)
                return False
            ts = response["ts"]
            state.posted(self.store, kind, key, ts)
        file_id = None
        if kind == "weekly" and not row["file_id"]:
            file_id = self._upload_chart(summary, row["channel"], ts)
        state.sent(self.store, kind, key, now, file_id)
        log.info("Posted the %s digest for %s to %s", kind, key, row["channel"])
        return True

    def _find_posted(self, channel: str, kind: str, key: str, now: datetime) -> str | None:
        """A digest whose post was interrupted: is it in the channel already?"""
        try:
            response = self.client.conversations_history(
                channel=channel,
                oldest=f"{(now - timedelta(days=2)).timestamp():.6f}",
                include_all_metadata=True,
                limit=200,
            )
        except SlackApiError as exc:
            log.warning("Could not read %s to look for the digest: %s", channel, exc)
            return None
        for message in response.get("messages", []):
            meta = message.get("metadata") or {}
            payload = meta.get("event_payload") or {}
            if (
                meta.get("event_type") == ids.DIGEST_EVENT_TYPE
                and payload.get("kind") == kind
                and payload.get("period") == key
            ):
                return message["ts"]
        return None

    def _permalink(self, summary) -> str | None:
        return slack.permalink(self.client, summary.oldest_unclaimed)

    def _upload_chart(self, summary, channel: str, thread_ts: str) -> str | None:
        """The weekly chart in the digest's thread; a failure costs the picture, not the
        digest."""
        from bot.chart import upload_chart

        try:
            return upload_chart(self.client, summary, channel, thread_ts=thread_ts)
        except Exception:
            log.exception("Could not upload the weekly chart")
            return None
