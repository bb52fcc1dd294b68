"""Manager summaries: how fast are we, and what are people angry about. Pure computation.

A `Summary` covers the mentions customers posted in a `Period` (by `created_at`, their post
time), counted as things stand when it is computed. Definitions (README "Summaries"):

- **posted**: urgent mentions whose alert reached Slack (status other than `new`).
- **claimed**: mentions claimed at least once; **time to claim** runs from the customer's post
  to the *first* `claim` event, so an unclaim and a re-claim do not reset the wait.
- **resolved**: status `resolved`; **time to resolve** runs from the customer's post too.
- **escalated**: `escalation_level > 0` or `escalated_at` set. **ignored**: status `ignored`.
- **median** is the middle value (the mean of the two middle ones for an even count);
  **p90** is the nearest-rank 90th percentile (the value at rank ceil(0.9 n)).
- **within SLA**: of the posted mentions that needed a claim (not marked not urgent before one,
  and not still inside their SLA unclaimed), the share first claimed (or, unclaimed, resolved)
  within `sla_minutes` of the post.
- **by agent**: claims are the mentions someone claimed first, with the median of those
  waits; resolves are the mentions they resolved.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.models import iso, parse_time, utcnow
from storage import Store, reports
from storage import escalation as esc_store

PERIODS = ("today", "24h", "7d", "30d")
_DAYS_BACK = {"7d": 7, "30d": 30}


# --- periods -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A half-open window `[start, end)` in UTC, named and anchored in a time zone.

    `today`, `7d`, `30d`, `day` and `week` start at a local midnight, so their days are the
    team's days (23 or 25 hours long across a DST change); `24h` is a rolling 24 hours."""

    name: str  # today | 24h | 7d | 30d | day | week
    start: datetime
    end: datetime
    tz: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def previous(self) -> Period:
        """The period of the same length just before: for local-day periods, the same wall
        times that many days earlier (so yesterday-until-now for `today`)."""
        if self.name == "24h":
            span = self.end - self.start
            return Period(self.name, self.start - span, self.start, self.tz)
        back = timedelta(days=self.length_days)
        # Aware datetimes subtract in wall-clock time: 09:00 stays 09:00 across a DST change.
        return Period(
            self.name,
            (self.local(self.start) - back).astimezone(UTC),
            (self.local(self.end) - back).astimezone(UTC),
            self.tz,
        )

    @property
    def length_days(self) -> int:
        return {"today": 1, "24h": 1, "day": 1, "week": 7}.get(self.name) or _DAYS_BACK[self.name]

    def day_bounds(self) -> list[datetime]:
        """Local midnights from the start up to the end (the end itself closes the last day)."""
        bounds = [self.start]
        day = self.local(self.start).date()
        while True:
            day += timedelta(days=1)
            nxt = local_midnight(day, self.zone)
            if nxt >= self.end:
                break
            bounds.append(nxt)
        return [*bounds, self.end]

    def to_value(self) -> str:
        """A compact form for a button value: the period is recomputed exactly on click."""
        return f"{self.name}|{iso(self.start)}|{iso(self.end)}|{self.tz}"

    @classmethod
    def from_value(cls, value: str) -> Period:
        name, start, end, tz = value.split("|")
        if name not in (*PERIODS, "day", "week"):
            raise ValueError(name)
        return cls(name, parse_time(start), parse_time(end), str(ZoneInfo(tz)))


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def period_for(name: str, now: datetime, tz: str) -> Period:
    """`today`, `24h`, `7d` (today and the 6 days before) or `30d`, ending now."""
    zone = ZoneInfo(tz)
    now = now.astimezone(UTC).replace(microsecond=0)
    if name == "24h":
        return Period(name, now - timedelta(hours=24), now, tz)
    today = now.astimezone(zone).date()
    back = 0 if name == "today" else _DAYS_BACK[name] - 1
    return Period(name, local_midnight(today - timedelta(days=back), zone), now, tz)


def day_period(day: date, tz: str) -> Period:
    """One whole local day (the daily digest's period)."""
    zone = ZoneInfo(tz)
    return Period(
        "day", local_midnight(day, zone), local_midnight(day + timedelta(days=1), zone), tz
    )


def week_period(first: date, tz: str) -> Period:
    """Seven whole local days from `first` (the weekly digest's period)."""
    zone = ZoneInfo(tz)
    return Period(
        "week", local_midnight(first, zone), local_midnight(first + timedelta(days=7), zone), tz
    )


# --- figures -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Breakdown:
    """One line of a by-source or by-category table."""

    name: str
    seen: int
    urgent: int
    claimed: int = 0


@dataclass(frozen=True)
class AgentFigures:
    user: str
    claims: int
    resolves: int
    claim_median: float | None  # seconds


@dataclass(frozen=True)
class DayFigures:
    day: date
    seen: int
    urgent: int
    claim_median: float | None  # seconds


@dataclass(frozen=True)
class Summary:
    period: Period
    generated_at: datetime
    seen: int
    urgent: int
    posted: int
    claimed: int
    resolved: int
    escalated: int
    ignored: int
    claim_median: float | None  # seconds, here and below
    claim_p90: float | None
    resolve_median: float | None
    resolve_p90: float | None
    sla_minutes: int
    sla_met: int
    sla_due: int
    by_source: tuple[Breakdown, ...] = ()
    by_category: tuple[Breakdown, ...] = ()
    by_agent: tuple[AgentFigures, ...] = ()
    oldest_unclaimed: dict | None = None
    top_terms: tuple[tuple[str, int], ...] = ()
    days: tuple[DayFigures, ...] = ()
    previous: Summary | None = field(default=None, repr=False)
    # Claims still unresolved after [triage] followup_minutes, as of now (not per period).
    overdue_claims: int = 0
    overdue_after_minutes: int = 0

    @property
    def sla_share(self) -> float | None:
        return self.sla_met / self.sla_due if self.sla_due else None

    def agent(self, user: str) -> AgentFigures:
        for figures in self.by_agent:
            if figures.user == user:
                return figures
        return AgentFigures(user, 0, 0, None)


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def p90(values: list[float]) -> float | None:
    """Nearest-rank 90th percentile: the value at rank ceil(0.9 n) of the sorted values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def compute(
    store: Store,
    period: Period,
    *,
    sla_minutes: int,
    now: datetime | None = None,
    ignore_terms: Iterable[str] = (),
    compare: bool = True,
    series: bool = False,
    clock: Callable[[], datetime] = utcnow,
) -> Summary:
    """The summary of `period`; with `compare`, also the previous period's headline figures;
    with `series`, per-day figures for a chart."""
    now = now or clock()
    seen_by_source = reports.seen_by(store, "source", period.start, period.end)
    rows = reports.urgent_rows(store, period.start, period.end, text=compare)
    sla = sla_minutes * 60

    claim_waits = [max(0, r["claim_seconds"]) for r in rows if r["claim_seconds"] is not None]
    resolve_waits = [max(0, r["resolve_seconds"]) for r in rows if r["resolve_seconds"] is not None]
    sla_met = sla_due = 0
    for r in rows:
        if r["status"] == "new":
            continue
        answered = r["claim_seconds"] if r["claim_seconds"] is not None else r["resolve_seconds"]
        if answered is not None:
            sla_due += 1
            sla_met += answered <= sla
        elif r["status"] == "ignored":
            continue  # marked not urgent before anyone claimed it
        elif now - parse_time(r["created_at"]) >= timedelta(seconds=sla):
            sla_due += 1  # still unclaimed and past its SLA

    summary = Summary(
        period=period,
        generated_at=now,
        seen=sum(seen_by_source.values()),
        urgent=len(rows),
        posted=sum(r["status"] != "new" for r in rows),
        claimed=len(claim_waits),
        resolved=sum(r["status"] == "resolved" for r in rows),
        escalated=sum((r["escalation_level"] or 0) > 0 or bool(r["escalated_at"]) for r in rows),
        ignored=sum(r["status"] == "ignored" for r in rows),
        claim_median=median(claim_waits),
        claim_p90=p90(claim_waits),
        resolve_median=median(resolve_waits),
        resolve_p90=p90(resolve_waits),
        sla_minutes=sla_minutes,
        sla_met=sla_met,
        sla_due=sla_due,
    )
    if not compare:
        return summary

    agents: dict[str, list] = defaultdict(lambda: [0, 0, []])
    for r in rows:
        if r["claim_seconds"] is not None and r["first_claim_by"]:
            agents[r["first_claim_by"]][0] += 1
            agents[r["first_claim_by"]][2].append(max(0, r["claim_seconds"]))
        if r["status"] == "resolved" and r["resolved_by"]:
            agents[r["resolved_by"]][1] += 1
    by_agent = sorted(
        (AgentFigures(user, c, s, median(w)) for user, (c, s, w) in agents.items()),
        key=lambda a: (-a.claims, -a.resolves, a.user),
    )
    days: tuple[DayFigures, ...] = ()
    if series:
        bounds = period.day_bounds()
        urgent_by_day: Counter[date] = Counter()
        waits_by_day: dict[date, list[int]] = defaultdict(list)
        for r in rows:
            day = period.local(parse_time(r["created_at"])).date()
            urgent_by_day[day] += 1
            if r["claim_seconds"] is not None:
                waits_by_day[day].append(max(0, r["claim_seconds"]))
        days = tuple(
            DayFigures(day, total, urgent_by_day[day], median(waits_by_day.get(day, [])))
            for day, total in zip(
                (period.local(b).date() for b in bounds),
                reports.daily_counts(store, bounds),
                strict=False,
            )
        )
    urgent_by = {"source": Counter(), "category": Counter()}
    claimed_by_source: Counter[str] = Counter()
    for r in rows:
        urgent_by["source"][r["source"]] += 1
        urgent_by["category"][r["category"]] += 1
        if r["claim_seconds"] is not None:
            claimed_by_source[r["source"]] += 1
    seen_by_category = reports.seen_by(store, "category", period.start, period.end)
    previous = compute(store, period.previous(), sla_minutes=sla_minutes, now=now, compare=False)
    return replace(
        summary,
        by_source=_breakdown(seen_by_source, urgent_by["source"], claimed_by_source),
        by_category=_breakdown(seen_by_category, urgent_by["category"], Counter()),
        by_agent=tuple(by_agent),
        oldest_unclaimed=reports.oldest_unclaimed(store),
        top_terms=top_terms((r["text"] for r in rows), ignore=ignore_terms),
        days=days,
        previous=previous,
    )


def _breakdown(
    seen: dict[str, int], urgent: Counter[str], claimed: Counter[str]
) -> tuple[Breakdown, ...]:
    lines = [Breakdown(name, n, urgent[name], claimed[name]) for name, n in seen.items()]
    return tuple(sorted(lines, key=lambda b: (-b.urgent, -b.seen, b.name)))


# --- complaint terms -----------------------------------------------------------------------

_URL = re.compile(r"https?://\S+|www\.\S+|[@]\w+")
_WORD = re.compile(r"[^\W\d_]{3,}")
_STOPWORDS_TEXT = """
    the and for are but not you your yours all any can had her was one our out has have him his
    how its let may new now old see two way who did get got just like this that with from they
    them then than there their what when where which while will would could should been being
    into onto over under again still very really some such only also even ever more most much
    many other same own too off about after before because between both each few here nor once
    she thing things out why yes yet via per within without against during until above below
    don didn doesn isn wasn weren won aren couldn shouldn wouldn haven hasn hadn ive i'm im
    youre theyre cant dont wont lol omg pls please thanks thank anyone someone something anything
    every everything nothing today yesterday tomorrow day days week time times hour hours minutes
    know think want need make made going gonna said says say tell told back well good great
    der die das und ist nicht mit ich ein eine von den dem des sie wir auf für
    que los las por con una para del est pas les des une est pour dans avec sur
"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())


def top_terms(
    texts: Iterable[str], *, ignore: Iterable[str] = (), limit: int = 10, min_count: int = 2
) -> tuple[tuple[str, int], ...]:
    """The words most urgent mentions share: each counted once per mention (one long rant
    does not outweigh ten customers), stop words and the brand's own terms left out."""
    skip = set(STOPWORDS)
    for term in ignore:
        skip.update(_WORD.findall(term.lower()))
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(
            {w for w in _WORD.findall(_URL.sub(" ", text or "").lower()) if w not in skip}
        )
    ranked = sorted(
        ((w, n) for w, n in counts.items() if n >= min_count), key=lambda x: (-x[1], x[0])
    )
    return tuple(ranked[:limit])


def for_settings(
    store: Store, settings, period: Period, *, now: datetime, series: bool = False
) -> Summary:
    """`compute` with the config's SLA, and the brand's own names left out of the terms."""
    brand = settings.brand
    summary = compute(
        store,
        period,
        sla_minutes=settings.triage.sla_minutes,
        now=now,
        ignore_terms=(brand.name, *brand.terms, *brand.handles),
        series=series,
    )
    followup = settings.triage.followup_minutes
    overdue = esc_store.overdue_claims(store, now - timedelta(minutes=followup))
    return replace(summary, overdue_claims=len(overdue), overdue_after_minutes=followup)
