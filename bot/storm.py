"""Storm mode: when urgent alerts come much faster than usual (a complaint going viral), one
storm message goes to the alert channel and the alerts are threaded under it until the rate
falls back, instead of flooding the channel.

* **Rate**: alerts queued for the alert channel in the last `WINDOW` (10 minutes), counted by
  when we stored them, not when customers posted: the flood in the channel is what this
  prevents, and a late poll that brings an hour of posts at once floods it just the same.
* **Baseline**: the average per `WINDOW` over `[triage] storm_baseline_hours` before the window.
* **Opens** when the rate is at least `storm_factor` times the baseline and at least
  `storm_min_mentions` (so a quiet brand going from 0 to 2 is no storm); 0 turns storm mode off.
* **Closes** when the rate has stayed below the threshold it opened with for a full window.

State lives in SQLite (`storms`, storage.Store.storm_check): one open storm at most, opened and
closed by compare-and-set inside one write transaction. The poster threads alerts under the
open storm's message and edits that message at most once a poll (SlackPoster.storm_sync).
"""

from __future__ import annotations

from datetime import timedelta

from bot.config import Settings
from storage import Store

WINDOW = timedelta(minutes=10)
WINDOW_MINUTES = int(WINDOW.total_seconds() // 60)


def check(store: Store, settings: Settings) -> tuple[str | None, dict | None]:
    """Measure the rate and open, update or close the storm; returns (action, storm row)."""
    triage = settings.triage
    channel = settings.slack.alert_channel
    if triage.storm_min_mentions <= 0 or not channel:
        return None, None
    return store.storm_check(
        channel,
        window=WINDOW,
        factor=triage.storm_factor,
        min_mentions=triage.storm_min_mentions,
        baseline_hours=triage.storm_baseline_hours,
    )
