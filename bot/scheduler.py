"""APScheduler 3 wiring: one job per source, plus the outbox. Jobs are plain functions
(`Pipeline.run_once`, `SlackPoster.flush`); this module only schedules them.

Only one process may run the scheduler against a database.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.pipeline import Pipeline

log = logging.getLogger(__name__)

OUTBOX_SECONDS = 30
DIGEST_SECONDS = 60
ESCALATION_SECONDS = 30


def build_scheduler(
    pipeline: Pipeline, poster, *, start_now: bool = True, escalator=None, digest=None
) -> BackgroundScheduler:
    sources = pipeline.sources
    scheduler = BackgroundScheduler(
        timezone=UTC,
        # A source each, so a hanging platform never holds up another; +2 for the outbox.
        executors={"default": ThreadPoolExecutor(max_workers=len(sources) + 3)},
        job_defaults={"coalesce": True, "max_instances": 1},
    )
    first = datetime.now(UTC) if start_now else None
    for name in sources:
        interval = pipeline.settings.sources[name].interval_seconds
        scheduler.add_job(
            _poll,
            IntervalTrigger(seconds=interval, timezone=UTC),
            args=[pipeline, name, interval],
            id=f"poll:{name}",
            name=f"poll {name}",
            next_run_time=first,
            # APScheduler 3 defaults to 1 s and silently skips late runs; a late poll is
            # still worth doing, so allow up to a whole interval.
            misfire_grace_time=interval,
        )
    scheduler.add_job(
        _outbox,
        IntervalTrigger(seconds=OUTBOX_SECONDS, timezone=UTC),
        args=[poster],
        id="outbox",
        name="retry unsent alerts",
        misfire_grace_time=OUTBOX_SECONDS,
    )

    if escalator is not None:
        # SLA escalation, follow-up reminders, PagerDuty, the on-call user group: all state in
        # SQLite, so a missed or repeated run changes nothing (bot/escalation.py).
        scheduler.add_job(
            escalator.tick,
            IntervalTrigger(seconds=ESCALATION_SECONDS, timezone=UTC),
            id="escalation",
            name="escalate unclaimed, remind owners, PagerDuty",
            next_run_time=first,
            misfire_grace_time=ESCALATION_SECONDS,
        )

    if digest is not None:
        # Every minute: is yesterday's digest due and not sent yet? The `digests` table makes
        # it once per period across restarts and DST (bot/digest.py).
        scheduler.add_job(
            digest.run,
            IntervalTrigger(seconds=DIGEST_SECONDS, timezone=UTC),
            id="digest",
            name="daily and weekly digest",
            next_run_time=first,
            misfire_grace_time=DIGEST_SECONDS,
        )

    def on_event(event: JobExecutionEvent) -> None:
        if event.code == EVENT_JOB_MISSED:
            log.warning("Job %s missed its run at %s", event.job_id, event.scheduled_run_time)
        elif event.exception is not None:
            log.error("Job %s failed: %r", event.job_id, event.exception)

    scheduler.add_listener(on_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    return scheduler


def _poll(pipeline: Pipeline, name: str, interval: int) -> None:
    pipeline.run_once(name, next_run=datetime.now(UTC) + timedelta(seconds=interval))


def _outbox(poster) -> None:
    poster.reconcile(stuck_after=timedelta(minutes=2))
    poster.flush()


def job_states(scheduler: BackgroundScheduler) -> dict[str, str | None]:
    return {
        job.id: job.next_run_time.astimezone(UTC).isoformat() if job.next_run_time else None
        for job in scheduler.get_jobs()
    }
