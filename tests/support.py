"""Helpers for tests and benches: configs, signed Slack requests, block_actions payloads."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

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


class Bot:
    """A running `mentionops run` process; its log lines are collected as they come."""

    def __init__(self, env: dict, cwd):
        self.lines: list[str] = []
        self.url: str | None = None
        self._ready = threading.Event()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--host", "127.0.0.1", "--port", "0"],
            env=env,
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
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
