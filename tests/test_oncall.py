"""Who is on call: rotation and overrides as pure functions, DST in Europe/London, quiet hours,
the config keys, and `/mentions oncall`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot import blocks, oncall
from bot.app import Services
from bot.config import EscalationConfig, OnCall, Settings, from_mapping
from bot.oncall import Override, OverrideError
from handlers.commands import oncall_answer
from storage import Store
from tests.support import write_config

LONDON = "Europe/London"
WEEKLY = OnCall(rotation=("U0ALICE", "U0BOB", "U0CAROL"), handoff="mon 09:00", timezone=LONDON)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- the rotation ----------------------------------------------------------------------------


def test_rotation_starts_at_the_handoff_on_or_before_start():
    start = date(2026, 11, 26)  # a Thursday: the rotation began on Monday 23 Nov, 09:00 GMT
    assert oncall.handover(WEEKLY, start, 0) == utc(2026, 11, 23, 9, 0)
    cases = [
        (utc(2026, 11, 23, 8, 59), "U0CAROL"),  # before the first handover: the one before
        (utc(2026, 11, 23, 9, 0), "U0ALICE"),
        (utc(2026, 11, 26, 12, 0), "U0ALICE"),
        (utc(2026, 11, 30, 8, 59, 59), "U0ALICE"),
        (utc(2026, 11, 30, 9, 0), "U0BOB"),
        (utc(2026, 12, 7, 9, 0), "U0CAROL"),
        (utc(2026, 12, 14, 9, 0), "U0ALICE"),
    ]
    assert [(w, oncall.rotation_user(WEEKLY, start, w)) for w, _ in cases] == cases


def test_start_on_the_handoff_day_itself_and_default_from_database():
    cfg = OnCall(rotation=("U0ALICE", "U0BOB"), handoff="mon 09:00", timezone=LONDON)
    monday = date(2026, 11, 30)
    assert oncall.handover(cfg, monday, 0) == utc(2026, 11, 30, 9, 0)
    # No [oncall] start: the day the database was created, in the rotation's zone.
    assert oncall.start_date(cfg, "2026-11-30T23:30:00Z", utc(2027, 1, 1)) == date(2026, 11, 30)
    summer = OnCall(rotation=("U0ALICE",), timezone=LONDON)
    assert oncall.start_date(summer, "2026-06-30T23:30:00Z", utc(2027, 1, 1)) == date(2026, 7, 1)
    fixed = OnCall(rotation=("U0ALICE",), timezone=LONDON, start="2026-01-05")
    assert oncall.start_date(fixed, "2026-06-30T23:30:00Z", utc(2027, 1, 1)) == date(2026, 1, 5)


def test_weekly_handover_across_both_dst_changes_in_london():
    cfg = OnCall(rotation=("U0ALICE", "U0BOB"), handoff="mon 09:00", timezone=LONDON)
    start = date(2026, 3, 23)  # Monday; clocks go forward on Sunday 29 March 2026
    # 09:00 GMT is 09:00 UTC; the Monday after the change, 09:00 BST is 08:00 UTC.
    assert oncall.handover(cfg, start, 0) == utc(2026, 3, 23, 9, 0)
    assert oncall.handover(cfg, start, 1) == utc(2026, 3, 30, 8, 0)
    assert oncall.rotation_user(cfg, start, utc(2026, 3, 30, 7, 59, 59)) == "U0ALICE"
    assert oncall.rotation_user(cfg, start, utc(2026, 3, 30, 8, 0)) == "U0BOB"
    now = oncall.on_call(cfg, start, [], utc(2026, 3, 29, 12, 0))
    assert (now.user, now.until, now.next_user) == ("U0ALICE", utc(2026, 3, 30, 8, 0), "U0BOB")
    # Clocks go back on Sunday 25 October 2026: 09:00 BST (08:00 UTC), then 09:00 GMT.
    assert oncall.next_handover(cfg, start, utc(2026, 10, 20)) == utc(2026, 10, 26, 9, 0)
    assert oncall.rotation_user(cfg, start, utc(2026, 10, 26, 8, 30)) == oncall.rotation_user(
        cfg, start, utc(2026, 10, 20)
    )
    before = oncall.handover_index(cfg, start, utc(2026, 10, 19, 8, 0))
    assert oncall.handover_index(cfg, start, utc(2026, 10, 26, 9, 0)) == before + 1


def test_daily_handover_in_the_hour_that_dst_skips_or_repeats():
    cfg = OnCall(rotation=("U0ALICE", "U0BOB"), handoff="01:30", timezone=LONDON, period="daily")
    start = date(2026, 3, 27)
    # 01:30 does not exist on 29 March (01:00 GMT -> 02:00 BST): it is read as 01:30 GMT,
    # that is 02:30 BST. It happens once, and the day after is at 01:30 BST again.
    assert [oncall.handover(cfg, start, k) for k in range(4)] == [
        utc(2026, 3, 27, 1, 30),
        utc(2026, 3, 28, 1, 30),
        utc(2026, 3, 29, 1, 30),
        utc(2026, 3, 30, 0, 30),
    ]
    # 01:30 happens twice on 25 October: the first (BST, 00:30 UTC) is the handover.
    october = date(2026, 10, 24)
    assert oncall.handover(cfg, october, 1) == utc(2026, 10, 25, 0, 30)
    assert oncall.handover(cfg, october, 2) == utc(2026, 10, 26, 1, 30)
    assert oncall.rotation_user(cfg, october, utc(2026, 10, 25, 1, 29)) == "U0BOB"
    assert oncall.rotation_user(cfg, october, utc(2026, 10, 26, 1, 30)) == "U0ALICE"


def test_empty_rotation_means_nobody():
    cfg = OnCall(timezone=LONDON)
    now = oncall.on_call(cfg, date(2026, 11, 26), [], utc(2026, 11, 26, 10))
    assert (now.user, now.until, now.next_user) == (None, None, None)


# --- overrides -------------------------------------------------------------------------------


def test_override_wins_while_it_lasts_and_latest_set_wins():
    start = date(2026, 11, 23)
    now = utc(2026, 11, 26, 10, 0)
    dave = Override("U0DAVE", now, now + timedelta(hours=8), "U0MANAGER", id=1)
    erin = Override("U0ERIN", now + timedelta(hours=2), now + timedelta(hours=4), "U0M", id=2)
    state = oncall.on_call(WEEKLY, start, [dave, erin], now)
    assert (state.user, state.override, state.until, state.next_user) == (
        "U0DAVE",
        dave,
        now + timedelta(hours=2),
        "U0ERIN",
    )
    later = oncall.on_call(WEEKLY, start, [dave, erin], now + timedelta(hours=4))
    assert (later.user, later.until, later.next_user) == (
        "U0DAVE",
        now + timedelta(hours=8),
        "U0ALICE",
    )
    after = oncall.on_call(WEEKLY, start, [dave, erin], now + timedelta(hours=8))
    assert (after.user, after.override, after.until, after.next_user) == (
        "U0ALICE",
        None,
        utc(2026, 11, 30, 9, 0),
        "U0BOB",
    )


NOW = utc(2026, 11, 26, 10, 0)  # Thursday, 10:00 in London


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["<@U0DAVE|dave>"], ("U0DAVE", None)),
        (["<@U0DAVE>", "for", "8h"], ("U0DAVE", NOW + timedelta(hours=8))),
        (["U0DAVE", "for", "90m"], ("U0DAVE", NOW + timedelta(minutes=90))),
        (["U0DAVE", "for", "1d12h"], ("U0DAVE", NOW + timedelta(hours=36))),
        (["U0DAVE", "until", "mon", "09:00"], ("U0DAVE", utc(2026, 11, 30, 9, 0))),
        (["U0DAVE", "until", "thu", "09:00"], ("U0DAVE", utc(2026, 12, 3, 9, 0))),
        (["U0DAVE", "until", "18:00"], ("U0DAVE", utc(2026, 11, 26, 18, 0))),
        (["U0DAVE", "until", "08:00"], ("U0DAVE", utc(2026, 11, 27, 8, 0))),
        (["U0DAVE", "until", "2026-12-01", "09:00"], ("U0DAVE", utc(2026, 12, 1, 9, 0))),
    ],
)
def test_parse_override(words, expected):
    assert oncall.parse_override(words, NOW, LONDON) == expected


@pytest.mark.parametrize(
    ("words", "message"),
    [
        ([], "Say who"),
        (["@dave", "for", "8h"], "pick them from the @ menu"),
        (["U0DAVE", "for", "soon"], "not a length I know"),
        (["U0DAVE", "for", "100d"], "not a length I know"),
        (["U0DAVE", "until", "2025-01-01", "09:00"], "not a time I can use"),
        (["U0DAVE", "until", "noon"], "not a time I can use"),
        (["U0DAVE", "tomorrow"], "Add how long"),
    ],
)
def test_parse_override_refuses_with_help(words, message):
    with pytest.raises(OverrideError, match=message):
        oncall.parse_override(words, NOW, LONDON)


# --- quiet hours -----------------------------------------------------------------------------


def test_quiet_hours_wrap_midnight_in_local_time():
    spec = "20:00-08:00"
    assert oncall.in_quiet_hours(spec, LONDON, utc(2026, 11, 26, 19, 59)) is False
    assert oncall.in_quiet_hours(spec, LONDON, utc(2026, 11, 26, 20, 0)) is True
    assert oncall.in_quiet_hours(spec, LONDON, utc(2026, 11, 27, 7, 59)) is True
    assert oncall.in_quiet_hours(spec, LONDON, utc(2026, 11, 27, 8, 0)) is False
    # In summer 20:00 BST is 19:00 UTC.
    assert oncall.in_quiet_hours(spec, LONDON, utc(2026, 7, 1, 19, 0)) is True
    assert oncall.in_quiet_hours("12:00-13:00", LONDON, utc(2026, 11, 26, 12, 30)) is True
    assert oncall.in_quiet_hours("", LONDON, utc(2026, 11, 26, 2, 0)) is False


# --- config ------------------------------------------------------------------------------------

BASE = {"brand": {"name": "Acme", "terms": ["acme"]}, "slack": {"alert_channel": "C0ALERTS"}}


def test_escalation_config_defaults_and_values():
    settings, problems = from_mapping(BASE, {})
    assert problems == []
    assert settings.escalation == EscalationConfig()
    assert (settings.oncall.period, settings.oncall.usergroup) == ("weekly", "")
    raw = {
        **BASE,
        "oncall": {"period": "daily", "handoff": "09:00", "usergroup": "S0ONCALL"},
        "escalation": {
            "levels": 1,
            "l2_after_minutes": 45,
            "followup_repeat_minutes": 0,
            "quiet_hours": "20:00-08:00",
            "quiet_min_urgency": 90,
            "sla_by_source": {"x": 20, "reddit": 60, "rss": 1440},
            "sla_by_severity": {"sev1": 10},
            "pagerduty_min_severity": "sev1",
            "pagerduty_url": "http://127.0.0.1:9/",
        },
    }
    settings, problems = from_mapping(raw, {})
    assert problems == []
    assert (settings.oncall.period, settings.oncall.handoff, settings.oncall.usergroup) == (
        "daily",
        "09:00",
        "S0ONCALL",
    )
    assert settings.escalation == EscalationConfig(
        levels=1,
        l2_after_minutes=45,
        followup_repeat_minutes=0,
        quiet_hours="20:00-08:00",
        quiet_min_urgency=90,
        sla_by_source=(("x", 20), ("reddit", 60), ("rss", 1440)),
        sla_by_severity=(("SEV1", 10),),
        pagerduty_min_severity="SEV1",
        pagerduty_url="http://127.0.0.1:9",
    )


def test_escalation_config_problems_are_named():
    raw = {
        **BASE,
        "oncall": {"period": "monthly", "handoff": "09:00", "usergroup": "@support"},
        "escalation": {
            "levels": 3,
            "quiet_hours": "evening",
            "sla_by_source": {"myspace": 5, "x": 0},
            "sla_by_severity": {"SEV9": 5},
            "pagerduty_min_severity": "P1",
            "pagerduty_url": "events.pagerduty.com",
            "escalate_after": 5,
        },
    }
    _, problems = from_mapping(raw, {})
    assert problems == [
        '[oncall] period must be "weekly" or "daily", not \'monthly\'',
        "[oncall] handoff must look like 'mon 09:00', not '09:00'",
        "[oncall] usergroup must be a user group ID like S0123ABCD, not '@support'",
        "[escalation] unknown key 'escalate_after'",
        "[escalation] quiet_hours must look like \"20:00-08:00\", not 'evening'",
        "[escalation] pagerduty_min_severity must be one of SEV1, SEV2, SEV3, not 'P1'",
        "[escalation] pagerduty_url must start with http:// or https://",
        "[escalation] levels must be between 0 and 2",
        "[escalation] sla_by_source: unknown 'myspace'; known: bluesky, hackernews, mastodon, "
        "reddit, replay, rss, x",
        "[escalation] sla_by_source: x must be a whole number of minutes, 1+",
        "[escalation] sla_by_severity: unknown 'SEV9'; known: SEV1, SEV2, SEV3",
    ]


# --- /mentions oncall ----------------------------------------------------------------------------


@pytest.fixture
def services(tmp_path):
    clock = lambda: NOW  # noqa: E731
    settings = Settings.load(
        environ={}, path=write_config(tmp_path), db_path=str(tmp_path / "m.db")
    )
    store = Store(settings.db_path, clock=clock)
    store.migrate()  # created on Thursday 26 Nov: the rotation began Monday 23 Nov, 09:00
    return Services(settings=settings, store=store, poster=None, clock=clock)


def test_oncall_shows_now_and_next(services):
    answer = oncall_answer(services, [], "U0ANYONE", NOW)
    assert answer == {
        "response_type": "ephemeral",
        "text": "*On call now:* <@U0ALICE>\n*Next:* <@U0BOB> from Mon 30 Nov 09:00 (Europe/London)",
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "*On call now:* <@U0ALICE>\n"
                    "*Next:* <@U0BOB> from Mon 30 Nov 09:00 (Europe/London)",
                },
            }
        ],
    }


def test_only_managers_set_overrides(services):
    answer = oncall_answer(services, ["<@U0DAVE|dave>", "for", "8h"], "U0ALICE", NOW)
    assert answer["text"].startswith("Only a manager can change who is on call.")
    assert oncall.current(services.settings, services.store, NOW).user == "U0ALICE"


def test_manager_override_then_clear(services):
    answer = oncall_answer(services, ["<@U0DAVE|dave>", "for", "8h"], "U0MANAGER", NOW)
    assert answer["text"] == (
        "Done: <@U0DAVE> is on call until Thu 26 Nov 18:00 (Europe/London).\n"
        "*On call now:* <@U0DAVE> (override set by <@U0MANAGER>)\n"
        "*Next:* <@U0ALICE> from Thu 26 Nov 18:00 (Europe/London)"
    )
    # No length given: until the next handover.
    answer = oncall_answer(services, ["U0ERIN"], "U0MANAGER", NOW)
    assert "<@U0ERIN> is on call until Mon 30 Nov 09:00" in answer["text"]
    bad = oncall_answer(services, ["U0ERIN", "for", "ever"], "U0MANAGER", NOW)
    assert bad["text"].startswith("`for ever` is not a length I know")
    assert [e["action"] for e in services.store.events()] == ["oncall_override"] * 2
    answer = oncall_answer(services, ["clear"], "U0MANAGER", NOW)
    assert answer["text"] == (
        "Cleared 2 override(s): the rotation applies again.\n*On call now:* <@U0ALICE>\n"
        "*Next:* <@U0BOB> from Mon 30 Nov 09:00 (Europe/London)"
    )


def test_handover_times_show_in_the_rotation_zone():
    status = oncall.on_call(WEEKLY, date(2026, 3, 23), [], utc(2026, 3, 29, 12))
    assert status.until == utc(2026, 3, 30, 8, 0)  # 09:00 BST
    assert blocks.oncall_message(status, LONDON)["text"] == (
        "*On call now:* <@U0ALICE>\n*Next:* <@U0BOB> from Mon 30 Mar 09:00 (Europe/London)"
    )
