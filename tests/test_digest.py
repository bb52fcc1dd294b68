"""The daily and weekly digest: due at the configured local time, posted exactly once per
period across DST changes, restarts and an interrupted post; the weekly chart in its thread."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta

import pytest

from bot import ids
from bot.config import Settings
from bot.digest import DigestJob
from bot.scheduler import build_scheduler
from bot.slack import make_client
from storage import Store
from storage import digests as digest_state
from tests.fakes.slack import FakeSlack
from tests.support import BOT_TOKEN, write_config
from tests.test_summary import Clock, Seeder

DIGEST_CHANNEL = "C0LEADS"


def settings_for(tmp_path, slack, *, time: str = "09:00", weekly: str = "mon") -> Settings:
    extra = f"""
[digest]
channel = "{DIGEST_CHANNEL}"
time = "{time}"
weekly_day = "{weekly}"
"""
    return Settings.load(
        environ={"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": slack.base_url},
        path=write_config(tmp_path, extra=extra),
        db_path=str(tmp_path / "d.db"),
    )


@pytest.fixture
def slack():
    with FakeSlack(token=BOT_TOKEN) as fake:
        yield fake


def job_for(tmp_path, slack, **kwargs) -> tuple[DigestJob, Store, Clock]:
    settings = settings_for(tmp_path, slack, **kwargs)
    clock = Clock(datetime(2026, 3, 1, tzinfo=UTC))
    store = Store(settings.db_path, clock=clock)
    store.migrate()
    return DigestJob(store, settings, make_client(settings)), store, clock


def every_minute(job: DigestJob, start: datetime, end: datetime) -> list[tuple[datetime, str]]:
    sent = []
    moment = start
    while moment <= end:
        sent.extend((moment, key) for key in job.run(moment))
        moment += timedelta(minutes=1)
    return sent


def digests_in(slack) -> list[dict]:
    return [
        m
        for m in slack.messages(DIGEST_CHANNEL)
        if (m.get("metadata") or {}).get("event_type") == ids.DIGEST_EVENT_TYPE
    ]


def test_digest_on_the_spring_forward_day(tmp_path, slack):
    job, store, clock = job_for(tmp_path, slack, weekly="")
    seeder = Seeder(store, clock)
    # 29 March 2026 in London is 23 hours long: 00:00 GMT to 00:00 BST (23:00 UTC).
    seeder.mention(datetime(2026, 3, 28, 23, 59, tzinfo=UTC))  # the 28th
    seeder.mention(datetime(2026, 3, 29, 0, 0, tzinfo=UTC), urgent=True, text="Acme refund")
    seeder.mention(datetime(2026, 3, 29, 22, 30, tzinfo=UTC))  # 23:30 BST on the 29th
    seeder.mention(datetime(2026, 3, 29, 23, 30, tzinfo=UTC))  # 00:30 BST on the 30th
    # 09:00 BST on the 30th is 08:00 UTC; run the job every minute through the morning.
    sent = every_minute(
        job,
        datetime(2026, 3, 30, 6, 0, tzinfo=UTC),
        datetime(2026, 3, 30, 11, 0, tzinfo=UTC),
    )
    assert sent == [(datetime(2026, 3, 30, 8, 0, tzinfo=UTC), "daily:2026-03-29")]
    (digest,) = digests_in(slack)
    assert digest["text"].startswith("Daily digest. Mentions summary for Sun 29 Mar 2026: 2 seen")
    assert digest["metadata"]["event_payload"] == {"kind": "daily", "period": "2026-03-29"}
    # A restart (a new job on the same database) sends nothing more that day.
    again = DigestJob(store, job.settings, job.client)
    assert (
        every_minute(
            again,
            datetime(2026, 3, 30, 11, 0, tzinfo=UTC),
            datetime(2026, 3, 30, 11, 5, tzinfo=UTC),
        )
        == []
    )
    assert len(digests_in(slack)) == 1
    assert slack.errors == []


def test_a_digest_time_that_happens_twice_sends_once(tmp_path, slack):
    job, _, _ = job_for(tmp_path, slack, time="01:30", weekly="")
    # 25 October 2026: 01:30 BST (00:30 UTC), then the clocks go back, 01:30 GMT (01:30 UTC).
    sent = every_minute(
        job,
        datetime(2026, 10, 25, 0, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 2, 0, tzinfo=UTC),
    )
    assert sent == [(datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "daily:2026-10-24")]


def test_a_digest_time_that_never_happens_sends_at_the_jump(tmp_path, slack):
    job, _, _ = job_for(tmp_path, slack, time="01:30", weekly="")
    # 29 March 2026: 00:59 GMT is followed by 02:00 BST (01:00 UTC); 01:30 never happens.
    sent = every_minute(
        job,
        datetime(2026, 3, 29, 0, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 2, 0, tzinfo=UTC),
    )
    assert sent == [(datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "daily:2026-03-28")]


def test_weekly_digest_with_its_chart_in_the_thread(tmp_path, slack):
    job, store, clock = job_for(tmp_path, slack)
    seeder = Seeder(store, clock)
    for day in range(23, 30):
        seeder.mention(datetime(2026, 3, day, 12, tzinfo=UTC), urgent=True, text="Acme refund")
    monday = datetime(2026, 3, 30, 8, 0, tzinfo=UTC)  # 09:00 BST
    assert job.run(monday) == ["daily:2026-03-29", "weekly:2026-03-23"]
    assert job.run(monday + timedelta(minutes=1)) == []
    daily, weekly = digests_in(slack)
    assert weekly["text"].startswith("Weekly digest. Mentions summary for the week Mon 23 Mar")
    assert "7 seen, 7 urgent" in weekly["text"]
    (chart,) = slack.uploaded_files()
    assert chart["completed"] and chart["channel"] == DIGEST_CHANNEL
    assert chart["thread_ts"] == weekly["ts"]
    assert chart["data"][:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", chart["data"][16:24]) == (1000, 500)
    rows = {r["kind"]: r for r in digest_state.all_rows(store)}
    assert rows["weekly"]["file_id"] == chart["id"] and rows["weekly"]["state"] == "sent"
    assert rows["daily"]["ts"] == daily["ts"]
    assert slack.errors == []


def test_an_interrupted_post_is_found_not_repeated(tmp_path, slack):
    job, store, _ = job_for(tmp_path, slack, weekly="")
    now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    # A previous process took the row and posted, then died before recording the ts.
    assert digest_state.take(
        store, "daily", "2026-11-25", DIGEST_CHANNEL, now - timedelta(hours=1), stale=timedelta(0)
    )
    ts = slack.add_message(
        DIGEST_CHANNEL,
        "Daily digest.",
        bot=True,
        ts=f"{(now - timedelta(hours=1)).timestamp():.6f}",
        metadata={
            "event_type": ids.DIGEST_EVENT_TYPE,
            "event_payload": {"kind": "daily", "period": "2026-11-25"},
        },
    )
    # Still in flight (not stale yet): nobody else touches it.
    assert job.run(now - timedelta(minutes=55)) == []
    assert job.run(now) == ["daily:2026-11-25"]
    assert slack.calls_to("chat.postMessage") == []
    (row,) = digest_state.all_rows(store)
    assert (row["state"], row["ts"], row["attempts"]) == ("sent", ts, 2)


def test_a_refused_post_is_retried_then_given_up(tmp_path, slack):
    job, store, _ = job_for(tmp_path, slack, weekly="")
    slack.archived.add(DIGEST_CHANNEL)
    start = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    assert every_minute(job, start, start + timedelta(minutes=10)) == []
    assert len(slack.calls_to("chat.postMessage")) == digest_state.MAX_ATTEMPTS
    (row,) = digest_state.all_rows(store)
    assert (row["state"], row["last_error"]) == ("failed", "is_archived")


def test_digest_config_defaults_and_problems(tmp_path, slack):
    settings = settings_for(tmp_path, slack)
    assert (settings.digest.enabled, settings.digest.timezone) == (True, "Europe/London")
    bad = write_config(
        tmp_path,
        extra='[digest]\nchannel = "leads"\ntime = "9am"\ntimezone = "Mars/Base"\n'
        'weekly_day = "monday"\ncolour = "red"\n',
    )
    with pytest.raises(Exception) as caught:
        Settings.load(environ={}, path=bad)
    problems = "\n".join(caught.value.problems)
    for text in (
        "[digest] unknown key 'colour'",
        "[digest] channel must be a channel ID like C0123ABCD",
        "[digest] time must be a 24-hour time like '09:00', not '9am'",
        "[digest] timezone 'Mars/Base' is not a time zone name",
        "[digest] weekly_day must be one of mon, tue",
    ):
        assert text in problems
    missing = write_config(tmp_path, extra="[digest]\n")
    with pytest.raises(Exception) as caught:
        Settings.load(environ={}, path=missing)
    assert any("[digest] channel is required" in p for p in caught.value.problems)
    off = write_config(tmp_path, extra="[digest]\nenabled = false\n")
    assert Settings.load(environ={}, path=off).digest.enabled is False


def test_scheduler_runs_the_digest_every_minute(tmp_path, slack):
    job, _, _ = job_for(tmp_path, slack)

    class Pipe:
        sources: dict = {}
        settings = job.settings

    scheduler = build_scheduler(Pipe(), poster=None, digest=job, start_now=False)
    digest = scheduler.get_job("digest")
    assert digest.trigger.interval == timedelta(minutes=1)
    assert digest.misfire_grace_time == 60
