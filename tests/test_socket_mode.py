"""End to end in Socket Mode: `mentionops run` as a subprocess with SLACK_APP_TOKEN (and no
signing secret), against a fake Slack Web API, a fake Socket Mode WebSocket endpoint and a fake
Hacker News. Slack's clicks and slash commands arrive as envelopes on the WebSocket and must be
acknowledged within 3 seconds."""

from __future__ import annotations

import json
import os
import signal
import socket as pysocket
import sqlite3
import subprocess
import time
from contextlib import closing
from urllib.parse import parse_qsl

import httpx
import pytest

from bot import ids
from storage import Store
from tests.fakes.hn import FakeHN
from tests.fakes.slack import FakeSlack
from tests.fakes.socket_mode import (
    OP_CLOSE,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    FakeSocketMode,
    encode_frame,
)
from tests.support import (
    ALERT_CHANNEL,
    BOT_TOKEN,
    RUN,
    Bot,
    block_action,
    slash_command,
    start_run,
    wait_until,
    write_config,
)

APP_TOKEN = "xapp-1-A0MENTIONOPS-1234-test"
URGENT = "Acme charged me twice for my order and support won't answer. I need a refund now!"


@pytest.fixture
def world(tmp_path):
    with FakeSlack(token=BOT_TOKEN) as slack, FakeSocketMode() as socket, FakeHN() as hn:
        slack.app_token = APP_TOKEN
        slack.socket_url = socket.url
        config = write_config(tmp_path, hn_url=hn.base_url)
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SLACK_", "MENTIONOPS_", "X_", "BLUESKY_", "REDDIT_"))
        }
        env.update(
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_APP_TOKEN=APP_TOKEN,
            SLACK_API_URL=slack.base_url,
            MENTIONOPS_CONFIG=str(config),
            MENTIONOPS_DB=str(tmp_path / "mentionops.db"),
            PYTHONUNBUFFERED="1",
        )
        yield {
            "slack": slack,
            "socket": socket,
            "hn": hn,
            "env": env,
            "tmp": tmp_path,
            "store": Store(tmp_path / "mentionops.db"),
        }
        assert socket.errors == []
        assert slack.errors == []


def test_claim_and_slash_command_over_socket_mode(world):
    slack, socket, hn, store = world["slack"], world["socket"], world["hn"], world["store"]
    hn.add_hit(
        object_id="9001",
        author="dana",
        comment_text=f"<p>{URGENT}</p>",
        story_title="Ask HN: billing horror stories",
        created_at_i=int(time.time()) - 120,
    )
    bot = Bot(world["env"], world["tmp"])
    try:
        # The WebSocket URL was asked for with the app-level token, and used once.
        link = socket.wait_for_connection(timeout=10)
        opened = slack.calls_to("apps.connections.open", ok=True)
        assert len(opened) == 1
        assert opened[0].headers["authorization"] == f"Bearer {APP_TOKEN}"
        assert opened[0].response["url"].endswith(f"?ticket={link.ticket}")
        wait_until(lambda: link.pings, timeout=5)  # the SDK pings at once; the fake pongs

        health = httpx.get(f"{bot.url}/healthz", timeout=5)
        assert health.status_code == 200
        assert (health.json()["mode"], health.json()["status"]) == ("socket", "ok")
        # No HTTP endpoint for Slack in Socket Mode: nothing may arrive unsigned that way.
        assert httpx.post(f"{bot.url}/slack/events", content="{}", timeout=5).status_code == 404

        post = slack.wait_for("chat.postMessage", timeout=20, ok=True)[0]
        assert post.args["channel"] == ALERT_CHANNEL
        mention_id = post.args["metadata"]["event_payload"]["mention_id"]
        ts = post.response["ts"]
        wait_until(lambda: store.mention(mention_id)["status"] == "posted")

        # A click on Claim, delivered as an `interactive` envelope.
        payload = block_action(
            ids.CLAIM,
            str(mention_id),
            user="U0AGENT1",
            message_ts=ts,
            response_url=slack.response_url("claim"),
        )
        envelope_id = socket.send_envelope("interactive", payload)
        ack = socket.wait_for_ack(envelope_id, timeout=5)
        assert ack.latency < 3, f"acked after {ack.latency:.2f}s"
        assert ack.message == {"envelope_id": envelope_id}  # a bare ack: no response payload
        update = slack.wait_for("chat.update", timeout=10)[-1]
        assert update.args["ts"] == ts
        card = json.dumps(slack.message(ALERT_CHANNEL, ts)["blocks"])
        assert "Claimed by <@U0AGENT1>" in card
        row = store.mention(mention_id)
        assert (row["status"], row["claimed_by"]) == ("claimed", "U0AGENT1")
        wait_until(lambda: len(slack.thread(ALERT_CHANNEL, ts)) == 2)
        assert slack.thread(ALERT_CHANNEL, ts)[1]["text"] == "🙋 <@U0AGENT1> claimed this"

        # `/mentions help`, delivered as a `slash_commands` envelope (its payload is the
        # command's fields as JSON), is acked and answered through its response_url.
        command = dict(
            parse_qsl(
                slash_command("help", user="U0AGENT1", response_url=slack.response_url("help"))
            )
        )
        envelope_id = socket.send_envelope("slash_commands", command)
        ack = socket.wait_for_ack(envelope_id, timeout=5)
        assert ack.latency < 3, f"acked after {ack.latency:.2f}s"
        answer = slack.wait_for("response_url", timeout=10)[0]
        assert answer.path == "/response_url/help"
        assert answer.args["response_type"] == "ephemeral"
        assert "/mentions queue" in answer.args["text"]
        assert slack.calls_to("chat.postEphemeral") == []
    finally:
        stopping = time.monotonic()
        code = bot.stop()
        stopped_in = time.monotonic() - stopping
    log = "\n".join(bot.lines)
    assert (code, stopped_in < 10) == (0, True), log
    assert "Connected to Slack in Socket Mode" in log and "Stopped" in log
    assert APP_TOKEN not in log and BOT_TOKEN not in log
    wait_until(lambda: not link.open, timeout=5)  # the process closed its WebSocket
    assert len(socket.links) == 1 and len(socket.acks) == 2


@pytest.mark.parametrize(
    ("app_token", "error"),
    [("xapp-1-A0MENTIONOPS-9-wrong", "invalid_auth"), (BOT_TOKEN, "not_allowed_token_type")],
    ids=["wrong-token", "bot-token"],
)
def test_refused_app_token_stops_with_one_clear_line(world, app_token, error):
    slack, socket = world["slack"], world["socket"]
    proc = subprocess.run(
        RUN,
        env={**world["env"], "SLACK_APP_TOKEN": app_token},
        cwd=world["tmp"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].startswith(f"Slack did not accept SLACK_APP_TOKEN ({error}). "), proc.stderr
    assert "connections:write" in lines[-1]
    assert "Traceback" not in proc.stderr and " ERROR " not in proc.stderr, proc.stderr
    assert app_token not in proc.stderr
    assert [c.error for c in slack.calls_to("apps.connections.open")] == [error]
    assert socket.links == []
    # What `run` had started is released: the lease is free for the next start.
    with closing(sqlite3.connect(world["tmp"] / "mentionops.db")) as db:
        assert db.execute("SELECT COUNT(*) FROM lease").fetchone() == (0,)


def test_reconnects_when_slack_asks_for_a_refresh(world):
    """Slack sends `disconnect` (refresh_requested) every few hours: the client must open a new
    connection through apps.connections.open (a fresh ticket) and keep acking on it."""
    slack, socket, hn, store = world["slack"], world["socket"], world["hn"], world["store"]
    hn.add_hit(object_id="9300", author="ola", comment_text=URGENT, created_at_i=int(time.time()))
    bot = Bot(world["env"], world["tmp"])
    try:
        first = socket.wait_for_connection(timeout=10)
        post = slack.wait_for("chat.postMessage", timeout=20, ok=True)[0]
        mention_id = post.args["metadata"]["event_payload"]["mention_id"]
        wait_until(lambda: store.mention(mention_id)["status"] == "posted")

        socket.send_disconnect("refresh_requested")
        second = socket.wait_for_connection(count=2, timeout=10)
        assert second is not first and second.ticket != first.ticket
        assert len(slack.calls_to("apps.connections.open", ok=True)) == 2
        # slack_sdk only starts reading the new connection once the old one is closed, which
        # waits for its blocked recv() to time out (up to 3 s): an envelope sent to the new
        # connection before that waits too.
        wait_until(lambda: not first.open, timeout=6)

        payload = block_action(
            ids.CLAIM,
            str(mention_id),
            user="U0AGENT2",
            message_ts=post.response["ts"],
            response_url=slack.response_url("claim"),
        )
        envelope_id = socket.send_envelope("interactive", payload)
        ack = socket.wait_for_ack(envelope_id, timeout=5)
        assert ack.latency < 3, f"acked after {ack.latency:.2f}s"
        wait_until(lambda: store.mention(mention_id)["claimed_by"] == "U0AGENT2")
    finally:
        code = bot.stop()
    assert code == 0, "\n".join(bot.lines)
    assert [link.open for link in socket.links] == [False, False]


def test_the_fake_speaks_rfc_6455():
    """The fake itself: the handshake's accept key, pong for ping, and a client frame that is
    not masked closed with 1002 (as a real server must)."""
    with FakeSocketMode(hello=False) as fake, closing(_raw_socket(fake.port)) as sock:
        key = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455's own example
        sock.sendall(
            (
                "GET /link/?ticket=t1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = _read_until(sock, b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101 ")
        assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" in head  # RFC's answer
        sock.sendall(encode_frame(OP_PING, b"hi", mask=b"\x01\x02\x03\x04"))
        assert _read_exactly(sock, 4) == encode_frame(OP_PONG, b"hi")
        sock.sendall(encode_frame(OP_TEXT, b'{"envelope_id": "x"}'))  # unmasked
        first, length = _read_exactly(sock, 2)
        assert (first, length) == (0x80 | OP_CLOSE, len(close := _read_exactly(sock, length)))
        assert int.from_bytes(close[:2], "big") == 1002  # protocol error
        link = fake.links[0]
        wait_until(lambda: not link.open, timeout=5)
        assert link.pings == [b"hi"]
        assert fake.errors == ["FakeSocketMode: an unmasked frame from the client"]
        fake.errors.clear()


def _raw_socket(port: int) -> pysocket.socket:
    return pysocket.create_connection(("127.0.0.1", port), timeout=5)


def _read_until(sock: pysocket.socket, end: bytes) -> bytes:
    data = b""
    while end not in data:
        chunk = sock.recv(1)
        assert chunk, f"closed after {data!r}"
        data += chunk
    return data


def _read_exactly(sock: pysocket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        assert chunk, f"closed after {data!r}"
        data += chunk
    return data


def test_sigterm_while_connecting_stops_cleanly_and_frees_the_lease(world):
    """SIGTERM after the lease is taken, while Socket Mode is still being opened: exit 0, no
    traceback, and the lease is released for the next start."""
    slack = world["slack"]
    slack.delay("apps.connections.open", 30)
    proc = start_run(world["env"], world["tmp"])
    try:
        wait_until(
            lambda: any(r.path.endswith("apps.connections.open") for r in slack.requests), 20
        )
        time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=15)
        err = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    assert code == 0, err
    assert "Traceback" not in err and "Stopped" in err, err
    with closing(sqlite3.connect(world["tmp"] / "mentionops.db")) as db:
        assert db.execute("SELECT COUNT(*) FROM lease").fetchone() == (0,)
