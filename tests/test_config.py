"""bot/config.py: the TOML file and the environment, as one frozen Settings object."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.config import (
    Brand,
    ConfigError,
    OnCall,
    Secrets,
    Settings,
    SlackConfig,
    SourceConfig,
    Triage,
    missing_environment,
    normalise_api_url,
    parse_handoff,
)

# The example from DESIGN.md, with every source table it documents.
EXAMPLE = """
[brand]
name = "Acme"
terms = ["acme", "Acme Corp"]          # matched case-insensitively as words
handles = ["@acme", "AcmeSupport"]     # the brand's own accounts: their posts are never alerts
exclude = ["Acme Anvil"]               # a mention containing one of these is dropped

[slack]
alert_channel = "C0ALERTS"
escalation_channel = "C0ONCALL"
managers = ["U0MANAGER"]

[triage]
urgency_threshold = 60
sla_minutes = 20
followup_minutes = 120

[oncall]
rotation = ["U0ALICE", "U0BOB"]
handoff = "mon 09:00"
timezone = "Europe/London"

[sources.hackernews]
enabled = true
interval_seconds = 300
base_url = "https://hn.algolia.com/api/v1"

[sources.bluesky]
base_url = "https://bsky.social"

[sources.mastodon]
base_url = "https://mastodon.social/"
hashtags = ["#acme", "acmecorp"]

[sources.x]
base_url = "https://api.x.com"
max_posts_per_hour = 200
lookback_minutes = 15
failure_threshold = 5
silence_hours = 48

[sources.reddit]
base_url = "https://oauth.reddit.com"
token_url = "https://www.reddit.com/api/v1/access_token"
subreddits = []

[sources.rss]
feeds = ["https://www.google.com/alerts/feeds/0000/1111"]

[sources.replay]
enabled = false
path = "mentions.jsonl"
"""

SECRET_VALUES = {
    "SLACK_BOT_TOKEN": "xoxb-bot-token-value-1234",
    "SLACK_APP_TOKEN": "xapp-app-token-value-5678",
    "SLACK_SIGNING_SECRET": "signing-secret-value-9abc",
    "X_BEARER_TOKEN": "x-bearer-value-def0",
    "BLUESKY_APP_PASSWORD": "bsky-password-value-1111",
    "REDDIT_CLIENT_SECRET": "reddit-secret-value-2222",
    "MASTODON_ACCESS_TOKEN": "mastodon-token-value-3333",
    "PAGERDUTY_ROUTING_KEY": "pagerduty-key-value-4444",
}


def write(tmp_path: Path, text: str, name: str = "mentionops.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_for(tmp_path: Path, text: str, environ: dict | None = None) -> list[str]:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        Settings.load(environ=environ or {}, path=path)
    assert str(info.value) == "\n".join(info.value.problems)
    prefix = f"{path}: "
    assert all(p.startswith(prefix) for p in info.value.problems)
    return [p[len(prefix) :] for p in info.value.problems]


MINIMAL = """
[brand]
name = "Acme"
terms = ["acme"]
[slack]
alert_channel = "C0ALERTS"
"""


# --- the example config ----------------------------------------------------------------------


def test_example_config_every_field(tmp_path):
    path = write(tmp_path, EXAMPLE)
    settings = Settings.load(environ={}, path=path)
    assert settings.brand == Brand(
        name="Acme",
        terms=("acme", "acme corp"),
        handles=("acme", "acmesupport"),
        exclude=("acme anvil",),
    )
    assert settings.slack == SlackConfig(
        alert_channel="C0ALERTS", escalation_channel="C0ONCALL", managers=("U0MANAGER",)
    )
    assert settings.triage == Triage(
        urgency_threshold=60, sla_minutes=20, followup_minutes=120, cues=(), muted=(), products=()
    )
    assert settings.oncall == OnCall(
        rotation=("U0ALICE", "U0BOB"), handoff="mon 09:00", timezone="Europe/London", start=None
    )
    defaults = {"lookback_minutes": 60, "failure_threshold": 3, "silence_hours": 24}
    assert settings.sources == {
        "hackernews": SourceConfig(
            name="hackernews",
            enabled=True,
            interval_seconds=300,
            base_url="https://hn.algolia.com/api/v1",
            **defaults,
            options={},
        ),
        "bluesky": SourceConfig(
            name="bluesky",
            interval_seconds=300,
            base_url="https://bsky.social",
            **defaults,
            options={},
        ),
        "mastodon": SourceConfig(
            name="mastodon",
            base_url="https://mastodon.social",
            **defaults,
            options={"hashtags": ("acme", "acmecorp")},
        ),
        "x": SourceConfig(
            name="x",
            base_url="https://api.x.com",
            lookback_minutes=15,
            failure_threshold=5,
            silence_hours=48,
            options={"max_posts_per_hour": 200},
        ),
        "reddit": SourceConfig(
            name="reddit",
            base_url="https://oauth.reddit.com",
            **defaults,
            options={
                "token_url": "https://www.reddit.com/api/v1/access_token",
                "subreddits": (),
                "user_agent": None,
            },
        ),
        "rss": SourceConfig(
            name="rss",
            base_url="",
            **defaults,
            options={"feeds": ("https://www.google.com/alerts/feeds/0000/1111",)},
        ),
        "replay": SourceConfig(
            name="replay",
            enabled=False,
            base_url="",
            **defaults,
            options={"path": "mentions.jsonl"},
        ),
    }
    assert settings.secrets == Secrets({})
    assert settings.slack_api_url is None
    assert settings.db_path == "mentionops.db"
    assert settings.config_path == str(path)
    assert [s.name for s in settings.enabled_sources()] == [
        "hackernews",
        "bluesky",
        "mastodon",
        "x",
        "reddit",
        "rss",
    ]
    assert settings.queries_for(settings.sources["x"]) == ("acme", "acme corp")
    assert str(settings.tz) == "Europe/London"


def test_settings_are_frozen(tmp_path):
    settings = Settings.load(environ={}, path=write(tmp_path, MINIMAL))
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.db_path = "other.db"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.brand.terms = ()  # type: ignore[misc]


def test_minimal_config_defaults(tmp_path):
    settings = Settings.load(environ={}, path=write(tmp_path, MINIMAL))
    assert (settings.brand, settings.slack, settings.triage, settings.oncall, settings.sources) == (
        Brand(name="Acme", terms=("acme",)),
        SlackConfig(alert_channel="C0ALERTS"),
        Triage(),
        OnCall(rotation=(), handoff="mon 09:00", timezone="UTC", start=None),
        {},
    )


def test_source_queries_and_triage_extras(tmp_path):
    text = MINIMAL + (
        '[triage]\ncues = {"Dead Pixel" = 30}\nmuted = ["Giveaway"]\nproducts = ["Anvil 3000"]\n'
        '[oncall]\nstart = 2026-11-30\n[sources.hackernews]\nqueries = ["Acme Cloud"]\n'
        'base_url = "http://127.0.0.1:9999/"\ninterval_seconds = 10\n'
    )
    settings = Settings.load(environ={}, path=write(tmp_path, text))
    assert settings.triage == Triage(
        cues=(("dead pixel", 30),), muted=("giveaway",), products=("Anvil 3000",)
    )
    assert settings.oncall.start == "2026-11-30"
    hn = settings.sources["hackernews"]
    assert (hn.queries, hn.base_url, hn.interval_seconds) == (
        ("acme cloud",),
        "http://127.0.0.1:9999",
        10,
    )
    assert settings.queries_for(hn) == ("acme cloud",)


# --- every problem at once -----------------------------------------------------------------

BAD = """
[brand]
name = "Acme"
terms = ["acme"]
colour = "red"

[slack]
alert_channel = "general"
escalation_channel = "#oncall"
managers = ["bob", "U0OK", "u0lower"]
chanel = "C0X"

[triage]
urgency_treshold = 60
urgency_threshold = 150
sla_minutes = "twenty"
followup_minutes = true

[oncall]
rotation = ["alice", "U0BOB"]
handoff = "monday 9am"
timezone = "Mars/Olympus"

[sources.x]
max_post_per_hour = 5
interval_seconds = 5

[sources.myspace]
enabled = true

[sources.rss]
enabled = true

[sources.replay]
enabled = true

[sources.hackernews]
enabled = "yes"
base_url = "ftp://hn"

[extra]
a = 1
"""


def test_every_problem_listed_at_once(tmp_path):
    assert problems_for(tmp_path, BAD) == [
        "unknown table [extra]",
        "[brand] unknown key 'colour'",
        "[slack] unknown key 'chanel'",
        "[slack] alert_channel must be a channel ID like C0123ABCD (in Slack: channel name > "
        "About > Channel ID), not 'general'",
        "[slack] escalation_channel must be a channel ID like C0123ABCD (in Slack: channel "
        "name > About > Channel ID), not '#oncall'",
        "[slack] managers: 'bob' is not a user ID like U0123ABCD",
        "[slack] managers: 'u0lower' is not a user ID like U0123ABCD",
        "[triage] unknown key 'urgency_treshold' (did you mean 'urgency_threshold'?)",
        "[triage] urgency_threshold must be between 0 and 100",
        "[triage] sla_minutes must be a whole number",
        "[triage] followup_minutes must be a whole number",
        "[oncall] rotation: 'alice' is not a user ID like U0123ABCD",
        "[oncall] handoff must look like 'mon 09:00', not 'monday 9am'",
        "[oncall] timezone 'Mars/Olympus' is not a time zone name like Europe/London",
        "[sources.x] unknown key 'max_post_per_hour' (did you mean 'max_posts_per_hour'?)",
        "[sources.x] interval_seconds must be at least 10",
        "unknown source [sources.myspace]; known: hackernews, bluesky, mastodon, x, reddit, "
        "rss, replay",
        "[sources.rss] feeds must list at least one feed URL",
        "[sources.replay] path is required",
        "[sources.hackernews] enabled must be true or false",
        "[sources.hackernews] base_url must start with http:// or https://",
    ]


def test_unknown_key_hints_only_for_near_misses(tmp_path):
    text = MINIMAL.replace('terms = ["acme"]', 'terms = ["acme"]\nterm = ["x"]\nzzz = 1') + (
        "[sources.mastadon]\n[slak]\n"
    )
    assert problems_for(tmp_path, text) == [
        "unknown table [slak] (did you mean [slack]?)",
        "[brand] unknown key 'term' (did you mean 'terms'?)",
        "[brand] unknown key 'zzz'",
        "unknown source [sources.mastadon] (did you mean [sources.mastodon]?); known: "
        "hackernews, bluesky, mastodon, x, reddit, rss, replay",
    ]


@pytest.mark.parametrize(
    "table, problem",
    [
        ('[brand]\nname = 3\nterms = ["acme"]', "[brand] name must be a string"),
        ('[brand]\nname = "Acme"\nterms = ["acme", 1]', "[brand] terms must be a list of strings"),
        ('[brand]\nname = "Acme"\nterms = []', "[brand] terms must list at least one term"),
        ('[brand]\nterms = ["acme"]', "[brand] name is required"),
        ('[brand]\nname = "Acme"', "[brand] terms is required"),
        ("", "[brand] is required: name the brand and the terms to watch for"),
    ],
)
def test_brand_problems(tmp_path, table, problem):
    assert problems_for(tmp_path, table + '\n[slack]\nalert_channel = "C0ALERTS"\n') == [problem]


def test_missing_alert_channel(tmp_path):
    assert problems_for(tmp_path, '[brand]\nname = "Acme"\nterms = ["acme"]\n') == [
        "[slack] alert_channel is required"
    ]


@pytest.mark.parametrize(
    "extra, problem",
    [
        (
            "[triage]\nurgency_threshold = -1",
            "[triage] urgency_threshold must be between 0 and 100",
        ),
        ("[triage]\nurgency_threshold = 60.5", "[triage] urgency_threshold must be a whole number"),
        ("[triage]\nsla_minutes = 0", "[triage] sla_minutes must be at least 1"),
        (
            '[triage]\ncues = {"dead pixel" = 130}',
            "[triage] cues: weight of 'dead pixel' must be a whole number 0-100",
        ),
        (
            '[triage]\ncues = ["dead pixel"]',
            '[triage] cues must be a table of phrase = weight, e.g. {"dead pixel" = 30}',
        ),
        (
            '[oncall]\nhandoff = "mon 24:00"',
            "[oncall] handoff must look like 'mon 09:00', not 'mon 24:00'",
        ),
        (
            '[oncall]\ntimezone = ""',
            "[oncall] timezone '' is not a time zone name like Europe/London",
        ),
        (
            '[oncall]\nstart = "next monday"',
            "[oncall] start must be a date like 2026-11-30, not 'next monday'",
        ),
        ("[oncall]\nstart = 3", "[oncall] start must be a date like 2026-11-30"),
        ('[oncall]\nrotation = "U0ALICE"', "[oncall] rotation must be a list of strings"),
        ('sources = "x"', "[sources] must be a table of [sources.NAME] tables"),
        ("[sources]\nx = 5", "[sources.x] must be a table"),
        (
            '[sources.rss]\nenabled = "yes"\nfeeds = ["https://example.com/feed"]',
            "[sources.rss] enabled must be true or false",
        ),
        (
            "[sources.x]\nmax_posts_per_hour = 0",
            "[sources.x] max_posts_per_hour must be at least 1",
        ),
        (
            '[sources.rss]\nfeeds = ["www.example.com/feed"]',
            "[sources.rss] feeds: 'www.example.com/feed' must be a full http(s) URL",
        ),
        (
            "[sources.bluesky]\nlookback_minutes = 0",
            "[sources.bluesky] lookback_minutes must be at least 1",
        ),
        (
            "[sources.bluesky]\nsilence_hours = 1.5",
            "[sources.bluesky] silence_hours must be a whole number",
        ),
    ],
)
def test_single_problem(tmp_path, extra, problem):
    # A top-level key must come before the first table.
    text = extra + "\n" + MINIMAL if extra.startswith("sources =") else MINIMAL + extra + "\n"
    assert problems_for(tmp_path, text) == [problem]


def test_disabled_rss_needs_no_feeds(tmp_path):
    settings = Settings.load(
        environ={}, path=write(tmp_path, MINIMAL + "[sources.rss]\nenabled = false\n")
    )
    assert settings.sources["rss"].options == {"feeds": ()}
    assert settings.enabled_sources() == []


def test_missing_file_is_one_problem(tmp_path):
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as info:
        Settings.load(environ={}, path=path)
    assert info.value.problems == [
        f"{path}: config file not found. Copy the example from the README or set "
        "MENTIONOPS_CONFIG to its path."
    ]


def test_invalid_toml_is_one_problem(tmp_path):
    path = write(tmp_path, '[brand]\nname = "Acme\n')
    with pytest.raises(ConfigError) as info:
        Settings.load(environ={}, path=path)
    [problem] = info.value.problems
    assert problem.startswith(f"{path}: not valid TOML: ")
    assert "line 2" in problem


def test_undecodable_file_is_one_problem(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'[brand]\nname = "Caf\xe9"\n')
    with pytest.raises(ConfigError) as info:
        Settings.load(environ={}, path=path)
    [problem] = info.value.problems
    assert problem.startswith(f"{path}: not valid TOML: 'utf-8' codec can't decode byte 0xe9")


def test_directory_is_one_problem(tmp_path):
    with pytest.raises(ConfigError) as info:
        Settings.load(environ={}, path=tmp_path)
    [problem] = info.value.problems
    assert problem.startswith(f"{tmp_path}: cannot read the config file: ")


# --- secrets and the environment -------------------------------------------------------------


def test_secrets_never_in_repr(tmp_path):
    settings = Settings.load(
        environ={**SECRET_VALUES, "BLUESKY_HANDLE": "acme.bsky.social", "HOME": "/home/x"},
        path=write(tmp_path, EXAMPLE),
    )
    for shown in (repr(settings), repr(settings.secrets), str(settings), str(settings.secrets)):
        for value in (*SECRET_VALUES.values(), "acme.bsky.social"):
            assert value not in shown
    assert repr(settings.secrets) == (
        "Secrets(BLUESKY_APP_PASSWORD=***, BLUESKY_HANDLE=***, MASTODON_ACCESS_TOKEN=***, "
        "PAGERDUTY_ROUTING_KEY=***, REDDIT_CLIENT_SECRET=***, SLACK_APP_TOKEN=***, "
        "SLACK_BOT_TOKEN=***, SLACK_SIGNING_SECRET=***, X_BEARER_TOKEN=***)"
    )
    # Only what the bot needs is kept from the environment; values are still readable.
    assert "HOME" not in settings.secrets.values
    assert settings.secrets.get("SLACK_BOT_TOKEN") == "xoxb-bot-token-value-1234"


def test_empty_secret_counts_as_unset(tmp_path):
    settings = Settings.load(
        environ={"SLACK_BOT_TOKEN": "", "SLACK_APP_TOKEN": "xapp-1"}, path=write(tmp_path, MINIMAL)
    )
    assert settings.secrets.get("SLACK_BOT_TOKEN") is None
    assert repr(settings.secrets) == "Secrets(SLACK_APP_TOKEN=***)"


BOT_TOKEN_PROBLEM = (
    "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-...) from your Slack "
    "app's OAuth & Permissions page."
)
MODE_PROBLEM = (
    "Set SLACK_APP_TOKEN (xapp-..., Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode): both are "
    "on your Slack app's Basic Information page."
)


def source_problem(name: str, var: str) -> str:
    return (
        f"[sources.{name}] is enabled but {var} is not set; that source will be skipped "
        "until it is."
    )


def test_missing_environment_names_everything(tmp_path):
    settings = Settings.load(environ={}, path=write(tmp_path, EXAMPLE))
    assert missing_environment(settings, serving=True) == [
        BOT_TOKEN_PROBLEM,
        MODE_PROBLEM,
        source_problem("bluesky", "BLUESKY_HANDLE"),
        source_problem("bluesky", "BLUESKY_APP_PASSWORD"),
        source_problem("x", "X_BEARER_TOKEN"),
        source_problem("reddit", "REDDIT_CLIENT_ID"),
        source_problem("reddit", "REDDIT_CLIENT_SECRET"),
    ]
    assert missing_environment(settings, serving=False) == [
        source_problem("bluesky", "BLUESKY_HANDLE"),
        source_problem("bluesky", "BLUESKY_APP_PASSWORD"),
        source_problem("x", "X_BEARER_TOKEN"),
        source_problem("reddit", "REDDIT_CLIENT_ID"),
        source_problem("reddit", "REDDIT_CLIENT_SECRET"),
    ]
    assert settings.source_secrets_missing("x") == ["X_BEARER_TOKEN"]
    assert settings.source_secrets_missing("hackernews") == []


@pytest.mark.parametrize(
    "env, expected",
    [
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}, []),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}, []),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, [MODE_PROBLEM]),
        ({"SLACK_APP_TOKEN": "xapp-1"}, [BOT_TOKEN_PROBLEM]),
        (
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1", "X_BEARER_TOKEN": ""},
            [source_problem("x", "X_BEARER_TOKEN")],
        ),
    ],
)
def test_missing_environment_for_x(tmp_path, env, expected):
    text = MINIMAL + "[sources.x]\n[sources.hackernews]\n"
    if "X_BEARER_TOKEN" not in env:
        env = {**env, "X_BEARER_TOKEN": "t"}
    settings = Settings.load(environ=env, path=write(tmp_path, text))
    assert missing_environment(settings, serving=True) == expected


def test_disabled_source_needs_no_secrets(tmp_path):
    text = MINIMAL + "[sources.x]\nenabled = false\n"
    settings = Settings.load(
        environ={"SLACK_BOT_TOKEN": "x", "SLACK_APP_TOKEN": "y"}, path=write(tmp_path, text)
    )
    assert missing_environment(settings, serving=True) == []


@pytest.mark.parametrize(
    "url, expected",
    [
        ("http://127.0.0.1:8080/api", "http://127.0.0.1:8080/api/"),
        ("http://127.0.0.1:8080/api/", "http://127.0.0.1:8080/api/"),
        ("http://127.0.0.1:8080/api//", "http://127.0.0.1:8080/api/"),
        ("", None),
    ],
)
def test_slack_api_url_normalised(tmp_path, url, expected):
    settings = Settings.load(environ={"SLACK_API_URL": url}, path=write(tmp_path, MINIMAL))
    assert settings.slack_api_url == expected
    assert normalise_api_url(url) == expected
    assert normalise_api_url(None) is None


def test_config_and_db_from_environ(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a stray ./mentionops.toml must not be what is read
    write(tmp_path, "this is not toml")
    path = write(tmp_path, MINIMAL, name="elsewhere.toml")
    db = str(tmp_path / "data" / "mentions.db")
    settings = Settings.load(environ={"MENTIONOPS_CONFIG": str(path), "MENTIONOPS_DB": db})
    assert (settings.config_path, settings.db_path, settings.brand.name) == (str(path), db, "Acme")
    # An explicit path and db_path win over the environment.
    other = write(tmp_path, MINIMAL.replace('"Acme"', '"Other"'), name="other.toml")
    settings = Settings.load(
        environ={"MENTIONOPS_CONFIG": str(path), "MENTIONOPS_DB": db}, path=other, db_path="x.db"
    )
    assert (settings.config_path, settings.db_path, settings.brand.name) == (
        str(other),
        "x.db",
        "Other",
    )


def test_default_config_path_is_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, MINIMAL)
    settings = Settings.load(environ={})
    assert (settings.config_path, settings.db_path) == ("mentionops.toml", "mentionops.db")


def test_environ_is_injectable(tmp_path, monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "from-process-env")
    monkeypatch.setenv("MENTIONOPS_DB", "process.db")
    settings = Settings.load(environ={}, path=write(tmp_path, MINIMAL))
    assert (settings.secrets, settings.db_path) == (Secrets({}), "mentionops.db")


@pytest.mark.parametrize(
    "text, expected",
    [("mon 09:00", (0, 9, 0)), ("Sun 23:59", (6, 23, 59)), ("  fri 7:05 ", (4, 7, 5))],
)
def test_parse_handoff(text, expected):
    assert parse_handoff(text) == expected


@pytest.mark.parametrize("text", ["monday 09:00", "mon 24:00", "mon 9", "mon 09:60", ""])
def test_parse_handoff_refuses(text):
    with pytest.raises(ValueError):
        parse_handoff(text)
