"""Settings: one TOML file (`mentionops.toml`) plus the environment, as one frozen object.

Secrets come from the environment only and never appear in `repr`. `Settings.load` collects
every problem before it gives up, so `mentionops check-config` can name all of them at once.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.replies import CATEGORIES, PLACEHOLDERS, Voice, placeholders

DEFAULT_CONFIG = "mentionops.toml"
DEFAULT_DB = "mentionops.db"

# Each platform: its default base URL and the environment variables it needs.
SOURCE_DEFAULTS: dict[str, dict[str, Any]] = {
    "hackernews": {"base_url": "https://hn.algolia.com/api/v1", "needs": ()},
    "bluesky": {
        "base_url": "https://bsky.social",
        "needs": ("BLUESKY_HANDLE", "BLUESKY_APP_PASSWORD"),
    },
    "mastodon": {"base_url": "https://mastodon.social", "needs": ()},
    "x": {"base_url": "https://api.x.com", "needs": ("X_BEARER_TOKEN",)},
    "reddit": {
        "base_url": "https://oauth.reddit.com",
        "needs": ("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET"),
    },
    "rss": {"base_url": "", "needs": ()},
    "replay": {"base_url": "", "needs": ()},
}
COMMON_SOURCE_KEYS = {
    "enabled",
    "interval_seconds",
    "base_url",
    "lookback_minutes",
    "failure_threshold",
    "silence_hours",
    "queries",
}
SOURCE_KEYS: dict[str, set[str]] = {
    "hackernews": set(),
    "bluesky": set(),
    "mastodon": {"hashtags"},
    "x": {"max_posts_per_hour"},
    "reddit": {"token_url", "subreddits", "user_agent"},
    "rss": {"feeds"},
    "replay": {"path"},
}
SECRET_ENV = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "X_BEARER_TOKEN",
    "BLUESKY_APP_PASSWORD",
    "MASTODON_ACCESS_TOKEN",
    "REDDIT_CLIENT_SECRET",
    "PAGERDUTY_ROUTING_KEY",
)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ConfigError(Exception):
    """The config file or environment has problems; `problems` lists each one, fix-first."""

    def __init__(self, problems: list[str], settings: Settings | None = None):
        self.problems = problems
        # What could be read despite the problems (None when the file itself is unreadable):
        # check-config still names the environment's problems from it.
        self.settings = settings
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Brand:
    name: str
    terms: tuple[str, ...]
    handles: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class SlackConfig:
    alert_channel: str = ""
    escalation_channel: str = ""
    managers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Triage:
    urgency_threshold: int = 60
    sla_minutes: int = 20
    followup_minutes: int = 120
    # Extra cue phrases with their weight (0-100), muted phrases and the brand's product names.
    cues: tuple[tuple[str, int], ...] = ()
    muted: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    # Storm mode: urgent alerts per 10 minutes at least `storm_factor` times the average of
    # the `storm_baseline_hours` before, and at least `storm_min_mentions` (0 turns it off).
    storm_factor: float = 4.0
    storm_min_mentions: int = 10
    storm_baseline_hours: int = 24


@dataclass(frozen=True)
class OnCall:
    rotation: tuple[str, ...] = ()
    handoff: str = "mon 09:00"
    timezone: str = "UTC"
    start: str | None = None
    period: str = "weekly"  # "weekly" or "daily"
    usergroup: str = ""  # a Slack user group (S...) kept in sync with who is on call


SEVERITIES = ("SEV1", "SEV2", "SEV3")  # SEV1 is the most severe


@dataclass(frozen=True)
class EscalationConfig:
    """`[escalation]`: levels, per-source and per-severity SLAs, quiet hours, PagerDuty."""

    levels: int = 2  # 0: no automatic escalation; 1: on-call only; 2: then the managers
    l2_after_minutes: int | None = None  # None: twice the mention's SLA
    followup_repeat_minutes: int = 60  # 0: one reminder only
    quiet_hours: str = ""  # "20:00-08:00" in [oncall] timezone; "" = none
    quiet_min_urgency: int = 80
    sla_by_source: tuple[tuple[str, int], ...] = ()
    sla_by_severity: tuple[tuple[str, int], ...] = ()
    pagerduty_min_severity: str = "SEV2"
    pagerduty_url: str = "https://events.pagerduty.com"


@dataclass(frozen=True)
class DigestConfig:
    """`[digest]`: yesterday's summary posted once a day (and a weekly one with a chart)."""

    enabled: bool = False  # on when the [digest] table is present, unless enabled = false
    channel: str = ""
    time: str = "09:00"  # local time in `timezone`
    timezone: str = "UTC"  # default: [oncall] timezone
    weekly_day: str = "mon"  # "" for no weekly digest


@dataclass(frozen=True)
class SourceConfig:
    name: str
    enabled: bool = True
    interval_seconds: int = 300
    base_url: str = ""
    lookback_minutes: int = 60
    failure_threshold: int = 3
    silence_hours: int = 24
    queries: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        return self.options.get(key, default)


@dataclass(frozen=True)
class Secrets:
    """Environment values; `repr` shows which are set, never what they are."""

    values: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        value = self.values.get(name)
        return value or None

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}=***" for k in sorted(self.values) if self.values[k])
        return f"Secrets({shown})"


@dataclass(frozen=True)
class Settings:
    brand: Brand
    slack: SlackConfig
    triage: Triage
    oncall: OnCall
    sources: dict[str, SourceConfig]
    secrets: Secrets
    slack_api_url: str | None
    db_path: str
    config_path: str | None
    escalation: EscalationConfig = field(default_factory=EscalationConfig)
    replies: Voice = Voice()
    digest: DigestConfig = field(default_factory=DigestConfig)

    @classmethod
    def load(
        cls,
        environ: dict[str, str] | None = None,
        path: str | os.PathLike | None = None,
        *,
        db_path: str | None = None,
    ) -> Settings:
        """Read the config file (path, else $MENTIONOPS_CONFIG, else ./mentionops.toml) and the
        environment. Raises ConfigError listing every problem found."""
        env = dict(os.environ if environ is None else environ)
        config_path = str(path or env.get("MENTIONOPS_CONFIG") or DEFAULT_CONFIG)
        try:
            with open(config_path, "rb") as fh:
                raw = tomllib.load(fh)
        except FileNotFoundError:
            raise ConfigError(
                [
                    f"{config_path}: config file not found. Copy the example from the README "
                    "or set MENTIONOPS_CONFIG to its path."
                ]
            ) from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError([f"{config_path}: not valid TOML: {exc}"]) from None
        except OSError as exc:
            raise ConfigError([f"{config_path}: cannot read the config file: {exc}"]) from None
        settings, problems = from_mapping(raw, env, config_path=config_path, db_path=db_path)
        if problems:
            raise ConfigError([f"{config_path}: {p}" for p in problems], settings)
        return settings

    def source_secrets_missing(self, name: str) -> list[str]:
        """Environment variables a source needs that are not set."""
        needs = SOURCE_DEFAULTS.get(name, {}).get("needs", ())
        return [var for var in needs if not self.secrets.get(var)]

    def enabled_sources(self) -> list[SourceConfig]:
        return [s for s in self.sources.values() if s.enabled]

    def queries_for(self, source: SourceConfig) -> tuple[str, ...]:
        return source.queries or self.brand.terms

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.oncall.timezone)


def missing_environment(settings: Settings, *, serving: bool) -> list[str]:
    """Problems with the environment: what `run` needs and what enabled sources need."""
    problems = []
    if serving:
        if not settings.secrets.get("SLACK_BOT_TOKEN"):
            problems.append(
                "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-...) from "
                "your Slack app's OAuth & Permissions page."
            )
        if not settings.secrets.get("SLACK_APP_TOKEN") and not settings.secrets.get(
            "SLACK_SIGNING_SECRET"
        ):
            problems.append(
                "Set SLACK_APP_TOKEN (xapp-..., Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode): "
                "both are on your Slack app's Basic Information page."
            )
    for source in settings.enabled_sources():
        for var in settings.source_secrets_missing(source.name):
            problems.append(
                f"[sources.{source.name}] is enabled but {var} is not set; that source will be "
                "skipped until it is."
            )
    return problems


# --- parsing -------------------------------------------------------------------------------


class _Reader:
    """Reads one TOML table, recording problems instead of raising."""

    def __init__(self, table: dict, where: str, problems: list[str]):
        self.table = table if isinstance(table, dict) else {}
        self.where = where
        self.problems = problems
        if not isinstance(table, dict):
            problems.append(f"[{where}] must be a table")

    def unknown(self, allowed: set[str]) -> None:
        for key in self.table:
            if key not in allowed:
                hint = _closest(key, allowed)
                extra = f" (did you mean {hint!r}?)" if hint else ""
                self.problems.append(f"[{self.where}] unknown key {key!r}{extra}")

    def _bad(self, key: str, what: str) -> None:
        self.problems.append(f"[{self.where}] {key} must be {what}")

    def string(self, key: str, default: str = "", *, required: bool = False) -> str:
        value = self.table.get(key)
        if value is None:
            if required:
                self.problems.append(f"[{self.where}] {key} is required")
            return default
        if not isinstance(value, str):
            self._bad(key, "a string")
            return default
        return value

    def strings(self, key: str, default: tuple = (), *, required: bool = False) -> tuple[str, ...]:
        value = self.table.get(key)
        if value is None:
            if required:
                self.problems.append(f"[{self.where}] {key} is required")
            return default
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self._bad(key, "a list of strings")
            return default
        return tuple(v.strip() for v in value if v.strip())

    def integer(
        self, key: str, default: int, *, low: int | None = None, high: int | None = None
    ) -> int:
        value = self.table.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self._bad(key, "a whole number")
            return default
        if (low is not None and value < low) or (high is not None and value > high):
            if high is None:
                self._bad(key, f"at least {low}")
            else:
                self._bad(key, f"between {low} and {high}")
            return default
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.table.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self._bad(key, "true or false")
            return default
        return value


def _closest(key: str, allowed: set[str]) -> str | None:
    import difflib

    match = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.7)
    return match[0] if match else None


_SLACK_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_HANDOFF = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun)\s+([01]?\d|2[0-3]):([0-5]\d)$", re.I)


def parse_handoff(text: str) -> tuple[int, int, int]:
    """'mon 09:00' -> (weekday 0-6, hour, minute)."""
    match = _HANDOFF.match(text.strip())
    if not match:
        raise ValueError(text)
    return DAYS.index(match.group(1).lower()), int(match.group(2)), int(match.group(3))


_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_USERGROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")
ESCALATION_KEYS = {
    "levels",
    "l2_after_minutes",
    "followup_repeat_minutes",
    "quiet_hours",
    "quiet_min_urgency",
    "sla_by_source",
    "sla_by_severity",
    "pagerduty_min_severity",
    "pagerduty_url",
}


def _escalation(table: Any, problems: list[str]) -> EscalationConfig:
    """[escalation]: every key optional; see EscalationConfig for the defaults."""
    e = _Reader(table, "escalation", problems)
    e.unknown(ESCALATION_KEYS)
    quiet = e.string("quiet_hours").strip()
    if quiet:
        begin, _, end = quiet.partition("-")
        if not (_CLOCK.match(begin.strip()) and _CLOCK.match(end.strip())):
            problems.append(f'[escalation] quiet_hours must look like "20:00-08:00", not {quiet!r}')
            quiet = ""
    l2_after = None
    if e.table.get("l2_after_minutes") is not None:
        l2_after = e.integer("l2_after_minutes", 0, low=1) or None
    severity = e.string("pagerduty_min_severity", "SEV2").upper()
    if severity not in SEVERITIES:
        problems.append(
            f"[escalation] pagerduty_min_severity must be one of {', '.join(SEVERITIES)}, "
            f"not {severity!r}"
        )
        severity = "SEV2"
    url = e.string("pagerduty_url", "https://events.pagerduty.com").rstrip("/")
    if not url.startswith(("http://", "https://")):
        problems.append("[escalation] pagerduty_url must start with http:// or https://")
    return EscalationConfig(
        levels=e.integer("levels", 2, low=0, high=2),
        l2_after_minutes=l2_after,
        followup_repeat_minutes=e.integer("followup_repeat_minutes", 60, low=0),
        quiet_hours=quiet,
        quiet_min_urgency=e.integer("quiet_min_urgency", 80, low=0, high=100),
        sla_by_source=_minutes_table(e, "sla_by_source", set(SOURCE_DEFAULTS)),
        sla_by_severity=_minutes_table(e, "sla_by_severity", set(SEVERITIES)),
        pagerduty_min_severity=severity,
        pagerduty_url=url,
    )


def _minutes_table(r: _Reader, key: str, names: set[str]) -> tuple[tuple[str, int], ...]:
    value = r.table.get(key, {})
    if not isinstance(value, dict):
        r.problems.append(f"[escalation] {key} must be a table of name = minutes, like {{x = 20}}")
        return ()
    out = []
    for name, minutes in value.items():
        wanted = name.upper() if key == "sla_by_severity" else name
        if wanted not in names:
            r.problems.append(
                f"[escalation] {key}: unknown {name!r}; known: {', '.join(sorted(names))}"
            )
        elif isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 1:
            r.problems.append(f"[escalation] {key}: {name} must be a whole number of minutes, 1+")
        else:
            out.append((wanted, minutes))
    return tuple(out)


def from_mapping(
    raw: dict, env: dict[str, str], *, config_path: str | None = None, db_path: str | None = None
) -> tuple[Settings, list[str]]:
    """Build Settings from a decoded TOML mapping; returns (settings, problems)."""
    problems: list[str] = []
    top = {"brand", "slack", "triage", "oncall", "escalation", "sources", "replies", "digest"}
    for key in raw:
        if key not in top:
            hint = _closest(key, top)
            problems.append(
                f"unknown table [{key}]" + (f" (did you mean [{hint}]?)" if hint else "")
            )

    b = _Reader(raw.get("brand", {}), "brand", problems)
    b.unknown({"name", "terms", "handles", "exclude"})
    if "brand" not in raw:
        problems.append("[brand] is required: name the brand and the terms to watch for")
    terms = b.strings("terms", required="brand" in raw)
    listed = b.table.get("terms")
    if isinstance(listed, list) and all(isinstance(t, str) for t in listed) and not terms:
        problems.append("[brand] terms must list at least one term")
    brand = Brand(
        name=b.string("name", required="brand" in raw),
        terms=tuple(dict.fromkeys(t.lower() for t in terms)),
        handles=tuple(h.lower().lstrip("@") for h in b.strings("handles")),
        exclude=tuple(e.lower() for e in b.strings("exclude")),
    )

    s = _Reader(raw.get("slack", {}), "slack", problems)
    s.unknown({"alert_channel", "escalation_channel", "managers"})
    alert_channel = s.string("alert_channel", required=True)
    escalation_channel = s.string("escalation_channel")
    for key, value in (
        ("alert_channel", alert_channel),
        ("escalation_channel", escalation_channel),
    ):
        if value and not _SLACK_ID.match(value):
            problems.append(
                f"[slack] {key} must be a channel ID like C0123ABCD (in Slack: channel name > "
                f"About > Channel ID), not {value!r}"
            )
    managers = s.strings("managers")
    for user in managers:
        if not _USER_ID.match(user):
            problems.append(f"[slack] managers: {user!r} is not a user ID like U0123ABCD")
    slack = SlackConfig(alert_channel, escalation_channel, managers)

    t = _Reader(raw.get("triage", {}), "triage", problems)
    t.unknown(
        {
            "urgency_threshold",
            "sla_minutes",
            "followup_minutes",
            "cues",
            "muted",
            "products",
            "storm_factor",
            "storm_min_mentions",
            "storm_baseline_hours",
        }
    )
    storm_factor = t.table.get("storm_factor", 4.0)
    if isinstance(storm_factor, bool) or not isinstance(storm_factor, int | float):
        problems.append("[triage] storm_factor must be a number, e.g. 4.0")
        storm_factor = 4.0
    elif not 1.0 <= storm_factor <= 100.0:
        problems.append("[triage] storm_factor must be between 1 and 100")
        storm_factor = 4.0
    cues_raw = t.table.get("cues", {})
    cues: list[tuple[str, int]] = []
    if not isinstance(cues_raw, dict):
        problems.append(
            '[triage] cues must be a table of phrase = weight, e.g. {"dead pixel" = 30}'
        )
    else:
        for phrase, weight in cues_raw.items():
            if isinstance(weight, bool) or not isinstance(weight, int) or not 0 <= weight <= 100:
                problems.append(f"[triage] cues: weight of {phrase!r} must be a whole number 0-100")
            else:
                cues.append((phrase.lower(), weight))
    triage = Triage(
        urgency_threshold=t.integer("urgency_threshold", 60, low=0, high=100),
        sla_minutes=t.integer("sla_minutes", 20, low=1),
        followup_minutes=t.integer("followup_minutes", 120, low=1),
        cues=tuple(cues),
        muted=tuple(m.lower() for m in t.strings("muted")),
        products=t.strings("products"),
        storm_factor=float(storm_factor),
        storm_min_mentions=t.integer("storm_min_mentions", 10, low=0),
        storm_baseline_hours=t.integer("storm_baseline_hours", 24, low=1, high=24 * 28),
    )

    o = _Reader(raw.get("oncall", {}), "oncall", problems)
    o.unknown({"rotation", "handoff", "timezone", "start", "period", "usergroup"})
    rotation = o.strings("rotation")
    for user in rotation:
        if not _USER_ID.match(user):
            problems.append(f"[oncall] rotation: {user!r} is not a user ID like U0123ABCD")
    period = o.string("period", "weekly")
    if period not in ("weekly", "daily"):
        problems.append(f'[oncall] period must be "weekly" or "daily", not {period!r}')
        period = "weekly"
    handoff = o.string("handoff", "mon 09:00")
    try:
        parse_handoff(handoff)
    except ValueError:
        if not (period == "daily" and _CLOCK.match(handoff.strip())):
            problems.append(f"[oncall] handoff must look like 'mon 09:00', not {handoff!r}")
    usergroup = o.string("usergroup")
    if usergroup and not _USERGROUP_ID.match(usergroup):
        problems.append(
            f"[oncall] usergroup must be a user group ID like S0123ABCD, not {usergroup!r}"
        )
    timezone = o.string("timezone", "UTC")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(
            f"[oncall] timezone {timezone!r} is not a time zone name like Europe/London"
        )
        timezone = "UTC"
    start = o.table.get("start")
    if start is not None:
        import datetime as _dt

        if isinstance(start, _dt.date):
            start = start.isoformat()
        elif isinstance(start, str):
            try:
                _dt.date.fromisoformat(start)
            except ValueError:
                problems.append(f"[oncall] start must be a date like 2026-11-30, not {start!r}")
                start = None
        else:
            problems.append("[oncall] start must be a date like 2026-11-30")
            start = None
    oncall = OnCall(rotation, handoff, timezone, start, period, usergroup)
    escalation = _escalation(raw.get("escalation", {}), problems)
    digest = _digest(raw.get("digest"), oncall.timezone, problems)

    sources: dict[str, SourceConfig] = {}
    src_table = raw.get("sources", {})
    if not isinstance(src_table, dict):
        problems.append("[sources] must be a table of [sources.NAME] tables")
        src_table = {}
    for name, table in src_table.items():
        if name not in SOURCE_DEFAULTS:
            hint = _closest(name, set(SOURCE_DEFAULTS))
            problems.append(
                f"unknown source [sources.{name}]"
                + (f" (did you mean [sources.{hint}]?)" if hint else "")
                + f"; known: {', '.join(SOURCE_DEFAULTS)}"
            )
            continue
        sources[name] = _source(name, table, problems)

    secrets = Secrets(
        {  # trimmed: a token pasted with a line break would be refused, and quoted back
            k: v.strip()
            for k, v in env.items()
            if k in SECRET_ENV
            or k.startswith("SLACK_")
            or k in ("BLUESKY_HANDLE", "REDDIT_CLIENT_ID")
        }
    )
    replies = _replies(raw.get("replies", {}), problems)
    settings = Settings(
        brand=brand,
        slack=slack,
        triage=triage,
        oncall=oncall,
        sources=sources,
        secrets=secrets,
        slack_api_url=normalise_api_url(env.get("SLACK_API_URL")),
        db_path=db_path or env.get("MENTIONOPS_DB") or DEFAULT_DB,
        config_path=config_path,
        escalation=escalation,
        replies=replies,
        digest=digest,
    )
    return settings, problems


def _replies(table: Any, problems: list[str]) -> Voice:
    """[replies]: greeting, signoff and [replies.templates] per category."""
    r = _Reader(table, "replies", problems)
    r.unknown({"greeting", "signoff", "templates"})
    texts: dict[str, str] = {}
    for key in ("greeting", "signoff"):
        value = r.string(key)
        if value:
            texts[key] = value
    templates = r.table.get("templates", {})
    if not isinstance(templates, dict):
        problems.append("[replies] templates must be a table of category = text")
        templates = {}
    own = []
    for category, text in templates.items():
        if category not in CATEGORIES:
            problems.append(
                f"[replies.templates] unknown category {category!r}; known: {', '.join(CATEGORIES)}"
            )
        elif not isinstance(text, str) or not text.strip():
            problems.append(f"[replies.templates] {category} must be a non-empty string")
        else:
            own.append((category, text))
    for where, text in [*texts.items(), *((f"templates.{c}", t) for c, t in own)]:
        try:
            unknown = placeholders(text) - PLACEHOLDERS
        except ValueError:
            problems.append(f"[replies] {where} has an unmatched {{ or }}")
            continue
        if unknown:
            problems.append(
                f"[replies] {where} uses {', '.join('{' + u + '}' for u in sorted(unknown))}; "
                "only {handle}, {name}, {agent} and {brand} are filled in"
            )
    return Voice(**texts, templates=tuple(own))


_DIGEST_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def _digest(table: Any, default_tz: str, problems: list[str]) -> DigestConfig:
    """[digest]: present means on (unless enabled = false); then a channel is required."""
    if table is None:
        return DigestConfig(timezone=default_tz)
    d = _Reader(table, "digest", problems)
    d.unknown({"enabled", "channel", "time", "timezone", "weekly_day"})
    enabled = d.boolean("enabled", True)
    channel = d.string("channel", required=enabled)
    if channel and not _SLACK_ID.match(channel):
        problems.append(
            f"[digest] channel must be a channel ID like C0123ABCD (in Slack: channel name > "
            f"About > Channel ID), not {channel!r}"
        )
    time = d.string("time", "09:00").strip()
    if not _DIGEST_TIME.match(time):
        problems.append(f"[digest] time must be a 24-hour time like '09:00', not {time!r}")
        time = "09:00"
    timezone = d.string("timezone", default_tz)
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(
            f"[digest] timezone {timezone!r} is not a time zone name like Europe/London"
        )
        timezone = default_tz
    weekly_day = d.string("weekly_day", "mon").strip().lower()
    if weekly_day and weekly_day not in DAYS:
        problems.append(
            f'[digest] weekly_day must be one of {", ".join(DAYS)} (or "" for no weekly '
            f"digest), not {weekly_day!r}"
        )
        weekly_day = "mon"
    return DigestConfig(enabled, channel, time, timezone, weekly_day)


def _source(name: str, table: Any, problems: list[str]) -> SourceConfig:
    where = f"sources.{name}"
    r = _Reader(table, where, problems)
    own = SOURCE_KEYS[name]
    r.unknown(COMMON_SOURCE_KEYS | own)
    enabled = r.boolean("enabled", True)
    base_url = r.string("base_url", SOURCE_DEFAULTS[name]["base_url"]).rstrip("/")
    if base_url and not base_url.startswith(("http://", "https://")):
        problems.append(f"[{where}] base_url must start with http:// or https://")
    options: dict[str, Any] = {}
    if name == "mastodon":
        options["hashtags"] = tuple(h.lstrip("#") for h in r.strings("hashtags"))
    elif name == "x":
        options["max_posts_per_hour"] = r.integer("max_posts_per_hour", 200, low=1)
    elif name == "reddit":
        options["token_url"] = r.string("token_url", "https://www.reddit.com/api/v1/access_token")
        options["subreddits"] = r.strings("subreddits")
        options["user_agent"] = r.string("user_agent") or None
    elif name == "rss":
        feeds = r.strings("feeds")
        for feed in feeds:
            if not feed.startswith(("http://", "https://")):
                problems.append(f"[{where}] feeds: {feed!r} must be a full http(s) URL")
        if enabled and not feeds:
            problems.append(f"[{where}] feeds must list at least one feed URL")
        options["feeds"] = feeds
    elif name == "replay":
        path = r.string("path", required=True)
        options["path"] = path
    return SourceConfig(
        name=name,
        enabled=enabled,
        interval_seconds=r.integer("interval_seconds", 300, low=10),
        base_url=base_url,
        lookback_minutes=r.integer("lookback_minutes", 60, low=1),
        failure_threshold=r.integer("failure_threshold", 3, low=1),
        silence_hours=r.integer("silence_hours", 24, low=1),
        queries=tuple(q.lower() for q in r.strings("queries")),
        options=options,
    )


def normalise_api_url(url: str | None) -> str | None:
    """SLACK_API_URL with or without a trailing slash -> always with one (slack_sdk joins)."""
    if not url:
        return None
    return url.rstrip("/") + "/"


def resolve_path(base: str | None, path: str) -> Path:
    """A path from the config file is relative to the config file's folder."""
    p = Path(path).expanduser()
    if p.is_absolute() or not base:
        return p
    return Path(base).resolve().parent / p
