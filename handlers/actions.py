"""Buttons on an alert card. Each listener acks at once, then changes state through
`storage` (compare-and-set) and re-renders the card from the database."""

from __future__ import annotations

import logging

from bot import blocks, ids

log = logging.getLogger(__name__)


def register(app) -> None:
    # Bolt acks with `acknowledge` on the request's own thread, then runs the work "lazily" on
    # its listener pool: the ack never waits for a free worker or for Slack.
    app.action(ids.CLAIM)(ack=acknowledge, lazy=[claim])
    app.action(ids.UNCLAIM)(ack=acknowledge, lazy=[unclaim])
    app.action(ids.RESOLVE)(ack=acknowledge, lazy=[resolve])
    app.action(ids.DRAFT)(ack=acknowledge, lazy=[draft_reply])
    app.action(ids.ESCALATE)(ack=acknowledge, lazy=[escalate])
    app.action(ids.OPEN_POST)(acknowledge)  # a link button: Slack opens the URL itself


def acknowledge(ack):
    ack()


def claim(body, context):
    _change(body, context, "claim", lambda s, mid, user: s.store.claim(mid, user))


def unclaim(body, context):
    _change(
        body,
        context,
        "unclaim",
        lambda s, mid, user: s.store.unclaim(mid, user, manager=s.is_manager(user)),
    )


def resolve(body, context):
    _change(
        body,
        context,
        "resolve",
        lambda s, mid, user: s.store.resolve(mid, user, manager=s.is_manager(user)),
    )


def draft_reply(body, context):
    _not_yet(body, context, "draft_requested", "Draft reply")


def escalate(body, context):
    _not_yet(body, context, "escalate_requested", "Escalate from the card")


# --- shared ---------------------------------------------------------------------------------


def clicked(body: dict) -> tuple[int | None, str, str | None]:
    """(mention id, user id, channel id) from a block_actions payload; id is None if the
    button's value is not one of ours."""
    user = (body.get("user") or {}).get("id", "")
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id"
    )
    try:
        mention_id = int(body["actions"][0]["value"])
    except (KeyError, IndexError, TypeError, ValueError):
        mention_id = None
    return mention_id, user, channel


def _change(body: dict, context, action: str, change) -> None:
    services = context["services"]
    mention_id, user, channel = clicked(body)
    try:
        if mention_id is None:
            services.poster.ephemeral(
                channel, user, blocks.refusal_text("not_found", None, services.clock())
            )
            return
        result = change(services, mention_id, user)
        if not result.ok:
            services.poster.ephemeral(
                channel, user, blocks.refusal_text(result.reason, result.mention, services.clock())
            )
            return
        error = services.poster.refresh(mention_id)
        services.poster.thread(result.mention, blocks.thread_line(action, user))
        if error:
            services.poster.ephemeral(
                channel,
                user,
                "Done: the change is saved, but I couldn't update the alert message "
                f"(Slack said `{error}`; it may have been deleted).",
            )
    except Exception:
        log.exception("%s on mention %s by %s failed", action, mention_id, user)
        services.poster.ephemeral(
            channel,
            user,
            "Sorry, that didn't go through on our side. Please try again in a moment.",
        )


def _not_yet(body: dict, context, event: str, feature: str) -> None:
    services = context["services"]
    mention_id, user, channel = clicked(body)
    try:
        services.store.record_event(mention_id, user, event)
    except Exception:
        log.exception("recording %s failed", event)
    services.poster.ephemeral(channel, user, blocks.not_yet_text(feature))
