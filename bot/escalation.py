"""On-call escalation: no urgent complaint waits unseen.

`Escalator.tick()` runs every 30 s from the scheduler: it escalates unclaimed alerts past their
SLA (L1: whoever is on call) and past the L2 wait (L2: the managers), reminds owners of claims
left unresolved, sends queued PagerDuty events and keeps the on-call user group in sync.
`Escalator.escalate()` is the manual escalation behind the card's Escalate button.

Every decision is made from the database, never from memory: a level fires when a
compare-and-set raises `mentions.escalation_level` (storage/escalation.py), so it fires once per
mention, also across restarts and with two processes on one database; the pings go out only
from the caller that won. A claim or a resolve before the tick means the CAS finds the mention
no longer `posted`, and nobody is pinged.

Crash semantics: the level (and a follow-up reminder's count) is saved *before* the Slack calls,
so pings are at most once, like alerts: a crash between the commit and the DMs loses that
level's pings rather than repeating them on every restart. What is lost stays visible (the
card says "escalated" on the next refresh, the audit `escalate` event is there), the next level
still fires on time, and a PagerDuty trigger queued in the same transaction is still sent.

`LeaseKeeper` holds the SQLite lease that lets only one `mentionops run` poll and ping.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError

from bot import blocks, oncall, slack
from bot.config import SEVERITIES, Settings
from bot.models import parse_time, utcnow
from bot.pagerduty import PagerDuty, at_least, backoff, trigger_payload
from storage import SYSTEM, Store
from storage import escalation as esc_store

log = logging.getLogger(__name__)

TICK_SECONDS = 30
LEASE_TTL_SECONDS = 60
LEASE_RENEW_SECONDS = 15
PAGERDUTY_STUCK = timedelta(minutes=2)  # a `sending` row this old is not in flight any more


def severity_for(urgency: int) -> str:
    """An automatic escalation's severity, from the mention's urgency."""
    if urgency >= 90:
        return "SEV1"
    if urgency >= 75:
        return "SEV2"
    return "SEV3"


def sla_for(settings: Settings, m: dict) -> timedelta:
    """The mention's SLA: `[escalation] sla_by_source` for its platform (else `[triage]
    sla_minutes`), shortened by `sla_by_severity` for its severity when that is shorter. The
    card's "time left" and the escalation clock both use this."""
    cfg = settings.escalation
    minutes = dict(cfg.sla_by_source).get(m["source"], settings.triage.sla_minutes)
    by_severity = dict(cfg.sla_by_severity).get(severity_for(m["urgency"]))
    if by_severity is not None:
        minutes = min(minutes, by_severity)
    return timedelta(minutes=minutes)


@dataclass(frozen=True)
class EscalationResult:
    """What `escalate` did (or, from `check`, would do). `reason` says why it was refused
    (`already_escalated`, `resolved`, `ignored`, `new`, `not_found`, `no_level`, `no_severity`,
    `no_target`); `text` is a sentence for the person who asked."""

    ok: bool
    level: int
    targets: tuple[str, ...] = ()
    mention: dict | None = None
    reason: str | None = None
    dm_failed: dict[str, str] = field(default_factory=dict)
    text: str = ""


class Escalator:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        client,
        *,
        clock: Callable[[], datetime] = utcnow,
        poster=None,
        pagerduty: PagerDuty | None = None,
    ):
        from bot.poster import SlackPoster

        self.settings = settings
        self.store = store
        self.client = client
        self.clock = clock
        self.poster = poster or SlackPoster(client, store, settings, clock=clock)
        key = settings.secrets.get("PAGERDUTY_ROUTING_KEY")
        if pagerduty is None and key:
            pagerduty = PagerDuty(key, settings.escalation.pagerduty_url)
        self.pagerduty = pagerduty
        self._usergroup_error: str | None = None
        self._tick_lock = threading.Lock()

    # --- policy ----------------------------------------------------------------------------

    def sla(self, m: dict) -> timedelta:
        return sla_for(self.settings, m)

    def l2_after(self, m: dict) -> timedelta:
        minutes = self.settings.escalation.l2_after_minutes
        return timedelta(minutes=minutes) if minutes else 2 * self.sla(m)

    def due_level(self, m: dict, now: datetime) -> int | None:
        """The level an unclaimed mention should be at now, if above the one it is at.

        L1 at created_at + SLA (at once when found already past it). L2 at created_at + the L2
        wait, and never sooner than that wait's extra time after L1 fired, so a mention found
        late, or held back by quiet hours, still gives on-call a chance first."""
        levels = self.settings.escalation.levels
        level = m["escalation_level"]
        created = parse_time(m["created_at"])
        if level == 0 and levels >= 1 and now >= created + self.sla(m):
            return 1
        if level == 1 and levels >= 2:
            gap = self.l2_after(m) - self.sla(m)
            fired = parse_time(m["escalated_at"]) if m.get("escalated_at") else created
            if now >= created + self.l2_after(m) and now >= fired + gap:
                return 2
        return None

    def quiet(self, m: dict, now: datetime) -> bool:
        """Outside working hours only high-urgency mentions escalate."""
        cfg = self.settings.escalation
        return m["urgency"] < cfg.quiet_min_urgency and oncall.in_quiet_hours(
            cfg.quiet_hours, self.settings.oncall.timezone, now
        )

    def on_call(self, now: datetime | None = None) -> oncall.OnCallNow:
        return oncall.current(self.settings, self.store, now or self.clock())

    def targets(self, level: int, now: datetime) -> list[str]:
        """L1: who is on call (the managers when nobody is). L2: the managers (on-call when
        there are none)."""
        managers = list(self.settings.slack.managers)
        person = self.on_call(now).user
        if level == 1:
            return [person] if person else managers
        return managers or ([person] if person else [])

    # --- manual --------------------------------------------------------------------------------

    def escalate(
        self,
        mention_id: int,
        *,
        by: str,
        level: int = 1,
        severity: str = "SEV2",
        note: str | None = None,
    ) -> EscalationResult:
        """Escalate by hand (the card's Escalate button): from L1 or the level chosen. A
        claimed mention may be escalated too; each level still fires once. Refused as
        `check` says; the compare-and-set still decides a race with a click or the clock."""
        severity = (severity or "").upper()
        if level in (1, 2) and severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {severity!r}")
        checked = self.check(mention_id, level, severity=severity)
        if not checked.ok:
            return checked
        return self._escalate(mention_id, level, severity, by=by, note=note, auto=False)

    def check(
        self, mention_id: int | None, level: int, *, severity: str = "SEV2"
    ) -> EscalationResult:
        """Would a manual escalation of `mention_id` to `level` go ahead now? Reads only (no
        write, no Slack call), so the Escalate form can answer inline before it closes:
        `ok` with the people it would alert, or refused with the `reason` `escalate` would
        give (`no_level`, `no_severity`, `not_found`, the status, `already_escalated`, or
        `no_target` when nobody is on call and no managers are set)."""
        if level not in (1, 2):
            return self._refused("no_level", None, level)
        if (severity or "").upper() not in SEVERITIES:
            return self._refused("no_severity", None, level)
        m = self.store.mention(mention_id) if mention_id is not None else None
        reason = esc_store.why_not_escalate(m, level, auto=False)
        if reason:
            return self._refused(reason, m, level)
        targets = self.targets(level, self.clock())
        if not targets:
            return self._refused("no_target", m, level)
        return EscalationResult(ok=True, level=level, targets=tuple(targets), mention=m)

    # --- the scheduled job -------------------------------------------------------------------

    def tick(self) -> dict[str, int]:
        """One pass: SLA escalations, follow-up reminders, PagerDuty, the user group."""
        counts = {"escalated": 0, "reminded": 0, "pagerduty": 0}
        if not self._tick_lock.acquire(blocking=False):
            return counts  # the previous tick is still running
        try:
            now = self.clock()
            for name, step in (
                ("escalated", self.escalate_due),
                ("reminded", self.remind_due),
                ("pagerduty", self.flush_pagerduty),
            ):
                try:
                    counts[name] = step(now)
                except Exception:
                    log.exception("Escalation job: %s failed; it runs again next tick", name)
            try:
                self.sync_usergroup(now)
            except Exception:
                log.exception("Escalation job: user group sync failed")
        finally:
            self._tick_lock.release()
        return counts

    def escalate_due(self, now: datetime) -> int:
        levels = self.settings.escalation.levels
        if levels < 1:
            return 0
        fired = 0
        for m in esc_store.escalation_candidates(self.store, levels):
            level = self.due_level(m, now)
            if level is None or self.quiet(m, now):
                continue
            result = self._escalate(
                m["id"], level, severity_for(m["urgency"]), by=SYSTEM, note=None, auto=True
            )
            fired += result.ok
        return fired

    def remind_due(self, now: datetime) -> int:
        first = timedelta(minutes=self.settings.triage.followup_minutes)
        repeat = timedelta(minutes=self.settings.escalation.followup_repeat_minutes)
        sent = 0
        for row in esc_store.followup_candidates(self.store):
            same_claim = row["followup_for"] == row["claimed_at"] and row["followup_count"] > 0
            if same_claim:
                if not repeat:
                    continue
                due = parse_time(row["followup_at"]) + repeat
            else:
                due = parse_time(row["claimed_at"]) + first
            if now < due:
                continue
            count = esc_store.mark_reminded(self.store, row, now)
            if count is None:
                continue
            m = self.store.mention(row["id"])
            message = blocks.reminder_dm(m, count=count, now=now, permalink=self._permalink(m))
            error = self._dm(row["claimed_by"], message)
            if error:
                log.warning(
                    "Reminder DM to %s for mention %s failed (%s); posting in the thread",
                    row["claimed_by"],
                    row["id"],
                    error,
                )
                self.poster.thread(m, blocks.reminder_thread_line(row["claimed_by"], count))
            sent += 1
        return sent

    def flush_pagerduty(self, now: datetime) -> int:
        """Queue resolves for resolved mentions, then send what is due, oldest first."""
        if self.pagerduty is None:
            return 0
        esc_store.queue_pagerduty_resolves(self.store, now)
        sent = 0
        for row in esc_store.pagerduty_due(self.store, now, stuck_before=now - PAGERDUTY_STUCK):
            if not esc_store.begin_pagerduty(self.store, row, now):
                continue
            outcome = self.pagerduty.send(
                row["action"], row["mention_id"], json.loads(row["payload"])
            )
            if outcome.ok:
                esc_store.pagerduty_done(self.store, row["id"], "sent", now)
                sent += 1
            elif outcome.retry:
                wait = backoff(row["attempts"] + 1, outcome.retry_after)
                log.warning(
                    "PagerDuty %s for mention %s: %s; retrying in %s",
                    row["action"],
                    row["mention_id"],
                    outcome.error,
                    wait,
                )
                esc_store.pagerduty_done(
                    self.store, row["id"], "pending", now, error=outcome.error, retry_at=now + wait
                )
            else:
                log.error(
                    "PagerDuty refused the %s for mention %s: %s (check PAGERDUTY_ROUTING_KEY)",
                    row["action"],
                    row["mention_id"],
                    outcome.error,
                )
                esc_store.pagerduty_done(self.store, row["id"], "failed", now, error=outcome.error)
        return sent

    def sync_usergroup(self, now: datetime) -> bool:
        """Make `[oncall] usergroup` hold exactly whoever is on call; True when it changed."""
        group = self.settings.oncall.usergroup
        if not group:
            return False
        user = self.on_call(now).user
        key = f"usergroup:{group}"
        if not user or self.store.meta(key) == user:
            return False
        try:
            self.client.usergroups_users_update(usergroup=group, users=[user])
        except SlackApiError as exc:
            error = exc.response.get("error", "unknown_error")
            if error != self._usergroup_error:
                log.warning(
                    "Could not set user group %s to %s: %s (needs the usergroups:write scope)",
                    group,
                    user,
                    error,
                )
            self._usergroup_error = error
            return False
        self._usergroup_error = None
        esc_store.set_meta(self.store, key, user)
        log.info("User group %s is now %s", group, user)
        return True

    # --- the work ------------------------------------------------------------------------------

    def _escalate(
        self, mention_id: int, level: int, severity: str, *, by: str, note: str | None, auto: bool
    ) -> EscalationResult:
        now = self.clock()
        targets = self.targets(level, now)
        before = self.store.mention(mention_id)
        if before is None:
            return self._refused("not_found", None, level)
        permalink = self._permalink(before)
        pd_payload = None
        if self.pagerduty is not None and at_least(
            severity, self.settings.escalation.pagerduty_min_severity
        ):
            pd_payload = trigger_payload(
                before,
                brand=self.settings.brand.name,
                severity=severity,
                level=level,
                targets=targets,
                link=permalink,
                note=note,
            )
        result = esc_store.mark_escalated(
            self.store,
            mention_id,
            level=level,
            targets=targets,
            by=by,
            severity=severity,
            now=now,
            note=note,
            auto=auto,
            pagerduty=pd_payload,
        )
        if not result.ok:
            return self._refused(result.reason or "changed", result.mention, level)
        m = result.mention
        log.info(
            "Mention %s escalated to L%s (%s) -> %s by %s",
            mention_id,
            level,
            severity,
            ",".join(targets) or "nobody",
            by,
        )
        dm_failed: dict[str, str] = {}
        for user in targets:
            error = self._dm(
                user,
                blocks.escalation_dm(
                    m,
                    level=level,
                    severity=severity,
                    by=by,
                    now=now,
                    permalink=permalink,
                    note=note,
                ),
            )
            if error:
                dm_failed[user] = error
                log.warning("DM to %s failed (%s); the channel post pings them", user, error)
        channel = self.settings.slack.escalation_channel or self.settings.slack.alert_channel
        try:
            self.client.chat_postMessage(
                channel=channel,
                **blocks.escalation_post(
                    m,
                    level=level,
                    severity=severity,
                    targets=targets,
                    by=by,
                    now=now,
                    permalink=permalink,
                    note=note,
                    dm_failed=dm_failed,
                ),
            )
        except SlackApiError as exc:
            log.error(
                "Escalation post in %s failed: %s (invite the bot there); the alert's thread "
                "still pings them",
                channel,
                exc.response.get("error"),
            )
        self.poster.thread(
            m,
            blocks.escalation_thread_line(
                level=level,
                severity=severity,
                targets=targets,
                by=by,
                note=note,
                dm_failed=dm_failed,
            ),
        )
        self.poster.refresh(mention_id)
        return EscalationResult(
            ok=True,
            level=level,
            targets=tuple(targets),
            mention=self.store.mention(mention_id),
            dm_failed=dm_failed,
            text=f"Escalated to {blocks._users(targets)} (L{level}, {severity}).",
        )

    def _refused(self, reason: str, m: dict | None, level: int) -> EscalationResult:
        return EscalationResult(
            ok=False,
            level=level,
            mention=m,
            reason=reason,
            text=blocks.escalation_refusal_text(reason, m, level),
        )

    def _dm(self, user: str, message: dict) -> str | None:
        """Send a direct message; returns Slack's error code when it failed, else None."""
        try:
            channel = self.client.conversations_open(users=[user])["channel"]["id"]
            self.client.chat_postMessage(channel=channel, **message)
        except SlackApiError as exc:
            return exc.response.get("error", "unknown_error")
        return None

    def _permalink(self, m: dict) -> str | None:
        return slack.permalink(self.client, m)


# --- one runner per database -------------------------------------------------------------------


class LeaseKeeper:
    """Holds the SQLite lease that lets one process poll and ping. `step()` takes or renews
    it and starts, pauses or resumes the scheduler to match; `run_forever` calls it every
    LEASE_RENEW_SECONDS until stopped."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], datetime] = utcnow,
        ttl_seconds: float = LEASE_TTL_SECONDS,
        pid: int | None = None,
        host: str | None = None,
        alive: Callable[[int], bool] | None = None,
    ):
        self.store = store
        self.clock = clock
        self.ttl = ttl_seconds
        self.pid = pid if pid is not None else os.getpid()
        self.host = host or socket.gethostname()
        self.holder = f"{self.host}:{self.pid}:{uuid.uuid4().hex[:8]}"
        self.alive = alive or _pid_alive
        self.held = False
        self.other: dict | None = None  # the lease row while another process holds it
        self._stop = threading.Event()
        self._announced = False

    def acquire(self) -> bool:
        now = self.clock()
        ours, row = esc_store.acquire_lease(
            self.store, self.holder, pid=self.pid, host=self.host, now=now, ttl_seconds=self.ttl
        )
        gone = row["pid"] == self.pid or not self.alive(row["pid"])  # same pid: our past self
        if not ours and row["host"] == self.host and gone:
            # The holder ran on this machine and is gone (crashed): no need to wait it out.
            log.info("The process holding the lease (pid %s) is gone; taking over", row["pid"])
            ours, row = esc_store.acquire_lease(
                self.store,
                self.holder,
                pid=self.pid,
                host=self.host,
                now=now,
                ttl_seconds=self.ttl,
                take_over=True,
            )
        self.held = ours
        self.other = None if ours else row
        return ours

    def step(self, scheduler) -> bool:
        """Take or renew the lease and make the scheduler match: running while we hold it."""
        if self._stop.is_set():
            return False
        was = self.held
        try:
            ours = self.acquire()
        except Exception:
            log.exception("Could not renew the lease; trying again shortly")
            return self.held
        if ours:
            if not scheduler.running:
                if self._announced:
                    log.info("The lease is ours now: taking over polling and pings")
                scheduler.start()
            elif getattr(scheduler, "state", None) == 2:  # apscheduler STATE_PAUSED
                log.info("The lease is ours again: resuming polling and pings")
                scheduler.resume()
        else:
            if not self._announced or was:
                log.warning(
                    "Another mentionops is running on this database (pid %s on host %s); "
                    "waiting as standby",
                    self.other["pid"],
                    self.other["host"],
                )
            if was and scheduler.running:
                scheduler.pause()
        self._announced = True
        return ours

    def run_forever(self, scheduler, interval: float = LEASE_RENEW_SECONDS) -> threading.Thread:
        def loop() -> None:
            while not self._stop.wait(interval):
                self.step(scheduler)

        thread = threading.Thread(target=loop, name="mentionops-lease", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        """No more renewals (shutting down); `release` once the jobs have finished."""
        self._stop.set()

    def release(self) -> None:
        self._stop.set()
        if self.held:
            try:
                esc_store.release_lease(self.store, self.holder)
            except Exception:  # noqa: BLE001 - it expires by itself anyway
                log.warning("Could not release the lease; it expires in %s s", self.ttl)
            self.held = False

    def health(self) -> dict:
        if self.held:
            return {"lease": "held"}
        other = self.other or {}
        return {
            "lease": "standby",
            "holder": {"pid": other.get("pid"), "host": other.get("host")},
            "expires_at": other.get("expires_at"),
        }


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


__all__ = ["Escalator", "EscalationResult", "LeaseKeeper", "severity_for"]
