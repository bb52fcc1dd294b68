"""Helpers for tests and benches: configs, signed Slack requests, block_actions payloads,
running fakes, stores and sources wired to them."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier

from bot.app import Services, build_app
from bot.config import Settings
from bot.pipeline import Pipeline
from bot.poster import SlackPoster
from bot.slack import make_client
from storage import Store
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.hn import FakeHN
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.reddit import FakeReddit
from tests.fakes.rss import FakeFeeds
from tests.fakes.slack import FakeSlack
from tests.fakes.x import FakeX

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test"
ALERT_CHANNEL = "C0ALERTS"
TEAM = "T0TEAM"


def write_config(folder: Path, *, hn_url: str | None = None, extra: str = "", **triage) -> Path:
    """A mentionops.toml for Acme; Hacker News pointed at a fake when `hn_url` is given."""
    triage_lines = "\n".join(f"{k} = {v}" for k, v in triage.items())
    text = f"""
[brand]
name = "Acme"
terms = ["acme", "acme corp"]
handles = ["acme", "acmesupport"]
exclude = ["acme anvil"]

[slack]
alert_channel = "{ALERT_CHANNEL}"
escalation_channel = "C0ONCALL"
managers = ["U0MANAGER"]

[triage]
urgency_threshold = 60
sla_minutes = 20
{triage_lines}

[oncall]
rotation = ["U0ALICE", "U0BOB"]
timezone = "Europe/London"
"""
    if hn_url:
        text += f"""
[sources.hackernews]
interval_seconds = 10
base_url = "{hn_url}"
"""
    text += extra
    path = folder / "mentionops.toml"
    path.write_text(text, encoding="utf-8")
    return path


def signed_headers(
    body: str, *, timestamp: int | None = None, secret: str = SIGNING_SECRET
) -> dict:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
    }


def block_action(
    action_id: str,
    value: str,
    *,
    user: str,
    channel: str = ALERT_CHANNEL,
    message_ts: str = "1764140000.000100",
    response_url: str = "https://hooks.slack.com/actions/T0TEAM/1/abc",
) -> dict:
    """A block_actions payload shaped exactly like the one Slack sends for a button click."""
    return {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM},
        "api_app_id": "A0MENTIONOPS",
        "token": "legacy-verification-token",
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": False,
        },
        "trigger_id": f"{int(time.time())}.1234567890.abcdef0123456789",
        "team": {"id": TEAM, "domain": "acme"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": "support-alerts"},
        "message": {"type": "message", "ts": message_ts, "bot_id": "B0BOT", "text": "alert"},
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": f"alert_actions_{value}",
                "text": {"type": "plain_text", "text": "Claim", "emoji": True},
                "value": value,
                "type": "button",
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }


def form_body(payload: dict) -> str:
    return urlencode({"payload": json.dumps(payload)})


def slash_command(text: str, *, user: str, response_url: str, channel: str = ALERT_CHANNEL) -> str:
    return urlencode(
        {
            "token": "legacy-verification-token",
            "team_id": TEAM,
            "team_domain": "acme",
            "channel_id": channel,
            "channel_name": "support-alerts",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/mentions",
            "text": text,
            "api_app_id": "A0MENTIONOPS",
            "response_url": response_url,
            "trigger_id": f"{int(time.time())}.1234567890.abcdef",
        }
    )


def wait_until(check, timeout: float = 10.0):
    """Poll `check` until it returns something truthy; return that."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


RUN = [sys.executable, "-m", "bot", "run", "--host", "127.0.0.1", "--port", "0"]


def start_run(env: dict, cwd) -> subprocess.Popen:
    """`mentionops run` on a free port, its log on a pipe (stderr)."""
    return subprocess.Popen(
        RUN, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


class Bot:
    """A running `mentionops run` process; its log lines are collected as they come."""

    def __init__(self, env: dict, cwd):
        self.lines: list[str] = []
        self.url: str | None = None
        self._ready = threading.Event()
        self.proc = start_run(env, cwd)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self._ready.wait(20):
            self.stop()
            raise AssertionError("bot did not start:\n" + "\n".join(self.lines))

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line.rstrip())
            match = re.search(r"listening on (http://[\d.]+:\d+)", line)
            if match:
                self.url = match.group(1)
                self._ready.set()
        self._ready.set()

    def post(self, body: str, headers: dict) -> httpx.Response:
        return httpx.post(f"{self.url}/slack/events", content=body, headers=headers, timeout=10)

    def click(self, action_id: str, mention_id: int, user: str, ts: str) -> httpx.Response:
        body = form_body(block_action(action_id, str(mention_id), user=user, message_ts=ts))
        return self.post(body, signed_headers(body))

    def stop(self, sig=signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=15)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.proc.stderr.close()
            self._reader.join(timeout=5)


# ------------------------------------------------------------------ fakes and sources


def now() -> datetime:
    """The current UTC time to the second (the precision the platforms' timestamps keep)."""
    return datetime.now(UTC).replace(microsecond=0)


def serving(fake: Any) -> Iterator[Any]:
    """For a fixture, ``yield from serving(FakeX())``: starts the fake for the test, stops it
    after and checks the fake itself never crashed."""
    with fake:
        yield fake
        assert fake.errors == []


class SourceMaker:
    """Builds sources each on its own ``httpx.Client(timeout=5)`` and with a sleep recorder:
    the seconds a source would have slept are in ``source.sleeps``. ``close()`` closes the
    clients (the ``make_source`` fixture does it after the test)."""

    def __init__(self) -> None:
        self.made: list[Any] = []

    def __call__(self, cls: type, *args: Any, **kwargs: Any) -> Any:
        sleeps: list[float] = []
        source = cls(*args, client=httpx.Client(timeout=5), sleep=sleeps.append, **kwargs)
        source.sleeps = sleeps
        self.made.append(source)
        return source

    def close(self) -> None:
        for source in self.made:
            source.client.close()


def migrated_store(path: str | Path, **options: Any) -> Store:
    """A `Store(path, **options)` with every migration applied."""
    store = Store(path, **options)
    store.migrate()
    return store


def slack_pipeline(settings: Settings, store: Store, sources: dict) -> Pipeline:
    """A `Pipeline` over `sources` that posts through the Slack the settings point at."""
    return Pipeline(settings, store, sources, SlackPoster(make_client(settings), store, settings))


@dataclass
class Platforms:
    """Every fake a poll cycle talks to, running (see `platforms()`)."""

    slack: FakeSlack
    hn: FakeHN
    bsky: FakeBluesky
    masto: FakeMastodon
    x: FakeX
    reddit: FakeReddit
    feeds: FakeFeeds

    def env(self) -> dict[str, str]:
        """The environment with every platform's credentials, as the fakes expect them."""
        return {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_API_URL": self.slack.base_url,
            "BLUESKY_HANDLE": self.bsky.handle,
            "BLUESKY_APP_PASSWORD": self.bsky.password,
            "X_BEARER_TOKEN": self.x.token,
            "REDDIT_CLIENT_ID": self.reddit.client_id,
            "REDDIT_CLIENT_SECRET": self.reddit.client_secret,
        }

    def settings(
        self, folder: Path, feeds: list[str], *, db_path: str | Path, **options: dict[str, Any]
    ) -> Settings:
        """Settings with every source pointed at its fake (RSS at `feeds`); `options` adds
        per-source settings, e.g. ``x={"max_posts_per_hour": 500}``."""
        sections: dict[str, dict[str, Any]] = {
            "bluesky": {"base_url": self.bsky.url},
            "mastodon": {"base_url": self.masto.url, "hashtags": ["acme"]},
            "x": {"base_url": self.x.url},
            "reddit": {"base_url": self.reddit.url, "token_url": self.reddit.token_url},
            "rss": {"feeds": list(feeds)},
        }
        for name, more in options.items():
            sections[name].update(more)
        extra = "".join(
            f"\n[sources.{name}]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in opts.items())
            for name, opts in sections.items()
        )
        return Settings.load(
            environ=self.env(),
            path=write_config(folder, hn_url=self.hn.base_url, extra=extra),
            db_path=str(db_path),
        )


@contextmanager
def platforms() -> Iterator[Platforms]:
    """Start the fake Slack and a fake of every platform; stop them all after."""
    with (
        FakeSlack(token=BOT_TOKEN) as slack,
        FakeHN() as hn,
        FakeBluesky() as bsky,
        FakeMastodon() as masto,
        FakeX() as x,
        FakeReddit() as reddit,
        FakeFeeds() as feeds,
    ):
        yield Platforms(slack, hn, bsky, masto, x, reddit, feeds)


# ------------------------------------------------------------- Bolt app on a fake Slack

SLACK_ENV = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN")


class BoltApp:
    """A Bolt app built by `build_app`, its WebClient on a fake Slack (see `bolt_app()`)."""

    def __init__(self, app, slack: FakeSlack, store: Store, poster: SlackPoster):
        self.app, self.slack, self.store, self.poster = app, slack, store, poster

    def request(self, body: str, content_type: str | None = None) -> BoltResponse:
        """Dispatch `body`, signed as Slack signs it, to the app (in this process)."""
        headers = signed_headers(body)
        if content_type:
            headers["Content-Type"] = content_type
        return self.app.dispatch(BoltRequest(body=body, headers=headers))


@contextmanager
def bolt_app(
    folder: Path,
    monkeypatch: Any,
    *,
    harness: type[BoltApp] = BoltApp,
    workers: int = 8,
    store_clock: Any = None,
    **services: Any,
) -> Iterator[Any]:
    """Start a fake Slack and build the app as ``mentionops run`` does: settings from
    `write_config(folder)`, a migrated store at ``folder / "m.db"`` (on `store_clock` if
    given), a `SlackPoster`, ``Services(**services)`` and listeners on `workers` threads.
    Yields ``harness(app, slack, store, poster)``; on exit the listeners finish before the
    fake Slack stops. The SLACK_* variables of the environment are removed (`monkeypatch`)."""
    for name in SLACK_ENV:
        monkeypatch.delenv(name, raising=False)
    with FakeSlack(token=BOT_TOKEN) as slack:
        settings = Settings.load(
            environ={
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": slack.base_url,
            },
            path=write_config(folder),
            db_path=str(folder / "m.db"),
        )
        store_options = {} if store_clock is None else {"clock": store_clock}
        store = migrated_store(settings.db_path, **store_options)
        client = make_client(settings)
        poster = SlackPoster(client, store, settings)
        executor = ThreadPoolExecutor(max_workers=workers)
        app = build_app(
            Services(settings=settings, store=store, poster=poster, **services),
            client,
            executor=executor,
        )
        try:
            yield harness(app, slack, store, poster)
        finally:
            executor.shutdown(wait=True)  # let listeners finish before the fake Slack stops
