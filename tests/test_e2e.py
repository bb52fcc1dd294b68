"""End to end: `mentionops run` as a subprocess in HTTP mode against a fake Slack and a fake
Hacker News, driven with signed requests exactly as Slack sends them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from bot import ids
from storage import Store
from tests.fakes.hn import FakeHN
from tests.fakes.slack import FakeSlack
from tests.support import (
    ALERT_CHANNEL,
    BOT_TOKEN,
    RUN,
    SIGNING_SECRET,
    Bot,
    block_action,
    form_body,
    signed_headers,
    start_run,
    wait_until,
    write_config,
)

URGENT = "Acme charged me twice for my order and support won't answer. I need a refund now!"


@pytest.fixture
def world(tmp_path):
    with FakeSlack(token=BOT_TOKEN) as slack, FakeHN() as hn:
        config = write_config(tmp_path, hn_url=hn.base_url)
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SLACK_", "MENTIONOPS_", "X_", "BLUESKY_", "REDDIT_"))
        }
        env.update(
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=slack.base_url.rstrip("/"),  # accepted without the trailing slash
            MENTIONOPS_CONFIG=str(config),
            MENTIONOPS_DB=str(tmp_path / "mentionops.db"),
            PYTHONUNBUFFERED="1",
        )
        yield {
            "slack": slack,
            "hn": hn,
            "env": env,
            "tmp": tmp_path,
            "store": Store(tmp_path / "mentionops.db"),
        }


def test_poll_post_claim_and_shutdown(world):
    slack, hn, store = world["slack"], world["hn"], world["store"]
    hn.add_hit(
        object_id="9001",
        author="dana",
        comment_text=f"<p>{URGENT}</p>",
        story_title="Ask HN: billing horror stories",
        created_at_i=int(time.time()) - 120,
    )
    hn.add_hit(
        object_id="9002",
        author="kai",
        comment_text="I like Acme, works fine for me.",
        created_at_i=int(time.time()) - 60,
    )
    bot = Bot(world["env"], world["tmp"])
    try:
        post = slack.wait_for("chat.postMessage", timeout=20, ok=True)[0]
        assert post.args["channel"] == ALERT_CHANNEL
        assert post.flag("unfurl_links", True) is False
        assert post.args["metadata"]["event_type"] == ids.ALERT_EVENT_TYPE
        mention_id = post.args["metadata"]["event_payload"]["mention_id"]
        ts = post.response["ts"]
        row = wait_until(lambda: (m := store.mention(mention_id))["status"] == "posted" and m)
        assert (row["external_id"], row["status"], row["ts"]) == ("9001", "posted", ts)
        assert "charged me twice" in json.dumps(post.args["blocks"])
        first_card = [b for b in post.args["blocks"] if b["type"] == "actions"][0]
        assert [e["action_id"] for e in first_card["elements"]][:3] == [
            ids.CLAIM,
            ids.DRAFT,
            ids.ESCALATE,
        ]

        health = httpx.get(f"{bot.url}/healthz", timeout=5)
        assert health.status_code == 200
        assert health.json()["scheduler"] == "running"
        assert health.json()["sources"]["hackernews"]["consecutive_failures"] == 0

        # Ten agents click Claim at the same instant: one owner, nine polite refusals.
        users = [f"U0AGENT{i}" for i in range(10)]
        with ThreadPoolExecutor(10) as pool:
            responses = list(pool.map(lambda u: bot.click(ids.CLAIM, mention_id, u, ts), users))
        assert [r.status_code for r in responses] == [200] * 10
        ephemerals = slack.wait_for("chat.postEphemeral", count=9, timeout=10)
        update = slack.wait_for("chat.update", timeout=10)[-1]
        owner = store.mention(mention_id)["claimed_by"]
        assert owner in users
        assert sorted(c.args["user"] for c in ephemerals) == sorted(set(users) - {owner})
        assert all(c.args["text"].startswith(f"Already claimed by <@{owner}>") for c in ephemerals)
        time.sleep(0.5)  # nothing more should arrive
        assert len(slack.calls_to("chat.postEphemeral")) == 9
        card = json.dumps(slack.message(ALERT_CHANNEL, ts)["blocks"])
        assert f"Claimed by <@{owner}>" in card
        assert update.args["ts"] == ts
        actions = [
            e["action_id"] for e in slack.message(ALERT_CHANNEL, ts)["blocks"][-1]["elements"]
        ]
        assert actions == [
            ids.RESOLVE,
            ids.UNCLAIM,
            ids.DRAFT,
            ids.ESCALATE,
            ids.OPEN_POST,
            ids.REASSIGN,
            ids.MORE,
        ]
        events = [(e["actor"], e["action"]) for e in store.events(mention_id)]
        assert events.count((owner, "claim")) == 1
        assert sum(1 for _, a in events if a == "claim_refused") == 9

        # The owner resolves; the card says so and the thread has one line per action.
        assert bot.click(ids.RESOLVE, mention_id, owner, ts).status_code == 200
        wait_until(lambda: store.mention(mention_id)["status"] == "resolved")
        assert store.mention(mention_id)["resolved_by"] == owner
        wait_until(lambda: "Resolved by" in json.dumps(slack.message(ALERT_CHANNEL, ts)["blocks"]))
        wait_until(lambda: len(slack.thread(ALERT_CHANNEL, ts)) == 3)
        thread = [m["text"] for m in slack.thread(ALERT_CHANNEL, ts)[1:]]
        assert thread == [f"🙋 <@{owner}> claimed this", f"✅ <@{owner}> resolved this"]
        assert slack.errors == []
    finally:
        stopping = time.monotonic()
        code = bot.stop()
        stopped_in = time.monotonic() - stopping
    assert code == 0, "\n".join(bot.lines)
    assert stopped_in < 10
    log = "\n".join(bot.lines)
    assert "Stopped" in log
    assert BOT_TOKEN not in log and SIGNING_SECRET not in log
    assert len(slack.calls_to("chat.postMessage", ok=True)) == 3  # alert + two thread lines


def test_forged_and_stale_requests_are_refused(world):
    slack, hn, store = world["slack"], world["hn"], world["store"]
    hn.add_hit(
        object_id="9100", author="lee", comment_text=URGENT, created_at_i=int(time.time()) - 30
    )
    bot = Bot(world["env"], world["tmp"])
    try:
        post = slack.wait_for("chat.postMessage", timeout=20, ok=True)[0]
        mention_id = post.args["metadata"]["event_payload"]["mention_id"]
        body = form_body(block_action(ids.CLAIM, str(mention_id), user="U0MALLORY"))
        forged = bot.post(body, signed_headers(body, secret="not-the-secret"))
        stale = bot.post(body, signed_headers(body, timestamp=int(time.time()) - 600))
        unsigned = bot.post(body, {"Content-Type": "application/x-www-form-urlencoded"})
        assert [forged.status_code, stale.status_code, unsigned.status_code] == [401, 401, 401]
        time.sleep(0.3)
        assert store.mention(mention_id)["status"] == "posted"
        assert [e["action"] for e in store.events(mention_id)] == ["stored", "posted"]
        assert slack.calls_to("chat.postEphemeral") == []
        assert slack.calls_to("chat.update") == []
    finally:
        assert bot.stop(signal.SIGINT) == 0


def test_bad_token_stops_with_a_clear_message(world):
    env = {**world["env"], "SLACK_BOT_TOKEN": "xoxb-wrong"}
    proc = subprocess.run(
        RUN,
        env=env,
        cwd=world["tmp"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert "Slack did not accept SLACK_BOT_TOKEN" in proc.stderr
    assert "xoxb-wrong" not in proc.stderr


def test_shutdown_within_ten_seconds_while_a_poll_hangs(world):
    """A platform that never answers must not hold SIGTERM past 10 s: the interpreter would
    otherwise wait for the poll's worker thread (read timeouts and retries: over a minute)."""
    hn = world["hn"]
    hn.hang(300)
    bot = Bot(world["env"], world["tmp"])
    try:
        hn.wait_for(1, timeout=20)  # the first poll is now waiting on Hacker News
    finally:
        stopping = time.monotonic()
        code = bot.stop()
        stopped_in = time.monotonic() - stopping
    log = "\n".join(bot.lines)
    assert (code, stopped_in < 10) == (0, True), log
    assert "A poll was still running after 6 s" in log and "Stopped" in log
    assert world["store"].cursors("hackernews") == {}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_during_start_up_stops_cleanly(world, sig):
    """Stopped while start-up still waits on Slack (here: auth.test, before anything serves):
    no traceback, no death by signal, exit 0 at once."""
    slack = world["slack"]
    slack.delay("auth.test", 30)
    proc = start_run(world["env"], world["tmp"])
    try:
        wait_until(lambda: any(r.path.endswith("auth.test") for r in slack.requests), 20)
        time.sleep(0.2)
        stopping = time.monotonic()
        proc.send_signal(sig)
        code = proc.wait(timeout=15)
        stopped_in = time.monotonic() - stopping
        err = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    assert (code, stopped_in < 5) == (0, True), err
    assert "Traceback" not in err and "Stopped" in err, err
