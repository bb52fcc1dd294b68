"""Events: the App Home tab shows your open claims, the unclaimed queue, who is on call and
the last 24 hours at a glance.

Each part is read on its own: one that fails is logged and the page shows the rest (a list
that could not be read says so); when nothing could be read, a short "couldn't load" page
replaces a blank or stale tab. Every item shown links to its alert, built from the workspace
URL (bot.slack.permalinks: one auth.test per client, no call per item)."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from bot import blocks, oncall, slack, summary

log = logging.getLogger(__name__)


def register(app) -> None:
    app.event("app_home_opened")(ack=acknowledge, lazy=[home_opened])


def acknowledge(ack):
    ack()


def home_opened(event, context, client):
    if event.get("tab") not in (None, "home"):
        return
    user = event.get("user")
    if not user:
        return
    try:
        view = home_page(context["services"], client, user)
    except Exception:
        log.exception("App Home for %s failed", user)
        view = blocks.home_error_view()
    publish(client, user, view)


def home_page(services, client, user: str) -> dict:
    """The App Home view for `user`, built from whatever could be read."""
    now = services.clock()
    mine = _part("your claims", lambda: services.store.claimed_by(user))
    queue = _part("the queue", services.store.open_urgent)
    who = _part("on-call lookup", lambda: oncall.current(services.settings, services.store, now))
    on_call = None
    if who is not None:
        on_call = blocks.on_call_line(who.user, who.until, who.next_user, services.settings.tz)
    day = _part(
        "the 24 h figures",
        lambda: summary.for_settings(
            services.store,
            services.settings,
            summary.period_for("24h", now, services.settings.oncall.timezone),
            now=now,
        ),
    )
    glance = blocks.glance_line(day) if day is not None else None
    if mine is None and queue is None and on_call is None and glance is None:
        return blocks.home_error_view()
    shown = (mine or [])[: blocks.HOME_ITEMS] + (queue or [])[: blocks.HOME_ITEMS]
    links = _part("alert links", lambda: slack.permalinks(client, shown)) or {}
    return blocks.home_view(mine, queue, now, links, on_call=on_call, glance=glance)


def _part(name: str, read):
    """`read()`, or None (logged) when it fails: the rest of the page is still worth showing."""
    try:
        return read()
    except Exception:
        log.exception("App Home: %s failed", name)
        return None


def publish(client, user: str, view: dict) -> bool:
    """views.publish; when Slack refuses the page itself, the short error page instead, so
    the tab never stays blank. Returns True when the page asked for was published."""
    try:
        client.views_publish(user_id=user, view=view)
        return True
    except SlackApiError as exc:
        error = exc.response.get("error", "unknown_error")
        log.error("App Home for %s: Slack refused the page (%s)", user, error)
        if (
            error in ("invalid_arguments", "invalid_blocks", "too_many_blocks")
            and view.get("blocks") != blocks.home_error_view()["blocks"]
        ):
            publish(client, user, blocks.home_error_view())
    except Exception:
        log.exception("App Home for %s: publishing failed", user)
    return False
