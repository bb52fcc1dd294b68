"""Events: the App Home tab shows your open claims and the unclaimed queue."""

from __future__ import annotations

import logging

from bot import blocks
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
    mine = services.store.claimed_by(user)
    queue = services.store.open_urgent()
    view = blocks.home_view(mine, queue, services.clock(), permalinks(client, mine + queue))
    client.views_publish(user_id=user, view=view)
