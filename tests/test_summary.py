"""Manager summaries over a seeded database with known answers: exact figures, period bounds in
the configured time zone, manager and non-manager views, `/mentions summary` end to end."""

from __future__ import annotations

import json
import sqlite3
import struct
import time
from contextlib import closing
from datetime import UTC, date, datetime, timedelta

import pytest

from bot import blocks, ids
from bot.chart import summary_chart
from bot.models import Mention, Score
from bot.summary import (
    DayFigures,
    Period,
    compute,
    day_period,
    median,
    p90,
    period_for,
    top_terms,
)
from storage import Store
from tests.support import (
    ALERT_CHANNEL,
    block_action,
    bolt_app,
    form_body,
    slash_command,
)

LONDON = "Europe/London"
NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)  # a Thursday; London is on GMT (UTC+0)
MIN = 60


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


class Seeder:
    """Mentions stored, posted, claimed and resolved through the real storage functions, each
    at a time the test chooses."""

    def __init__(self, store: Store, clock: Clock):
        self.store, self.clock, self.n = store, clock, 0

    def mention(
        self,
        created: datetime,
        *,
        source: str = "x",
        text: str = "Acme is fine",
        urgent: bool = False,
        category: str = "other",
    ) -> int:
        self.n += 1
        self.clock.now = created
        mention = Mention(
            source=source,
            external_id=f"m{self.n}",
            text=text,
            author=f"user{self.n}",
            url=f"https://example.com/{self.n}",
            created_at=created,
        )
        score = Score(80 if urgent else 10, urgent, category, -0.5, [])
        saved = self.store.save_batch(
            source, [(mention, score)], alert_channel=ALERT_CHANNEL if urgent else None
        )
        mention_id = saved.new_ids[0]
        if urgent:
            self.store.begin_send(mention_id)
            assert self.store.mark_sent(mention_id, ALERT_CHANNEL, f"{1_700_000_000 + self.n}.0")
        return mention_id

    def do(self, when: datetime, action: str, mention_id: int, user: str) -> None:
        self.clock.now = when
        result = getattr(self.store, action)(mention_id, user)
        assert result.ok, (action, result)

    def sql(self, statement: str, params=()) -> None:
        with closing(sqlite3.connect(self.store.path)) as conn:
            conn.execute(statement, params)
            conn.commit()


def seed(store: Store, clock: Clock) -> dict[str, int]:
    """Today (26 Nov until 15:00) and the same hours yesterday; see each line for its part."""
    s = Seeder(store, clock)
    ids_ = {}
    # Today.
    ids_["m1"] = s.mention(
        at(26, 9), text="Acme charged me twice, I want a refund now", urgent=True, category="money"
    )
    ids_["m2"] = s.mention(
        at(26, 10), text="Acme checkout down again, refund please", urgent=True, category="down"
    )
    ids_["m3"] = s.mention(
        at(26, 11),
        source="hackernews",
        text="Acme double charged my card, refund",
        urgent=True,
        category="money",
    )
    ids_["m4"] = s.mention(
        at(26, 12),
        source="hackernews",
        text="Acme app down for hours",
        urgent=True,
        category="down",
    )
    ids_["m6"] = s.mention(at(26, 13), text="Acme ok whatever refund", urgent=True)
    ids_["m5"] = s.mention(at(26, 14, 50), text="Acme charged twice", urgent=True, category="money")
    for hour in (1, 2, 3):
        s.mention(at(26, hour), source="hackernews")
    for hour in (4, 5):
        s.mention(at(26, hour))
    s.do(at(26, 9, 5), "claim", ids_["m1"], "U0ALICE")  # 5 min
    s.do(at(26, 10), "resolve", ids_["m1"], "U0ALICE")  # resolved after 60 min
    s.do(at(26, 10, 30), "claim", ids_["m2"], "U0BOB")  # 30 min: past the 20 min SLA
    s.do(at(26, 10, 40), "unclaim", ids_["m2"], "U0BOB")
    s.do(at(26, 11), "claim", ids_["m2"], "U0ALICE")  # a re-claim does not reset the wait
    s.do(at(26, 12), "resolve", ids_["m2"], "U0ALICE")  # 120 min
    s.do(at(26, 11, 10), "claim", ids_["m3"], "U0BOB")  # 10 min
    s.sql(
        "UPDATE mentions SET escalation_level = 1, escalated_at = ? WHERE id = ?",
        ["2026-11-26T11:30:00Z", ids_["m3"]],
    )
    s.sql("UPDATE mentions SET status = 'ignored' WHERE id = ?", [ids_["m6"]])
    # Yesterday, until 15:00: the previous period of `today`.
    ids_["y1"] = s.mention(at(25, 8), text="Acme refund", urgent=True, category="money")
    s.do(at(25, 8, 10), "claim", ids_["y1"], "U0ALICE")
    s.do(at(25, 9), "resolve", ids_["y1"], "U0ALICE")
    ids_["y2"] = s.mention(at(25, 14), text="Acme <!channel> still waiting", urgent=True)
    s.mention(at(25, 10))
    s.mention(at(25, 16), urgent=True)  # after 15:00: in neither period
    clock.now = NOW
    return ids_


@pytest.fixture
def seeded(tmp_path):
    clock = Clock(NOW)
    store = Store(tmp_path / "s.db", clock=clock)
    store.migrate()
    ids_ = seed(store, clock)
    return store, ids_


def today(store: Store, **kwargs):
    return compute(
        store,
        period_for("today", NOW, LONDON),
        sla_minutes=20,
        now=NOW,
        ignore_terms=("acme",),
        **kwargs,
    )


# --- figures ---------------------------------------------------------------------------------


def test_headline_figures_are_exact(seeded):
    store, _ = seeded
    s = today(store)
    assert (s.seen, s.urgent, s.posted, s.claimed, s.resolved, s.escalated, s.ignored) == (
        11,
        6,
        6,
        3,
        2,
        1,
        1,
    )
    # Waits to the first claim: 5, 30 (Bob's, not Alice's re-claim) and 10 minutes.
    assert (s.claim_median, s.claim_p90) == (10 * MIN, 30 * MIN)
    assert (s.resolve_median, s.resolve_p90) == (90 * MIN, 120 * MIN)
    # Due: m1 (met), m2 (missed), m3 (met), m4 (unclaimed for 3 h); m5 is inside its SLA and
    # m6 was marked not urgent.
    assert (s.sla_met, s.sla_due, s.sla_share) == (2, 4, 0.5)


def test_breakdowns_agents_oldest_and_terms(seeded):
    store, ids_ = seeded
    s = today(store)
    assert [(b.name, b.seen, b.urgent, b.claimed) for b in s.by_source] == [
        ("x", 6, 4, 2),
        ("hackernews", 5, 2, 1),
    ]
    assert [(b.name, b.seen, b.urgent) for b in s.by_category] == [
        ("money", 3, 3),
        ("down", 2, 2),
        ("other", 6, 1),
    ]
    assert [(a.user, a.claims, a.resolves, a.claim_median) for a in s.by_agent] == [
        ("U0BOB", 2, 0, 20 * MIN),
        ("U0ALICE", 1, 2, 5 * MIN),
    ]
    # The oldest unclaimed is yesterday's: it is about now, not the period.
    assert s.oldest_unclaimed["id"] == ids_["y2"]
    assert s.top_terms == (("refund", 4), ("charged", 3), ("down", 2), ("twice", 2))


def test_previous_period_is_the_same_hours_yesterday(seeded):
    store, _ = seeded
    p = today(store).previous
    assert (p.period.start, p.period.end) == (at(25, 0), at(25, 15))
    assert (p.seen, p.urgent, p.claimed, p.resolved, p.claim_median) == (3, 2, 1, 1, 10 * MIN)
    # y2 has waited since yesterday 14:00: past its SLA, unclaimed.
    assert (p.sla_met, p.sla_due) == (1, 2)


def test_daily_series_for_the_chart(seeded):
    store, _ = seeded
    s = compute(store, period_for("7d", NOW, LONDON), sla_minutes=20, now=NOW, series=True)
    assert [d.day for d in s.days] == [date(2026, 11, d) for d in range(20, 27)]
    assert [(d.seen, d.urgent) for d in s.days][-2:] == [(4, 3), (11, 6)]
    assert s.days[-1].claim_median == 10 * MIN
    assert s.days[-2].claim_median == 10 * MIN
    assert s.days[0] == DayFigures(date(2026, 11, 20), 0, 0, None)


def test_empty_database_has_no_figures(tmp_path):
    store = Store(tmp_path / "e.db")
    store.migrate()
    s = compute(store, period_for("30d", NOW, LONDON), sla_minutes=20, now=NOW)
    assert (s.seen, s.claimed, s.claim_median, s.sla_share, s.oldest_unclaimed) == (
        0,
        0,
        None,
        None,
        None,
    )
    text = json.dumps(blocks.summary_message(s, viewer="U0BOB", manager=False))
    assert "Nothing is waiting for a claim" in text


def test_median_and_p90_definitions():
    assert median([1, 2, 3, 4]) == 2.5
    assert p90(list(range(1, 11))) == 9  # rank ceil(9.0) = 9
    assert p90(list(range(1, 12))) == 10  # rank ceil(9.9) = 10
    assert (median([]), p90([])) == (None, None)


def test_terms_count_once_per_mention_and_skip_noise():
    texts = [
        "refund refund refund https://refund.example @refundbot",
        "REFUND me, the delivery is late",
        "late again: where is my delivery 12345",
    ]
    assert top_terms(texts, ignore=("acme",)) == (("delivery", 2), ("late", 2), ("refund", 2))


# --- periods in the configured time zone ---------------------------------------------------


def test_today_starts_at_local_midnight_in_summer():
    now = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)  # 11:00 in London (BST)
    p = period_for("today", now, LONDON)
    assert (p.start, p.end) == (datetime(2026, 6, 30, 23, 0, tzinfo=UTC), now)
    week = period_for("7d", now, LONDON)
    assert week.start == datetime(2026, 6, 24, 23, 0, tzinfo=UTC)
    assert period_for("24h", now, LONDON).start == now - timedelta(hours=24)
    assert period_for("30d", now, "UTC").start == datetime(2026, 6, 2, tzinfo=UTC)


def test_local_midnight_boundary_counts_on_the_right_day(tmp_path):
    clock = Clock(NOW)
    store = Store(tmp_path / "b.db", clock=clock)
    store.migrate()
    s = Seeder(store, clock)
    s.mention(datetime(2026, 6, 30, 22, 59, tzinfo=UTC))  # 23:59 BST on 30 June
    s.mention(datetime(2026, 6, 30, 23, 0, tzinfo=UTC))  # 00:00 BST on 1 July
    now = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    assert compute(store, period_for("today", now, LONDON), sla_minutes=20, now=now).seen == 1
    assert compute(store, period_for("today", now, "UTC"), sla_minutes=20, now=now).seen == 0


def test_periods_across_the_autumn_clock_change():
    now = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)  # clocks went back on 25 October
    week = period_for("7d", now, LONDON)
    assert week.start == datetime(2026, 10, 26, 0, 0, tzinfo=UTC)
    before = week.previous()
    # 19 Oct 00:00 BST, and 25 Oct 12:00 GMT: the same wall times a week earlier.
    assert (before.start, before.end) == (
        datetime(2026, 10, 18, 23, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 12, 0, tzinfo=UTC),
    )
    day = day_period(date(2026, 10, 25), LONDON)
    assert day.end - day.start == timedelta(hours=25)
    assert len(day_period(date(2026, 3, 29), LONDON).day_bounds()) == 2
    assert Period.from_value(week.to_value()) == week


# --- rendering: manager and non-manager views ------------------------------------------------


def test_manager_sees_every_agent(seeded):
    store, _ = seeded
    message = blocks.summary_message(
        today(store), viewer="U0MANAGER", manager=True, share_value="v"
    )
    text = json.dumps(message, ensure_ascii=False)
    assert message["response_type"] == "ephemeral"
    assert "*By agent*" in text
    assert "<@U0BOB>: 2 claims (median 20 min to claim), 0 resolved" in text
    assert "<@U0ALICE>: 1 claim (median 5 min to claim), 2 resolved" in text
    assert "Your figures" not in text
    assert message["blocks"][-1]["elements"][0]["action_id"] == ids.SHARE_SUMMARY
    assert len(message["blocks"]) <= 50
    for block in message["blocks"]:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000


def test_non_manager_sees_team_totals_and_their_own(seeded):
    store, _ = seeded
    message = blocks.summary_message(today(store), viewer="U0BOB", manager=False)
    text = json.dumps(message, ensure_ascii=False)
    assert "Seen *11* (▲ 267%)" in text
    assert "Claimed within SLA (20 min): *50%* (2 of 4)" in text
    assert "*Your figures*\\n2 claims (median 20 min to claim), 0 resolved" in text
    assert "U0ALICE" not in text and "By agent" not in text
    # Untrusted text in the oldest unclaimed mention is escaped.
    assert "&lt;!channel&gt;" in text and "<!channel>" not in text


def test_shared_copy_from_a_non_manager_shows_team_totals_only(seeded):
    store, _ = seeded
    message = blocks.summary_message(today(store), viewer="U0BOB", manager=False, shared_by="U0BOB")
    text = json.dumps(message, ensure_ascii=False)
    assert message["response_type"] == "in_channel"
    assert "Your figures" not in text and "By agent" not in text
    assert "Shared by <@U0BOB>" in text


# --- the chart ---------------------------------------------------------------------------------


def test_chart_is_a_png_of_the_expected_size():
    days = [DayFigures(date(2026, 11, 20 + i), 10 * i, i, 60.0 * i or None) for i in range(7)]
    png = summary_chart(days, "Mentions: the last 7 days")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert png[12:16] == b"IHDR"
    assert struct.unpack(">II", png[16:24]) == (1000, 500)


# --- /mentions summary end to end --------------------------------------------------------------


@pytest.fixture
def bolt(tmp_path, monkeypatch):
    clock = Clock(NOW)
    with bolt_app(tmp_path, monkeypatch, workers=4, store_clock=clock, clock=lambda: NOW) as bolt:
        ids_ = seed(bolt.store, clock)

        def dispatch(body: str) -> int:
            return bolt.request(body).status

        yield bolt.slack, dispatch, ids_


def test_summary_command_answers_privately_and_shares(bolt):
    slack, dispatch, _ = bolt
    url = slack.response_url("summary")
    started = time.monotonic()
    assert dispatch(slash_command("summary today", user="U0BOB", response_url=url)) == 200
    assert time.monotonic() - started < 3  # acked before the work
    answer = slack.wait_for("response_url")[0].args
    assert answer["response_type"] == "ephemeral"
    assert answer["text"].startswith("Mentions summary for today: 11 seen, 6 urgent")
    assert "Your figures" in json.dumps(answer["blocks"])
    share = next(b for b in answer["blocks"] if b["type"] == "actions")["elements"][0]
    assert share["action_id"] == ids.SHARE_SUMMARY

    action = block_action(ids.SHARE_SUMMARY, share["value"], user="U0MANAGER", response_url=url)
    assert dispatch(form_body(action)) == 200
    shared = slack.wait_for("response_url", count=2)[1].args
    assert shared["response_type"] == "in_channel" and shared["replace_original"] is False
    text = json.dumps(shared["blocks"], ensure_ascii=False)
    assert "By agent" in text and "Shared by <@U0MANAGER>" in text
    assert slack.errors == []


def test_summary_chart_goes_by_direct_message(bolt):
    slack, dispatch, _ = bolt
    url = slack.response_url("chart")
    assert dispatch(slash_command("summary 7d chart", user="U0BOB", response_url=url)) == 200
    answer = slack.wait_for("response_url")[0].args
    assert "direct message" in json.dumps(answer["blocks"])
    slack.wait_for("files.completeUploadExternal")
    (upload,) = slack.uploaded_files()
    assert upload["completed"] and upload["channel"] == "DU0BOB"
    assert struct.unpack(">II", upload["data"][16:24]) == (1000, 500)
    assert slack.errors == []


def test_summary_with_a_bad_period_answers_with_help(bolt):
    slack, dispatch, _ = bolt
    url = slack.response_url("bad")
    dispatch(slash_command("summary 99d", user="U0BOB", response_url=url))
    text = slack.wait_for("response_url")[0].args["text"]
    assert text.startswith("I don't know `summary 99d`.")
    assert "/mentions summary [today|24h|7d|30d] [chart]" in text


def test_status_shows_the_scheduler_and_the_digest(bolt):
    slack, dispatch, _ = bolt
    url = slack.response_url("status")
    dispatch(slash_command("status", user="U0BOB", response_url=url))
    text = slack.wait_for("response_url")[0].args["text"]
    assert "Digest: off" in text


def test_status_lines_show_next_runs_and_the_digest():
    from bot.config import DigestConfig

    lines = blocks.scheduler_lines(
        {"poll:hackernews": "2026-11-26T15:03:00+00:00", "outbox": "2026-11-26T15:00:20+00:00"},
        NOW,
        DigestConfig(True, "C0LEADS", "09:00", LONDON, "mon"),
    )
    assert lines == [
        "• ⏱️ retry unsent alerts: next run in 20 s",
        "• ⏱️ poll hackernews: next run in 3 min",
        "• 📬 Digest daily at 09:00 (Europe/London) to <#C0LEADS>, weekly on Mon",
    ]
