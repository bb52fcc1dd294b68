"""Who is on call: the `[oncall]` rotation plus overrides, as pure functions of
(config, overrides, now).

Handovers are computed in the configured time zone's wall clock (`mon 09:00` stays 09:00 across a
DST change) and only then turned into instants. `rotation[0]` is on call from the handover on or
before `[oncall] start` (default: the day the database was created), then each next one per
period. An override (set with `/mentions oncall @user ...`) wins while it lasts; when several
overlap, the latest set wins.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.config import DAYS, OnCall, parse_handoff
from bot.models import parse_time

MAX_OVERRIDE = timedelta(days=90)


@dataclass(frozen=True)
class Override:
    user: str
    starts_at: datetime
    ends_at: datetime
    created_by: str = ""
    id: int = 0

    @classmethod
    def from_row(cls, row: dict) -> Override:
        return cls(
            user=row["user"],
            starts_at=parse_time(row["starts_at"]),
            ends_at=parse_time(row["ends_at"]),
            created_by=row.get("created_by") or "",
            id=row.get("id") or 0,
        )

    def covers(self, moment: datetime) -> bool:
        return self.starts_at <= moment < self.ends_at


@dataclass(frozen=True)
class OnCallNow:
    """Who is on call at `at`, until when, and who comes next."""

    at: datetime
    user: str | None
    override: Override | None
    until: datetime | None
    next_user: str | None


# --- the rotation ----------------------------------------------------------------------------


def _handoff(cfg: OnCall) -> tuple[int | None, int, int]:
    """(weekday or None, hour, minute); a daily rotation may give just '09:00'."""
    text = cfg.handoff.strip()
    try:
        weekday, hour, minute = parse_handoff(text)
    except ValueError:
        hour, minute = (int(p) for p in text.split(":"))
        weekday = None
    return (None if cfg.period == "daily" else weekday), hour, minute


def start_date(cfg: OnCall, created_at: str | None, now: datetime) -> date:
    """`[oncall] start`, else the day the database was created (in the rotation's zone)."""
    if cfg.start:
        return date.fromisoformat(cfg.start)
    moment = parse_time(created_at) if created_at else now
    return moment.astimezone(ZoneInfo(cfg.timezone)).date()


def _step(cfg: OnCall) -> int:
    return 1 if cfg.period == "daily" else 7


def _first_local(cfg: OnCall, start: date) -> datetime:
    """The first handover as a naive local wall-clock time: on or before `start`."""
    weekday, hour, minute = _handoff(cfg)
    day = start
    if weekday is not None:
        day = start - timedelta(days=(start.weekday() - weekday) % 7)
    return datetime.combine(day, time(hour, minute))


def handover(cfg: OnCall, start: date, index: int) -> datetime:
    """The instant (UTC) of handover number `index` (0: rotation[0] takes over)."""
    local = _first_local(cfg, start) + timedelta(days=_step(cfg) * index)
    return local.replace(tzinfo=ZoneInfo(cfg.timezone)).astimezone(UTC)


def handover_index(cfg: OnCall, start: date, when: datetime) -> int:
    """The number of the last handover at or before `when`."""
    tz = ZoneInfo(cfg.timezone)
    local = when.astimezone(tz).replace(tzinfo=None)
    days = (local - _first_local(cfg, start)) / timedelta(days=1)
    index = math.floor(days / _step(cfg))
    while handover(cfg, start, index + 1) <= when:
        index += 1
    while handover(cfg, start, index) > when:
        index -= 1
    return index


def rotation_user(cfg: OnCall, start: date, when: datetime) -> str | None:
    if not cfg.rotation:
        return None
    return cfg.rotation[handover_index(cfg, start, when) % len(cfg.rotation)]


def next_handover(cfg: OnCall, start: date, when: datetime) -> datetime:
    return handover(cfg, start, handover_index(cfg, start, when) + 1)


# --- with overrides ----------------------------------------------------------------------------


def active_override(overrides: list[Override], when: datetime) -> Override | None:
    """The override in force at `when`: the latest set among those covering it."""
    covering = [o for o in overrides if o.covers(when)]
    return max(covering, key=lambda o: o.id) if covering else None


def on_call_at(cfg: OnCall, start: date, overrides: list[Override], when: datetime) -> str | None:
    override = active_override(overrides, when)
    return override.user if override else rotation_user(cfg, start, when)


def on_call(cfg: OnCall, start: date, overrides: list[Override], now: datetime) -> OnCallNow:
    """Who is on call now, until when, and who takes over then."""
    user = on_call_at(cfg, start, overrides, now)
    override = active_override(overrides, now)
    boundaries = {o.starts_at for o in overrides if o.starts_at > now}
    boundaries |= {o.ends_at for o in overrides if o.ends_at > now}
    if cfg.rotation:
        index = handover_index(cfg, start, now)
        boundaries |= {handover(cfg, start, index + k) for k in range(1, len(cfg.rotation) + 2)}
    for moment in sorted(boundaries):
        other = on_call_at(cfg, start, overrides, moment)
        if other != user:
            return OnCallNow(now, user, override, moment, other)
    return OnCallNow(now, user, override, None, None)


# --- quiet hours -------------------------------------------------------------------------------


def in_quiet_hours(spec: str, tz: str, when: datetime) -> bool:
    """Is `when` inside quiet hours like '20:00-08:00' (local time in `tz`)? Empty: never."""
    if not spec:
        return False
    begin, end = (_clock(part) for part in spec.split("-"))
    local = when.astimezone(ZoneInfo(tz)).time().replace(second=0, microsecond=0)
    if begin == end:
        return False
    if begin < end:
        return begin <= local < end
    return local >= begin or local < end


def _clock(text: str) -> time:
    hour, minute = text.strip().split(":")
    return time(int(hour), int(minute))


# --- `/mentions oncall @user [for 8h | until mon 09:00]` ------------------------------------------

_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$|^([UW][A-Z0-9]{2,})$")
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?:in)?)?$")
_WHEN = re.compile(
    r"^(?:(?P<day>mon|tue|wed|thu|fri|sat|sun)\w*\s+|(?P<date>\d{4}-\d{2}-\d{2})[ T]?)?"
    r"(?P<hour>[01]?\d|2[0-3]):(?P<minute>[0-5]\d)$",
    re.I,
)


class OverrideError(ValueError):
    """A `/mentions oncall` override the user should rephrase; the message says how."""


def parse_user(token: str) -> str | None:
    match = _USER.match(token.strip())
    return (match.group(1) or match.group(2)) if match else None


def parse_override(words: list[str], now: datetime, tz: str) -> tuple[str, datetime | None]:
    """['<@U1|ann>', 'for', '8h'] -> ('U1', now + 8 h). The end is None when no time was
    given (the caller uses the next handover)."""
    if not words:
        raise OverrideError("Say who: `/mentions oncall @someone [for 8h | until mon 09:00]`.")
    user = parse_user(words[0])
    if user is None:
        raise OverrideError(
            f"I can't tell who {words[0]!r} is: pick them from the @ menu so Slack sends "
            "their user ID."
        )
    rest = [w.lower() for w in words[1:]]
    if not rest:
        return user, None
    if rest[0] == "for" and len(rest) == 2:
        match = _DURATION.match(rest[1])
        if match and any(match.groups()):
            d, h, m = (int(g or 0) for g in match.groups())
            length = timedelta(days=d, hours=h, minutes=m)
            if timedelta(0) < length <= MAX_OVERRIDE:
                return user, now + length
        raise OverrideError(
            f"`for {rest[1]}` is not a length I know: try `for 8h`, `for 90m` or `for 2d` "
            "(at most 90 days)."
        )
    if rest[0] == "until" and len(rest) >= 2:
        end = _until(" ".join(rest[1:]), now, ZoneInfo(tz))
        if end is not None and now < end <= now + MAX_OVERRIDE:
            return user, end
        raise OverrideError(
            f"`until {' '.join(rest[1:])}` is not a time I can use: try `until mon 09:00`, "
            f"`until 18:00` or `until 2026-12-01 09:00` ({tz}), within 90 days."
        )
    raise OverrideError(
        "Add how long: `/mentions oncall @someone for 8h` or `... until mon 09:00`."
    )


def _until(text: str, now: datetime, tz: ZoneInfo) -> datetime | None:
    match = _WHEN.match(text.strip())
    if not match:
        return None
    clock = time(int(match["hour"]), int(match["minute"]))
    local_now = now.astimezone(tz)
    if match["date"]:
        try:
            day = date.fromisoformat(match["date"])
        except ValueError:
            return None
        return datetime.combine(day, clock).replace(tzinfo=tz).astimezone(UTC)
    day = local_now.date()
    if match["day"]:
        wanted = DAYS.index(match["day"][:3].lower())
        day += timedelta(days=(wanted - day.weekday()) % 7)
    moment = datetime.combine(day, clock).replace(tzinfo=tz)
    if moment <= local_now:  # the next such time, never one already past
        moment = datetime.combine(day + timedelta(days=7 if match["day"] else 1), clock).replace(
            tzinfo=tz
        )
    return moment.astimezone(UTC)


def load(settings, store, now: datetime) -> tuple[date, list[Override]]:
    """The rotation's start date and the live overrides, read from the database."""
    from storage import escalation as esc_store

    start = start_date(settings.oncall, store.meta("created_at"), now)
    rows = esc_store.overrides(store, ending_after=now)
    return start, [Override.from_row(r) for r in rows]


def current(settings, store, now: datetime) -> OnCallNow:
    start, live = load(settings, store, now)
    return on_call(settings.oncall, start, live, now)
