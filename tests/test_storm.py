"""Storm mode: a burst of urgent alerts gets one storm message in the channel and the alerts in
its thread; it updates while it lasts, closes when the rate falls back, survives a crash
mid-post, and two pollers checking at once open one storm."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest

from bot import blocks, ids, storm
from bot.config import ConfigError, Settings
from bot.models import Mention, Score
from bot.pipeline import Pipeline
from bot.poster import SlackPoster
from bot.slack import make_client
from bot.sources import build_sources
from storage import Store
from tests.fakes.slack import FakeSlack
from tests.support import ALERT_CHANNEL, BOT_TOKEN, write_config

START = datetime(2026, 11, 26, 10, 42, tzinfo=UTC)
COMPLAINTS = [
    "Acme checkout outage again, charged twice and nobody answers. Refund me!",
    "@acme checkout is down, outage all morning, I can't pay. Fix it please!",
    "Acme outage: checkout broken, card charged but no order. Refund now!",
]


class Clock:
    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now


class World:
    """A replay source, the store, the poster and the pipeline on one controllable clock."""

    def __init__(self, tmp_path, slack: FakeSlack, **triage):
        self.clock = Clock(START)
        self.slack = slack
        self.feed = tmp_path / "feed.jsonl"
        self.feed.write_text("", encoding="utf-8")
        self.count = 0
        triage = {"storm_min_mentions": 5, **triage}
        config = write_config(
            tmp_path, extra=f'\n[sources.replay]\npath = "{self.feed.name}"\n', **triage
        )
        self.settings = Settings.load(
            environ={"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": slack.base_url},
            path=config,
            db_path=str(tmp_path / "s.db"),
        )
        self.store = Store(self.settings.db_path, clock=self.clock)
        self.store.migrate()
        self.poster = self.new_poster()
        self.pipeline = Pipeline(
            self.settings,
            self.store,
            build_sources(self.settings)[0],
            self.poster,
            clock=self.clock,
        )

    def new_poster(self) -> SlackPoster:
        return SlackPoster(make_client(self.settings), self.store, self.settings, clock=self.clock)

    def add(self, n: int, text: str | None = None) -> None:
        with self.feed.open("a", encoding="utf-8") as fh:
            for _ in range(n):
                self.count += 1
                line = {
                    "source": "x",
                    "id": f"t{self.count}",
                    "author": f"customer{self.count}",
                    "text": text or COMPLAINTS[self.count % len(COMPLAINTS)],
                    "created_at": (self.clock.now - timedelta(minutes=1)).isoformat(),
                }
                fh.write(json.dumps(line) + "\n")

    def poll(self, minutes: float = 0):
        self.clock.now += timedelta(minutes=minutes)
        return self.pipeline.run_once("replay")

    def top_level(self) -> list[dict]:
        return [
            m for m in self.slack.messages(ALERT_CHANNEL) if m.get("thread_ts") in (None, m["ts"])
        ]

    def storm_messages(self) -> list[dict]:
        return [
            m
            for m in self.slack.messages(ALERT_CHANNEL)
            if (m.get("metadata") or {}).get("event_type") == ids.STORM_EVENT_TYPE
        ]

    def alerts_in_thread(self, ts: str) -> list[dict]:
        return [
            m
            for m in self.slack.thread(ALERT_CHANNEL, ts)[1:]
            if (m.get("metadata") or {}).get("event_type") == ids.ALERT_EVENT_TYPE
        ]


@pytest.fixture
def slack():
    with FakeSlack(token=BOT_TOKEN) as fake:
        yield fake


def test_below_the_threshold_alerts_go_to_the_channel(tmp_path, slack):
    world = World(tmp_path, slack)
    world.add(4)
    assert world.poll().posted == 4
    assert world.storm_messages() == []
    assert len(world.top_level()) == 4
    assert world.store.storms() == []
    assert slack.errors == []


def test_burst_opens_one_storm_and_threads_the_alerts(tmp_path, slack):
    world = World(tmp_path, slack)
    world.add(6)
    assert world.poll().posted == 6
    top = world.top_level()
    assert len(top) == 1  # one storm message instead of six alerts
    (message,) = world.storm_messages()
    assert message["ts"] == top[0]["ts"]
    assert len(world.alerts_in_thread(message["ts"])) == 6
    text = message["blocks"][0]["text"]["text"]
    assert text.startswith("🌩️ *Storm: 6 urgent mentions in 10 min, normally none*")
    assert "top terms: " in text and "outage" in text and "checkout" in text
    assert "Since 10:42" in slack.message(ALERT_CHANNEL, message["ts"])["text"]
    # Each threaded alert is a full card with its metadata; its ts is saved for the buttons.
    row = world.store.mention(1)
    assert row["status"] == "posted"
    reply = slack.message(ALERT_CHANNEL, row["ts"])
    assert reply["thread_ts"] == message["ts"]
    assert reply["metadata"]["event_payload"] == {"mention_id": 1}

    # More urgent alerts two minutes later: threaded too, the storm message edited once.
    slack.reset_calls()
    world.add(3)
    assert world.poll(2).posted == 3
    assert len(world.top_level()) == 1
    assert len(world.alerts_in_thread(message["ts"])) == 9
    updates = slack.calls_to("chat.update")
    assert len(updates) == 1
    assert updates[0].args["ts"] == message["ts"]
    edited = slack.message(ALERT_CHANNEL, message["ts"])["blocks"][0]["text"]["text"]
    assert edited.startswith("🌩️ *Storm: 9 urgent mentions in 10 min")
    assert "9 alerts so far" in edited
    # A poll that changes nothing edits nothing.
    slack.reset_calls()
    world.poll(1)
    assert slack.calls_to("chat.update") == []
    actions = [e["action"] for e in world.store.events() if e["action"].startswith("storm")]
    assert actions == ["storm_open", "storm_posted"]
    assert slack.errors == []


def test_storm_closes_when_the_rate_falls_back(tmp_path, slack):
    world = World(tmp_path, slack)
    world.add(7)
    world.poll()
    (message,) = world.storm_messages()
    world.poll(11)  # the window is quiet now: calm since this poll
    assert world.store.open_storm() is not None
    world.poll(5)  # not yet a full quiet window
    assert world.store.open_storm() is not None
    world.poll(5)
    assert world.store.open_storm() is None
    closed = slack.message(ALERT_CHANNEL, message["ts"])["blocks"][0]["text"]["text"]
    assert closed == (
        "✅ *Storm over:* 7 urgent mentions from 10:42 to 11:03; all are in this thread. "
        "New alerts go to the channel again."
    )
    # The next urgent alert goes to the channel again.
    world.add(1)
    assert world.poll(1).posted == 1
    assert len(world.top_level()) == 2
    assert world.store.mention(8)["ts"] == world.top_level()[-1]["ts"]
    # The closed message is not edited again.
    slack.reset_calls()
    world.poll(1)
    assert slack.calls_to("chat.update") == []


def test_a_busy_window_keeps_the_storm_open(tmp_path, slack):
    world = World(tmp_path, slack)
    world.add(6)
    world.poll()
    for _ in range(4):  # 6 more every 8 minutes: the rate stays at the threshold
        world.add(6)
        world.poll(8)
    assert world.store.open_storm() is not None
    assert len(world.top_level()) == 1
    (message,) = world.storm_messages()
    assert len(world.alerts_in_thread(message["ts"])) == 30


def test_crash_after_a_threaded_post_is_found_in_the_thread(tmp_path, slack, monkeypatch):
    world = World(tmp_path, slack)
    world.add(6)
    world.poll()
    (message,) = world.storm_messages()
    world.add(1)

    def crash(*args, **kwargs):
        raise SystemExit("killed after chat.postMessage, before saving its ts")

    monkeypatch.setattr(world.store, "mark_sent", crash)
    with pytest.raises(SystemExit):
        world.poll(1)
    monkeypatch.undo()
    assert [r["thread_ts"] for r in world.store.outbox("sending")] == [message["ts"]]
    assert len(world.alerts_in_thread(message["ts"])) == 7

    restarted = world.new_poster()  # conversations.history would not see the reply
    slack.reset_calls()
    assert restarted.reconcile() == {"found": 1, "requeued": 0}
    assert slack.calls_to("conversations.replies")
    assert restarted.flush() == 0
    assert slack.calls_to("chat.postMessage") == []
    assert len(world.alerts_in_thread(message["ts"])) == 7
    row = world.store.mention(7)
    assert (row["status"], row["ts"]) == ("posted", world.alerts_in_thread(message["ts"])[-1]["ts"])


def test_two_pollers_checking_at_once_open_one_storm(tmp_path, slack):
    world = World(tmp_path, slack)
    scored = [
        (Mention("x", f"m{i}", COMPLAINTS[0], author=f"a{i}"), Score(90, True, "outage", -0.8, []))
        for i in range(8)
    ]
    world.store.save_batch("x", scored, alert_channel=ALERT_CHANNEL)
    barrier = threading.Barrier(6)
    results: list = []

    def check():
        store = Store(world.settings.db_path, clock=world.clock)  # a connection of its own
        barrier.wait()
        results.append(storm.check(store, world.settings)[0])

    threads = [threading.Thread(target=check) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results, key=str).count("opened") == 1
    assert sorted(r for r in results if r != "opened") == ["updated"] * 5
    assert len(world.store.storms()) == 1
    assert [e["action"] for e in world.store.events() if e["action"] == "storm_open"] == [
        "storm_open"
    ]


def test_storm_posted_twice_keeps_the_first_ts_and_one_event(tmp_path, slack):
    """A reconcile and a late answer to the original post both say "posted": recorded once."""
    world = World(tmp_path, slack)
    scored = [
        (Mention("x", f"m{i}", COMPLAINTS[0], author=f"a{i}"), Score(90, True, "outage", -0.8, []))
        for i in range(8)
    ]
    world.store.save_batch("x", scored, alert_channel=ALERT_CHANNEL)
    action, opened = storm.check(world.store, world.settings)
    assert action == "opened"
    assert world.store.storm_begin_post(opened["id"]) is True
    world.store.storm_posted(opened["id"], "1764151200.000100")
    world.store.storm_posted(opened["id"], "1764151200.000200")
    row = world.store.storm(opened["id"])
    assert (row["msg_state"], row["ts"]) == ("sent", "1764151200.000100")
    assert [
        (e["action"], e["detail"]) for e in world.store.events() if e["action"] == "storm_posted"
    ] == [("storm_posted", {"storm": opened["id"]})]


def test_factor_over_the_baseline(tmp_path, slack):
    """A steady 2 alerts per 10 minutes all day: 5 at once is no storm at factor 4, 8 is."""
    world = World(tmp_path, slack, storm_min_mentions=5, storm_factor=4.0, storm_baseline_hours=6)
    score = Score(90, True, "outage", -0.8, [])
    n = 0

    def save(count: int) -> None:
        nonlocal n
        batch = []
        for _ in range(count):
            n += 1
            batch.append((Mention("x", f"m{n}", COMPLAINTS[0], author=f"a{n}"), score))
        world.store.save_batch("x", batch, alert_channel=ALERT_CHANNEL)

    world.clock.now = START - timedelta(hours=6)
    for _ in range(36):
        world.clock.now += timedelta(minutes=10)
        save(2)
    world.clock.now += timedelta(minutes=9)
    save(3)  # 5 in the window with the last 2
    assert storm.check(world.store, world.settings) == (None, None)
    save(3)  # 8 in the window: 4 x the baseline of 2
    action, row = storm.check(world.store, world.settings)
    assert action == "opened"
    assert (row["threshold"], row["window_count"]) == (8, 8)
    assert row["baseline"] == pytest.approx(2.0, abs=0.1)
    text = blocks.storm_message(row, now=world.clock(), tz=UTC)["text"]
    assert text.startswith("🌩️ Storm: 8 urgent mentions in 10 min, 4.1× normal")


def test_storm_mode_off_and_config_checks(tmp_path, slack):
    world = World(tmp_path, slack, storm_min_mentions=0)
    world.add(12)
    assert world.poll().posted == 12
    assert world.storm_messages() == [] and len(world.top_level()) == 12
    assert Settings.load(environ={}, path=write_config(tmp_path)).triage.storm_factor == 4.0
    with pytest.raises(ConfigError) as err:
        Settings.load(environ={}, path=write_config(tmp_path, storm_factor='"4x"'))
    assert "[triage] storm_factor must be a number" in str(err.value)
    with pytest.raises(ConfigError) as err:
        Settings.load(environ={}, path=write_config(tmp_path, storm_baseline_hours=0))
    assert "[triage] storm_baseline_hours must be" in str(err.value)


def test_storm_message_escapes_terms():
    row = {
        "id": 3,
        "started_at": "2026-11-26T10:42:00Z",
        "ended_at": None,
        "window_count": 23,
        "peak": 30,
        "baseline": 5.75,
    }
    message = blocks.storm_message(row, now=START, tz=UTC, terms=["<!channel>", "outage"])
    text = message["blocks"][0]["text"]["text"]
    assert "top terms: &lt;!channel&gt;, outage" in text
    assert "4× normal* (peak 30)" in text
    assert message["metadata"] == {
        "event_type": ids.STORM_EVENT_TYPE,
        "event_payload": {"storm_id": 3},
    }
