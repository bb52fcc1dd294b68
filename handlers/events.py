"""Events: the App Home tab shows your open claims, the unclaimed queue, who is on call and
the last 24 hours at a glance."""

from __future__ import annotations

import logging

from bot import blocks, oncall, summary
from handlers.commands import permalinks

log = logging.getLogger(__name__)


def register(app) -> None:
    app.event("app_home_opened")(ack=acknowledge, lazy=[home_opened])


def acknowledge(ack):
    ack()


def home_opened(event, context, client):
    if event.get("tab") not in (None, "home"):
        return
    services = context["services"]
    user = event["user"]
    now = services.clock()
    mine = services.store.claimed_by(user)
    queue = services.store.open_urgent()
    try:
        who = oncall.current(services.settings, services.store, now)
        on_call = blocks.on_call_line(who.user, who.until, who.next_user, services.settings.tz)
    except Exception:  # the rest of the page is still worth showing
        log.exception("App Home: on-call lookup failed")
        on_call = None
    try:
        day = summary.for_settings(
            services.store,
            services.settings,
            summary.period_for("24h", now, services.settings.oncall.timezone),
            now=now,
        )
        glance = blocks.glance_line(day)
    except Exception:
        log.exception("App Home: the 24 h figures failed")
        glance = None
    view = blocks.home_view(
        mine, queue, now, permalinks(client, mine + queue), on_call=on_call, glance=glance
    )
    client.views_publish(user_id=user, view=view)
