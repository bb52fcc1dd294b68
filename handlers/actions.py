"""Buttons and menus on an alert card. Each listener acks at once, then changes state through
`storage` (compare-and-set) and re-renders the card from the database."""

from __future__ import annotations

import logging

from bot import blocks, ids, replies, slack
from bot.sources.liveness import still_there

log = logging.getLogger(__name__)


def register(app) -> None:
    # Bolt acks with `acknowledge` on the request's own thread, then runs the work "lazily" on
    # its listener pool: the ack never waits for a free worker or for Slack.
    app.action(ids.CLAIM)(ack=acknowledge, lazy=[claim])
    app.action(ids.SHARE_SUMMARY)(ack=acknowledge, lazy=[share_summary])
    app.action(ids.UNCLAIM)(ack=acknowledge, lazy=[unclaim])
    app.action(ids.RESOLVE)(ack=acknowledge, lazy=[resolve])
    app.action(ids.REASSIGN)(ack=acknowledge, lazy=[reassign])
    app.action(ids.MORE)(ack=acknowledge, lazy=[more])
    app.action(ids.DRAFT)(ack=acknowledge, lazy=[draft_reply])
    app.action(ids.ESCALATE)(ack=acknowledge, lazy=[escalate])
    app.action(ids.OPEN_POST)(acknowledge)  # link buttons: Slack opens the URL itself
    app.action(ids.OPEN_REPLY)(acknowledge)


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


def reassign(body, context):
    """The 'Reassign to…' user picker on a claimed card."""
    target = (body.get("actions") or [{}])[0].get("selected_user")
    if not target:
        return
    _change(
        body,
        context,
        "reassign",
        lambda s, mid, user: s.store.reassign(mid, user, target, manager=s.is_manager(user)),
        target=target,
    )


def more(body, context):
    """The ⋯ menu: 'Resolve: replied publicly' and friends, and 'Not urgent: <reason>'."""
    option = ((body.get("actions") or [{}])[0].get("selected_option") or {}).get("value", "")
    verb, _, rest = option.partition(":")
    mention_id, _, code = rest.partition(":")
    body = {**body, "actions": [{"value": mention_id}]}
    if verb == "resolve" and code in blocks.OUTCOMES:
        _change(
            body,
            context,
            "resolve",
            lambda s, mid, user: s.store.resolve(
                mid, user, manager=s.is_manager(user), outcome=code
            ),
            outcome=code,
        )
    elif verb == "ignore" and code in blocks.IGNORE_REASONS:
        _change(
            body,
            context,
            "ignore",
            lambda s, mid, user: s.store.ignore(mid, user, code, manager=s.is_manager(user)),
            outcome=code,
        )
    else:
        _change(body, context, "more", lambda s, mid, user: _not_found())


def draft_reply(body, context):
    """Open the Draft reply modal at once (the trigger expires in 3 s), then check that the
    customer's post still exists."""
    services = context["services"]
    mention, user, channel = _clicked_mention(services, body, "draft")
    if mention is None:
        return
    mention_id = mention["id"]
    if mention.get("source_deleted_at"):
        _refuse(services, channel, user, "draft", "source_deleted", mention)
        return
    drafts = services.store.drafts(mention_id)
    if drafts:
        text = drafts[-1]["text"]
    else:
        text = replies.first_draft(
            mention,
            # Bounded: a slow users.info must not use up the trigger's 3 seconds.
            agent=services.poster.first_name(user, quick=True),
            brand=services.settings.brand.name,
            voice=services.settings.replies,
        )
    view = blocks.draft_modal(
        mention,
        text,
        limit=replies.limit_for(mention["source"]),
        platform=replies.PLATFORM_NAMES.get(mention["source"], "The platform"),
        version=len(drafts),
    )
    if not _open_form(services, body, view, channel, user, "Draft reply"):
        return
    if still_there(services.settings, mention) is False and services.store.mark_source_deleted(
        mention_id
    ):
        services.poster.refresh(mention_id)
        services.poster.ephemeral(
            channel, user, blocks.refusal_text("source_deleted", mention, services.clock())
        )


def escalate(body, context):
    services = context["services"]
    mention, user, channel = _clicked_mention(services, body, "escalate")
    if mention is not None:
        _open_form(services, body, blocks.escalate_modal(mention), channel, user, "Escalate")


# --- shared ---------------------------------------------------------------------------------


def clicked(body: dict) -> tuple[int | None, str, str | None]:
    """(mention id, user id, channel id) from a block_actions payload; id is None if the
    element's value (or, for a user picker, its block id) is not one of ours."""
    user = (body.get("user") or {}).get("id", "")
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id"
    )
    action = (body.get("actions") or [{}])[0]
    value = action.get("value")
    if value is None:
        value = (action.get("block_id") or "").removeprefix("alert_actions_")
    try:
        mention_id = int(value)
    except (TypeError, ValueError):
        mention_id = None
    return mention_id, user, channel


def _not_found():
    from storage import Transition

    return Transition(False, None, "not_found")


def _refuse(services, channel, user: str, action: str, reason: str, mention: dict | None):
    """A refusal decided here, not by a storage transition (which audits its own): the
    polite reason to the clicker, and an audit line."""
    services.poster.ephemeral(channel, user, blocks.refusal_text(reason, mention, services.clock()))
    services.store.record_event(
        mention["id"] if mention else None, user, f"{action}_refused", {"reason": reason}
    )


def _clicked_mention(services, body: dict, action: str) -> tuple[dict | None, str, str | None]:
    """(mention row, user, channel) for a click; a refusal already sent when the row is None."""
    mention_id, user, channel = clicked(body)
    mention = services.store.mention(mention_id) if mention_id is not None else None
    if mention is None:
        _refuse(services, channel, user, action, "not_found", None)
    return mention, user, channel


def _open_form(services, body: dict, view: dict, channel, user: str, button: str) -> bool:
    """Open a modal on the click's trigger; on failure tell the clicker what to do."""
    error = services.poster.open_view(body.get("trigger_id", ""), view)
    if error is None:
        return True
    if error in ("expired_trigger_id", "invalid_trigger_id", "exchanged_trigger_id"):
        note = f"Slack took too long to open the form. Please click {button} again."
    else:
        note = f"Sorry, I couldn't open the form (Slack said `{error}`). Please try again."
    services.poster.ephemeral(channel, user, note)
    return False


def _change(body: dict, context, action: str, change, **line) -> None:
    services = context["services"]
    mention_id, user, channel = clicked(body)
    try:
        if mention_id is None:
            _refuse(services, channel, user, action, "not_found", None)
            return
        result = change(services, mention_id, user)
        if not result.ok and result.mention is None:
            _refuse(services, channel, user, action, result.reason or "not_found", None)
            return
        if not result.ok:
            services.poster.ephemeral(
                channel, user, blocks.refusal_text(result.reason, result.mention, services.clock())
            )
            return
        error = services.poster.refresh(mention_id)
        services.poster.thread(result.mention, blocks.thread_line(action, user, **line))
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


# --- /mentions summary: Share to channel ----------------------------------------------------


def share_summary(body, context, respond, client):
    """Post the summary the clicker saw into the channel (through the response_url, so the bot
    need not be a member), recomputed for exactly the same period. A manager shares every
    agent's figures; anyone else, the team's totals only."""
    import json

    from bot.chart import upload_chart
    from bot.summary import Period, for_settings

    services = context["services"]
    _, user, channel = clicked(body)

    def answer(message: dict) -> bool:
        # A response_url answers 5 times in 30 minutes; after that Slack refuses (HTTP 404),
        # and bolt's respond() does not raise: tell the clicker instead of failing silently.
        response = respond({"replace_original": False, **message})
        if getattr(response, "status_code", 200) == 200:
            return True
        log.info("summary share by %s: response_url answered %s", user, response.status_code)
        services.poster.ephemeral(channel, user, _EXPIRED)
        return False

    def note(text: str) -> None:
        answer({"response_type": "ephemeral", "text": text})

    try:
        value = json.loads(body["actions"][0]["value"])
        period = Period.from_value(value["p"])
    except (KeyError, IndexError, TypeError, ValueError):
        note(_STALE)
        return
    try:
        chart = bool(value.get("c"))
        summary = for_settings(
            services.store, services.settings, period, now=services.clock(), series=chart
        )
        oldest = summary.oldest_unclaimed
        message = blocks.summary_message(
            summary,
            viewer=user,
            manager=services.is_manager(user),
            oldest_link=slack.permalink(client, oldest),
            shared_by=user,
        )
        if not answer(message):
            return
        if chart and channel:
            try:
                upload_chart(client, summary, channel)
            except Exception as exc:  # noqa: BLE001 - the figures are shared already
                log.info("summary chart not shared in %s: %s", channel, exc)
                note(
                    "The figures are shared, but I couldn't post the chart here: "
                    "invite me to this channel (/invite @mentionops) and share again."
                )
    except Exception:
        log.exception("sharing a summary by %s failed", user)
        note("Sorry, that didn't work on our side. Please try again in a moment.")


_STALE = "That summary button is from an older version; run /mentions summary again."
_EXPIRED = (
    "That summary is too old to share: Slack allows it for 30 minutes. Run /mentions summary "
    "again and share the new one."
)
