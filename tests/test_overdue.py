"""Overdue claims (claimed, still unresolved after [triage] followup_minutes) show in the
summary, for managers and agents alike."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot import blocks, summary
from bot.config import Settings
from bot.models import Mention, Score
from storage import Store
from tests.support import write_config

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def test_overdue_claims_in_summary(tmp_path):
    settings = Settings.load(
        environ={}, path=write_config(tmp_path), db_path=str(tmp_path / "s.db")
    )
    clock = Clock(NOW - timedelta(hours=4))
    store = Store(settings.db_path, clock=clock)
    store.migrate()
    rows = [
        (
            Mention("x", str(i), f"acme refund {i}", created_at=clock.now),
            Score(80, True, "billing", -0.5, []),
        )
        for i in range(3)
    ]
    ids = store.save_batch("x", rows, alert_channel="C0ALERTS").new_ids
    for i in ids:
        store.begin_send(i)
        store.mark_sent(i, "C0ALERTS", f"1.{i}")
    store.claim(ids[0], "U0ALICE")  # 4 h ago: overdue (followup 120 min)
    clock.now = NOW - timedelta(minutes=30)
    store.claim(ids[1], "U0BOB")  # 30 min ago: not yet
    clock.now = NOW
    s = summary.for_settings(store, settings, summary.period_for("24h", NOW, "UTC"), now=NOW)
    assert (s.overdue_claims, s.overdue_after_minutes) == (1, 120)
    for manager in (True, False):
        shown = json.dumps(blocks.summary_blocks(s, viewer="U0BOB", manager=manager))
        assert "*Overdue claims*\\n1 claimed but still unresolved after 120 min" in shown
