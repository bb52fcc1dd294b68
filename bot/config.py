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

    def __init__(self, problems: list[str]):
        self.problems = problems
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


@dataclass(frozen=True)
class OnCall:
    rotation: tuple[str, ...] = ()
    handoff: str = "mon 09:00"
    timezone: str = "UTC"
    start: str | None = None


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
            raise ConfigError([f"{config_path}: {p}" for p in problems])
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


def from_mapping(
    raw: dict, env: dict[str, str], *, config_path: str | None = None, db_path: str | None = None
) -> tuple[Settings, list[str]]:
    """Build Settings from a decoded TOML mapping; returns (settings, problems)."""
    problems: list[str] = []
    top = {"brand", "slack", "triage", "oncall", "sources"}
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
    t.unknown({"urgency_threshold", "sla_minutes", "followup_minutes", "cues", "muted", "products"})
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
    )

    o = _Reader(raw.get("oncall", {}), "oncall", problems)
    o.unknown({"rotation", "handoff", "timezone", "start"})
    rotation = o.strings("rotation")
    for user in rotation:
        if not _USER_ID.match(user):
            problems.append(f"[oncall] rotation: {user!r} is not a user ID like U0123ABCD")
    handoff = o.string("handoff", "mon 09:00")
    try:
        parse_handoff(handoff)
    except ValueError:
        problems.append(f"[oncall] handoff must look like 'mon 09:00', not {handoff!r}")
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
    oncall = OnCall(rotation, handoff, timezone, start)

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
        {
            k: v
            for k, v in env.items()
            if k in SECRET_ENV
            or k.startswith("SLACK_")
            or k in ("BLUESKY_HANDLE", "REDDIT_CLIENT_ID")
        }
    )
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
    )
    return settings, problems


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
