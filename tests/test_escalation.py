"""On-call escalation driven by a clock the test moves: levels fire once, a claim stops them,
a restart or a second process repeats nothing, a failed DM falls back to the channel, follow-up
reminders, PagerDuty over HTTP, the user group and the single-runner lease. Slack is the fake
Slack Web API over real HTTP."""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bot.config import Settings
from bot.escalation import Escalator, LeaseKeeper, severity_for
from bot.models import Mention, Score
from bot.pagerduty import PagerDuty
from bot.poster import SlackPoster
from bot.slack import make_client
from storage import Store
from storage import escalation as esc_store
from tests.fakes.pagerduty import FakePagerDuty
from tests.fakes.slack import FakeSlack
from tests.support import ALERT_CHANNEL, BOT_TOKEN, SIGNING_SECRET, Bot, write_config

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # Thursday 10:00 in London; U0ALICE on call
ROUTING_KEY = "R0UTINGKEY0123456789abcdef012345"


class Clock:
    def __init__(self, now: datetime = T0):
        self.now = now
        self.lock = threading.Lock()

    def __call__(self) -> datetime:
        with self.lock:
            return self.now

    def set(self, **kwargs) -> None:
        """Move to T0 + the given time."""
        with self.lock:
            self.now = T0 + timedelta(**kwargs)


class World:
    def __init__(self, tmp_path, slack: FakeSlack, clock: Clock, extra: str = "", env=None):
        self.tmp_path, self.slack, self.clock = tmp_path, slack, clock
        self.settings = Settings.load(
            environ={"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": slack.base_url, **(env or {})},
            path=write_config(tmp_path, extra=extra),
            db_path=str(tmp_path / "m.db"),
        )
        self.store = Store(self.settings.db_path, clock=clock)
        self.store.migrate()
        self.client = make_client(self.settings)
        self.poster = SlackPoster(self.client, self.store, self.settings, clock=clock)
        self.escalator = self.new_escalator()
        self._n = 0

    def new_escalator(self, **kwargs) -> Escalator:
        """An Escalator as a fresh process would build it: its own Store on the same file."""
        store = Store(self.settings.db_path, clock=self.clock)
        client = make_client(self.settings)
        poster = SlackPoster(client, store, self.settings, clock=self.clock)
        return Escalator(self.settings, store, client, clock=self.clock, poster=poster, **kwargs)

    def alert(
        self, *, source: str = "hackernews", urgency: int = 80, age: timedelta = timedelta(0)
    ) -> int:
        """An urgent mention posted by the customer `age` ago, alerted in Slack now."""
        self._n += 1
        mention = Mention(
            source=source,
            external_id=f"m{self._n}",
            text="My Acme laptop died <!channel> and support won't answer",
            author=f"dana{self._n}",  # one author each: never merged as a cross-post
            author_name=f"Dana {self._n}",
            followers=12,
            url=f"https://news.ycombinator.com/item?id={self._n}",
            created_at=self.clock() - age,
        )
        score = Score(urgency, True, "product", -0.7, ["broken: 'died'", "no answer"])
        saved = self.store.save_batch(source, [(mention, score)], alert_channel=ALERT_CHANNEL)
        assert self.poster.flush() == 1
        return saved.new_ids[0]

    def dms(self, user: str) -> list[str]:
        return [m["text"] for m in self.slack.messages("D" + user)]

    def oncall_posts(self) -> list[str]:
        return [m["text"] for m in self.slack.messages("C0ONCALL")]

    def thread(self, mention_id: int) -> list[str]:
        m = self.store.mention(mention_id)
        replies = self.client.conversations_replies(channel=m["channel"], ts=m["ts"])
        return [r["text"] for r in replies["messages"][1:]]

    def escalations(self) -> list[tuple[int, str, dict]]:
        return [
            (e["mention_id"], e["actor"], e["detail"])
            for e in self.store.events()
            if e["action"] == "escalate"
        ]


@pytest.fixture
def slack():
    with FakeSlack(token=BOT_TOKEN) as fake:
        yield fake
        assert fake.errors == []


@pytest.fixture
def world(tmp_path, slack):
    return World(tmp_path, slack, Clock())


def make_world(tmp_path, slack, extra: str = "", **kwargs) -> World:
    return World(tmp_path, slack, Clock(), extra=extra, **kwargs)


# --- the SLA clock -----------------------------------------------------------------------------


def test_no_claim_l1_once_then_l2_once(world):
    mid = world.alert()
    ticks = {}
    for minutes in (0, 10, 19.5, 20, 20.5, 21, 30, 39.5, 40, 40.5, 60, 600):
        world.clock.set(minutes=minutes)
        ticks[minutes] = world.escalator.tick()["escalated"]
    assert {k: v for k, v in ticks.items() if v} == {20: 1, 40: 1}
    assert world.escalations() == [
        (mid, "mentionops", {"level": 1, "to": ["U0ALICE"], "severity": "SEV2", "auto": True}),
        (mid, "mentionops", {"level": 2, "to": ["U0MANAGER"], "severity": "SEV2", "auto": True}),
    ]
    row = world.store.mention(mid)
    assert (row["escalation_level"], row["escalated_at"], row["escalated_to"]) == (
        2,
        "2026-11-26T10:40:00Z",
        "U0MANAGER",
    )
    assert len(world.dms("U0ALICE")) == 1
    assert len(world.dms("U0MANAGER")) == 1
    dm = world.slack.messages("DU0ALICE")[0]
    text = str(dm["blocks"])
    assert "Escalated to you (L1 on-call, SEV2)" in text
    assert "urgency 80/100" in text
    assert "broken: 'died' · no answer" in text
    assert "<https://acme.slack.com/archives/C0ALERTS/p" in text  # the alert's permalink
    assert "&lt;!channel&gt;" in text and "<!channel>" not in text  # escaped
    posts = world.oncall_posts()
    assert len(posts) == 2
    assert posts[0].startswith("🚨 <@U0ALICE>: escalated (SEV2, L1)")
    assert posts[1].startswith("🚨 <@U0MANAGER>: escalated (SEV2, L2)")
    assert world.thread(mid) == [
        "🚨 Unclaimed past its SLA: escalated to <@U0ALICE> (L1, SEV2)",
        "🚨 Still unclaimed: escalated to <@U0MANAGER> (L2, SEV2)",
    ]
    assert len(world.slack.calls_to("chat.update")) == 2  # the card re-rendered each time


def test_claim_just_before_the_deadline_means_no_ping(world):
    mid = world.alert()
    world.clock.set(minutes=19, seconds=59)
    assert world.escalator.tick()["escalated"] == 0
    assert world.store.claim(mid, "U0BOB").ok
    for minutes in (20, 40, 100):
        world.clock.set(minutes=minutes)
        assert world.escalator.tick()["escalated"] == 0
    assert world.escalations() == []
    assert world.slack.calls_to("conversations.open") == []
    assert world.oncall_posts() == []
    assert world.store.mention(mid)["escalation_level"] == 0


def test_claim_between_levels_stops_l2_and_resolved_never_escalates(world):
    first, second = world.alert(), world.alert()
    assert world.store.resolve(second, "U0MANAGER", manager=True).ok
    world.clock.set(minutes=20)
    world.escalator.tick()
    assert world.store.claim(first, "U0ALICE").ok
    world.clock.set(minutes=45)
    world.escalator.tick()
    assert [(m, d["level"]) for m, _, d in world.escalations()] == [(first, 1)]


def test_restart_between_levels_repeats_nothing(world):
    world.alert()
    world.clock.set(minutes=20)
    assert world.escalator.tick()["escalated"] == 1
    # A new process: new Store, new client, nothing in memory.
    restarted = world.new_escalator()
    for minutes in (20, 25, 39):
        world.clock.set(minutes=minutes)
        assert restarted.tick()["escalated"] == 0
    world.clock.set(minutes=40)
    assert restarted.tick()["escalated"] == 1
    world.clock.set(minutes=41)
    assert world.new_escalator().tick()["escalated"] == 0
    assert [d["level"] for _, _, d in world.escalations()] == [1, 2]
    assert len(world.dms("U0ALICE")) == 1 and len(world.dms("U0MANAGER")) == 1


def test_two_escalators_on_one_database_ping_once(world):
    ids = [world.alert() for _ in range(4)]
    escalators = [world.new_escalator(), world.new_escalator()]
    world.clock.set(minutes=20)
    barrier = threading.Barrier(2)
    results: list[int] = []

    def run(escalator):
        barrier.wait()
        results.append(escalator.tick()["escalated"])

    threads = [threading.Thread(target=run, args=(e,)) for e in escalators]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sum(results) == 4
    assert sorted(m for m, _, _ in world.escalations()) == ids
    assert len(world.dms("U0ALICE")) == 4
    assert len(world.oncall_posts()) == 4


def test_found_past_its_sla_escalates_at_once_and_l2_waits_its_gap(world):
    mid = world.alert(age=timedelta(hours=3))
    assert world.escalator.tick()["escalated"] == 1
    world.clock.set(minutes=19)
    assert world.escalator.tick()["escalated"] == 0
    world.clock.set(minutes=20)
    assert world.escalator.tick()["escalated"] == 1
    assert [(m, d["level"]) for m, _, d in world.escalations()] == [(mid, 1), (mid, 2)]


def test_sla_by_source_and_severity(tmp_path, slack):
    world = make_world(
        tmp_path,
        slack,
        "[escalation]\nlevels = 1\nsla_by_source = {hackernews = 60, x = 5}\n"
        "sla_by_severity = {SEV1 = 10}\n",
    )
    x = world.alert(source="x", urgency=70)
    hn = world.alert(source="hackernews", urgency=70)
    hn_severe = world.alert(source="hackernews", urgency=95)
    fired = {}
    for minutes in (4, 5, 9, 10, 59, 60, 61):
        world.clock.set(minutes=minutes)
        world.escalator.tick()
        fired[minutes] = [m for m, _, _ in world.escalations()]
    assert fired == {
        4: [],
        5: [x],
        9: [x],
        10: [x, hn_severe],
        59: [x, hn_severe],
        60: [x, hn_severe, hn],
        61: [x, hn_severe, hn],
    }
    assert [d["severity"] for _, _, d in world.escalations()] == ["SEV3", "SEV1", "SEV3"]


def test_quiet_hours_hold_back_all_but_high_urgency(tmp_path, slack):
    world = make_world(
        tmp_path, slack, '[escalation]\nquiet_hours = "20:00-08:00"\nquiet_min_urgency = 90\n'
    )
    world.clock.now = datetime(2026, 11, 26, 21, 0, tzinfo=UTC)  # 21:00 in London
    low = world.alert(urgency=70)
    high = world.alert(urgency=92)
    world.clock.now += timedelta(minutes=25)
    world.escalator.tick()
    assert [m for m, _, _ in world.escalations()] == [high]
    world.clock.now = datetime(2026, 11, 27, 7, 59, tzinfo=UTC)
    world.escalator.tick()
    assert [m for m, _, _ in world.escalations()] == [high, high]  # high reaches L2 at night
    world.clock.now = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)  # the morning: low goes to L1
    world.escalator.tick()
    assert [(m, d["level"]) for m, _, d in world.escalations()][2:] == [(low, 1)]


def test_levels_zero_turns_off_the_clock_but_not_the_button(tmp_path, slack):
    world = make_world(tmp_path, slack, "[escalation]\nlevels = 0\n")
    mid = world.alert()
    world.clock.set(hours=5)
    assert world.escalator.tick()["escalated"] == 0
    assert world.escalator.escalate(mid, by="U0CAROL").ok


# --- pings -----------------------------------------------------------------------------------


def test_dm_failure_falls_back_to_the_channel_post(world):
    mid = world.alert()
    world.slack.fail_next("conversations.open", error="user_disabled")
    world.clock.set(minutes=20)
    assert world.escalator.tick()["escalated"] == 1
    assert world.dms("U0ALICE") == []
    [post] = world.slack.messages("C0ONCALL")
    assert post["text"].startswith("🚨 <@U0ALICE>: escalated")
    assert (
        "⚠️ The direct message to <@U0ALICE> failed (user_disabled), so this post is the ping."
        in str(post["blocks"])
    )
    assert world.thread(mid) == [
        "🚨 Unclaimed past its SLA: escalated to <@U0ALICE> (L1, SEV2) · DM failed for "
        "<@U0ALICE>, pinged in the channel instead"
    ]


def test_manual_escalation(world):
    mid = world.alert()
    result = world.escalator.escalate(
        mid, by="U0CAROL", level=2, severity="sev1", note="<!here> the press picked it up"
    )
    assert (result.ok, result.level, result.targets, result.reason, result.text) == (
        True,
        2,
        ("U0MANAGER",),
        None,
        "Escalated to <@U0MANAGER> (L2, SEV1).",
    )
    assert result.mention["escalation_level"] == 2
    assert world.thread(mid) == [
        "🚨 <@U0CAROL> escalated this to <@U0MANAGER> (L2, SEV1): "
        "“&lt;!here&gt; the press picked it up”"
    ]
    # Already at L2: neither the button at L1 nor the clock pings again.
    again = world.escalator.escalate(mid, by="U0BOB", level=1)
    assert (again.ok, again.reason, again.text) == (
        False,
        "already_escalated",
        "Already escalated to <@U0MANAGER> (L2). Choose a higher level to go further.",
    )
    world.clock.set(hours=3)
    assert world.escalator.tick()["escalated"] == 0
    assert len(world.dms("U0MANAGER")) == 1


def test_manual_escalation_of_a_claimed_mention_and_refusals(world):
    claimed = world.alert()
    world.store.claim(claimed, "U0BOB")
    result = world.escalator.escalate(claimed, by="U0BOB")
    assert (result.ok, result.targets) == (True, ("U0ALICE",))
    assert world.escalations() == [
        (claimed, "U0BOB", {"level": 1, "to": ["U0ALICE"], "severity": "SEV2"})
    ]
    done = world.alert()
    world.store.resolve(done, "U0MANAGER", manager=True)
    assert world.escalator.escalate(done, by="U0BOB").reason == "resolved"
    assert world.escalator.escalate(999, by="U0BOB").reason == "not_found"
    assert world.escalator.escalate(claimed, by="U0BOB", level=3).reason == "no_level"


def test_check_answers_as_escalate_would_and_changes_nothing(world):
    fresh, claimed, done = world.alert(), world.alert(), world.alert()
    world.store.claim(claimed, "U0BOB")
    world.store.resolve(done, "U0MANAGER", manager=True)
    assert world.escalator.escalate(claimed, by="U0BOB").ok
    before = (world.store.events(), [world.store.mention(i) for i in (fresh, claimed, done)])
    calls = len(world.slack.calls)

    def check(mention_id, level=1, severity="SEV2"):
        result = world.escalator.check(mention_id, level, severity=severity)
        return result.ok, result.reason, result.targets

    assert check(fresh) == (True, None, ("U0ALICE",))
    assert check(fresh, 2) == (True, None, ("U0MANAGER",))
    assert check(claimed) == (False, "already_escalated", ())
    assert check(claimed, 2) == (True, None, ("U0MANAGER",))
    assert check(done) == (False, "resolved", ())
    assert check(999) == (False, "not_found", ())
    assert check(fresh, 3) == (False, "no_level", ())
    assert check(fresh, 1, "SEV9") == (False, "no_severity", ())
    assert (world.store.events(), [world.store.mention(i) for i in (fresh, claimed, done)]) == (
        before
    )
    assert len(world.slack.calls) == calls  # no Slack call either
    assert world.escalator.escalate(claimed, by="U0BOB").reason == "already_escalated"


def test_override_changes_who_gets_l1(world):
    esc_store.add_override(
        world.store, "U0DAVE", T0, T0 + timedelta(hours=8), by="U0MANAGER", now=T0
    )
    world.alert()
    world.clock.set(minutes=20)
    world.escalator.tick()
    assert len(world.dms("U0DAVE")) == 1 and world.dms("U0ALICE") == []


def test_followup_reminders_once_then_every_interval(tmp_path, slack):
    world = make_world(tmp_path, slack, "[escalation]\nfollowup_repeat_minutes = 60\n", env=None)
    mid = world.alert()
    world.clock.set(minutes=5)
    world.store.claim(mid, "U0BOB")
    sent = {}
    for minutes in (60, 124, 125, 126, 150, 184, 185, 186):
        world.clock.set(minutes=minutes)
        sent[minutes] = world.escalator.tick()["reminded"]
    assert {k: v for k, v in sent.items() if v} == {125: 1, 185: 1}
    assert [t.split(":")[0] for t in world.dms("U0BOB")] == ["⏰ Still open"] * 2
    # Unclaim and claim again: the reminders count from the new claim.
    world.store.unclaim(mid, "U0BOB")
    world.clock.set(minutes=200)
    world.store.claim(mid, "U0CAROL")
    world.clock.set(minutes=319)
    assert world.escalator.tick()["reminded"] == 0
    world.clock.set(minutes=320)
    assert world.escalator.tick()["reminded"] == 1
    assert len(world.dms("U0CAROL")) == 1
    overdue = esc_store.overdue_claims(world.store, world.clock() - timedelta(minutes=120))
    assert [m["id"] for m in overdue] == [mid]


def test_followup_dm_failure_goes_to_the_thread(world):
    mid = world.alert()
    world.store.claim(mid, "U0BOB")
    world.slack.fail_next("conversations.open", error="user_not_found")
    world.clock.set(minutes=120)
    assert world.escalator.tick()["reminded"] == 1
    assert world.thread(mid)[-1] == (
        "⏰ <@U0BOB>, this is still open: resolve it, or unclaim it so someone else can pick it up."
    )


# --- PagerDuty -----------------------------------------------------------------------------------


@pytest.fixture
def paged(tmp_path, slack):
    with FakePagerDuty(routing_key=ROUTING_KEY) as pd:
        world = make_world(
            tmp_path,
            slack,
            f'[escalation]\npagerduty_min_severity = "SEV2"\npagerduty_url = "{pd.base_url}"\n',
            env={"PAGERDUTY_ROUTING_KEY": ROUTING_KEY},
        )
        yield world, pd
        assert pd.errors == []


def test_pagerduty_trigger_then_resolve(paged):
    world, pd = paged
    mid = world.alert(urgency=80)
    low = world.alert(urgency=65)  # SEV3: below pagerduty_min_severity
    world.clock.set(minutes=20)
    assert world.escalator.tick() == {"escalated": 2, "reminded": 0, "pagerduty": 1}
    [trigger] = pd.events
    link = trigger["payload"]["custom_details"]["alert"]
    assert trigger == {
        "routing_key": ROUTING_KEY,
        "event_action": "trigger",
        "dedup_key": f"mentionops-{mid}",
        "payload": {
            "summary": "[Acme] SEV2 L1: urgent hackernews mention from @dana1: My Acme laptop died "
            "<!channel> and support won't answer",
            "source": "mentionops:hackernews",
            "severity": "error",
            "custom_details": {
                "mention_id": mid,
                "urgency": 80,
                "reasons": ["broken: 'died'", "no answer"],
                "post": "https://news.ycombinator.com/item?id=1",
                "alert": link,
                "level": 1,
                "escalated_to": ["U0ALICE"],
            },
        },
    }
    assert link.startswith("https://acme.slack.com/archives/C0ALERTS/p")
    # L2 does not trigger again; resolving in Slack resolves the incident.
    world.clock.set(minutes=40)
    world.escalator.tick()
    world.store.resolve(mid, "U0MANAGER", manager=True)
    world.store.resolve(low, "U0MANAGER", manager=True)
    world.clock.set(minutes=41)
    assert world.escalator.tick()["pagerduty"] == 1
    assert [(e["event_action"], e["dedup_key"]) for e in pd.events] == [
        ("trigger", f"mentionops-{mid}"),
        ("resolve", f"mentionops-{mid}"),
    ]
    assert pd.incidents == {f"mentionops-{mid}": "resolved"}
    world.clock.set(minutes=50)
    assert world.escalator.tick()["pagerduty"] == 0
    assert len(pd.requests) == 2
    # The routing key is never stored in the database.
    assert ROUTING_KEY not in str(esc_store.pagerduty_rows(world.store))


def test_pagerduty_closed_by_not_urgent_and_never_paged_once_closed(paged):
    world, pd = paged
    # Escalated and paged, then marked not urgent by its owner: the incident is resolved too.
    dismissed = world.alert(urgency=80)
    world.clock.set(minutes=20)
    assert world.escalator.tick() == {"escalated": 1, "reminded": 0, "pagerduty": 1}
    assert world.store.claim(dismissed, "U0BOB").ok
    assert world.store.ignore(dismissed, "U0BOB", "spam").ok
    # Escalated by hand, then resolved before the job sent its trigger: nobody is paged.
    quick = world.alert(urgency=80)
    assert world.escalator.escalate(quick, by="U0BOB", severity="SEV1").ok
    assert world.store.resolve(quick, "U0MANAGER", manager=True).ok
    world.clock.set(minutes=21)
    assert world.escalator.tick()["pagerduty"] == 1
    world.clock.set(minutes=22)
    assert world.escalator.tick()["pagerduty"] == 0
    assert [(e["event_action"], e["dedup_key"]) for e in pd.events] == [
        ("trigger", f"mentionops-{dismissed}"),
        ("resolve", f"mentionops-{dismissed}"),
    ]
    assert pd.incidents == {f"mentionops-{dismissed}": "resolved"}
    assert [
        (r["mention_id"], r["action"], r["state"], r["attempts"], r["last_error"])
        for r in esc_store.pagerduty_rows(world.store)
    ] == [
        (dismissed, "trigger", "sent", 1, None),
        (quick, "trigger", "failed", 0, "not sent: the mention was closed first"),
        (dismissed, "resolve", "sent", 1, None),
    ]
    assert [
        (e["mention_id"], e["action"], e["detail"])
        for e in world.store.events()
        if e["action"].startswith("pagerduty")
    ] == [(quick, "pagerduty_cancelled", {"action": "trigger", "status": "resolved"})]


def test_pagerduty_429_and_5xx_retried_with_backoff(paged):
    world, pd = paged
    mid = world.alert(urgency=95)
    pd.fail_next(429)
    world.clock.set(minutes=20)
    assert world.escalator.tick()["pagerduty"] == 0
    assert world.dms("U0ALICE") != []  # Slack was not held up
    [row] = esc_store.pagerduty_rows(world.store)
    assert (row["state"], row["attempts"], row["last_error"], row["next_attempt_at"]) == (
        "pending",
        1,
        "HTTP 429: Slow down",
        "2026-11-26T10:20:30Z",
    )
    world.clock.set(minutes=20, seconds=29)
    world.escalator.tick()
    assert len(pd.requests) == 1  # not before its backoff
    pd.fail_next(503)
    world.clock.set(minutes=20, seconds=30)
    world.escalator.tick()
    assert esc_store.pagerduty_rows(world.store)[0]["next_attempt_at"] == "2026-11-26T10:21:30Z"
    world.clock.set(minutes=21, seconds=30)
    assert world.escalator.tick()["pagerduty"] == 1
    assert len(pd.requests) == 3
    assert [e["dedup_key"] for e in pd.events] == [f"mentionops-{mid}"]
    assert esc_store.pagerduty_rows(world.store)[0]["state"] == "sent"


def test_pagerduty_unreachable_is_retried_and_a_bad_key_is_not(tmp_path, slack):
    world = make_world(
        tmp_path,
        slack,
        '[escalation]\npagerduty_url = "http://127.0.0.1:9"\n',
        env={"PAGERDUTY_ROUTING_KEY": ROUTING_KEY},
    )
    world.alert(urgency=95)
    world.clock.set(minutes=20)
    world.escalator.tick()
    [row] = esc_store.pagerduty_rows(world.store)
    assert (row["state"], row["last_error"]) == ("pending", "network: ConnectError")
    with FakePagerDuty(routing_key="another-key") as pd:
        world.escalator.pagerduty = PagerDuty(ROUTING_KEY, pd.base_url)
        world.clock.set(minutes=30)
        world.escalator.tick()
    [row] = esc_store.pagerduty_rows(world.store)
    assert (row["state"], row["last_error"]) == (
        "failed",
        "HTTP 400: Event object is invalid [\"'routing_key' is invalid\"]",
    )


def test_no_routing_key_no_pagerduty(world):
    world.alert(urgency=95)
    world.clock.set(minutes=20)
    world.escalator.tick()
    assert world.escalator.pagerduty is None
    assert esc_store.pagerduty_rows(world.store) == []


# --- user group ----------------------------------------------------------------------------------


def test_usergroup_follows_the_rotation(tmp_path, slack):
    world = make_world(tmp_path, slack)
    config = tmp_path / "mentionops.toml"  # write_config's [oncall] table, plus the group
    config.write_text(
        config.read_text().replace(
            'timezone = "Europe/London"', 'timezone = "Europe/London"\nusergroup = "S0ONCALL"'
        )
    )
    settings = Settings.load(
        environ={"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": slack.base_url},
        path=config,
        db_path=world.settings.db_path,
    )
    escalator = Escalator(settings, world.store, world.client, clock=world.clock)
    escalator.tick()
    escalator.tick()
    world.clock.now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # Monday's handover
    escalator.tick()
    calls = slack.calls_to("usergroups.users.update")
    assert [(c.args["usergroup"], c.args["users"]) for c in calls] == [
        ("S0ONCALL", "U0ALICE"),
        ("S0ONCALL", "U0BOB"),
    ]


# --- the lease -----------------------------------------------------------------------------------


class FakeScheduler:
    def __init__(self):
        self.running = False
        self.state = 0
        self.log: list[str] = []

    def start(self):
        self.running, self.state = True, 1
        self.log.append("start")

    def pause(self):
        self.state = 2
        self.log.append("pause")

    def resume(self):
        self.state = 1
        self.log.append("resume")


def test_lease_one_runner_the_other_waits_then_takes_over(world, caplog):
    caplog.set_level(logging.INFO, logger="bot.escalation")
    alive = lambda pid: True  # noqa: E731 - both "processes" are alive
    first = LeaseKeeper(Store(world.store.path), clock=world.clock, pid=101, host="a", alive=alive)
    second = LeaseKeeper(Store(world.store.path), clock=world.clock, pid=202, host="b", alive=alive)
    s1, s2 = FakeScheduler(), FakeScheduler()
    assert first.step(s1) is True
    assert second.step(s2) is False
    assert (s1.log, s2.log) == (["start"], [])
    assert (
        "Another mentionops is running on this database (pid 101 on host a); waiting as standby"
        in caplog.text
    )
    assert second.health() == {
        "lease": "standby",
        "holder": {"pid": 101, "host": "a"},
        "expires_at": "2026-11-26T10:01:00Z",
    }
    # The first renews; the second keeps waiting.
    for seconds in (15, 30, 45, 60, 75):
        world.clock.set(seconds=seconds)
        assert first.step(s1) is True
        assert second.step(s2) is False
    # The first hangs (no renewal) past the TTL: the second takes over, the first stands down.
    world.clock.set(seconds=136)
    assert second.step(s2) is True
    assert s2.log == ["start"]
    assert first.step(s1) is False
    assert s1.log == ["start", "pause"]
    world.clock.set(seconds=200)
    second.release()
    assert first.step(s1) is True
    assert s1.log == ["start", "pause", "resume"]


def test_lease_taken_over_at_once_from_a_dead_process_on_this_host(world):
    dead = LeaseKeeper(Store(world.store.path), clock=world.clock, pid=101, host="h")
    assert dead.acquire()
    fresh = LeaseKeeper(
        Store(world.store.path), clock=world.clock, pid=202, host="h", alive=lambda pid: False
    )
    assert fresh.acquire() is True
    assert [e["detail"] for e in world.store.events() if e["action"] == "lease_acquired"] == [
        {"pid": 101, "host": "h", "from": None},
        {"pid": 202, "host": "h", "from": dead.holder},
    ]


def test_severity_from_urgency():
    assert [severity_for(u) for u in (100, 90, 89, 75, 74, 60)] == [
        "SEV1",
        "SEV1",
        "SEV2",
        "SEV2",
        "SEV3",
        "SEV3",
    ]


def test_tick_is_quick(world):
    for _ in range(20):
        world.alert()
    world.clock.set(minutes=20)
    started = time.monotonic()
    assert world.escalator.tick()["escalated"] == 20
    assert time.monotonic() - started < 10


# --- two `mentionops run` on one database --------------------------------------------------------


def test_second_process_on_the_same_database_waits_as_standby(tmp_path, slack):
    config = write_config(tmp_path)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "MENTIONOPS_", "PAGERDUTY_"))
    }
    env.update(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack.base_url,
        MENTIONOPS_CONFIG=str(config),
        MENTIONOPS_DB=str(tmp_path / "one.db"),
        PYTHONUNBUFFERED="1",
    )
    first = Bot(env, tmp_path)
    try:
        second = Bot(env, tmp_path)
        try:
            assert httpx.get(f"{first.url}/healthz", timeout=5).json()["status"] == "ok"
            health = httpx.get(f"{second.url}/healthz", timeout=5)
            assert health.status_code == 200
            body = health.json()
            assert (body["status"], body["scheduler"], body["lease"]) == (
                "standby",
                "standby",
                "standby",
            )
            assert body["holder"]["pid"] == first.proc.pid
            assert any(
                f"Another mentionops is running on this database (pid {first.proc.pid} on host "
                in line
                and "waiting as standby" in line
                for line in second.lines
            )
        finally:
            assert second.stop() == 0
    finally:
        assert first.stop() == 0
