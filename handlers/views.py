"""Modal submissions: Draft reply and Escalate. `private_metadata` carries only the mention id.

Validation answers in the ack itself (inline errors in the modal); saving runs after it."""

from __future__ import annotations

import logging

from bot import blocks, ids, replies

log = logging.getLogger(__name__)


def register(app) -> None:
    app.view(ids.DRAFT_VIEW)(ack=check_draft, lazy=[save_draft])
    app.view(ids.ESCALATE_VIEW)(ack=check_escalation, lazy=[submit_escalation])


def submitted(body: dict) -> tuple[int | None, str, dict]:
    """(mention id, user id, state values) from a view_submission payload."""
    view = body.get("view") or {}
    try:
        mention_id = int(view.get("private_metadata", ""))
    except ValueError:
        mention_id = None
    return (
        mention_id,
        (body.get("user") or {}).get("id", ""),
        (view.get("state") or {}).get("values", {}),
    )


def draft_text(values: dict) -> str:
    return ((values.get("draft") or {}).get("text") or {}).get("value") or ""


def draft_problem(services, body: dict) -> tuple[dict | None, str, str | None]:
    """(mention, draft text, inline error or None) for a Draft reply submission."""
    mention_id, _, values = submitted(body)
    text = draft_text(values).strip()
    mention = services.store.mention(mention_id) if mention_id is not None else None
    if mention is None:
        return None, text, "This mention no longer exists."
    if not text:
        return mention, text, "Write a reply first, or press Cancel."
    return mention, text, replies.too_long(text, mention["source"])


def check_draft(ack, body, context):
    """Refuse an empty draft or one over the platform's limit, inline, before closing."""
    _, _, error = draft_problem(context["services"], body)
    if error:
        ack(response_action="errors", errors={"draft": error})
    else:
        ack()


def save_draft(body, context):
    """Runs after every submission's ack, refused ones too: save only what was accepted."""
    services = context["services"]
    mention, text, error = draft_problem(services, body)
    if error:
        return
    user = (body.get("user") or {}).get("id", "")
    mention_id = mention["id"]
    try:
        version = services.store.record_draft(mention_id, user, text)
        mention = services.store.mention(mention_id)
        services.poster.thread(mention, blocks.draft_thread_line(user, version, text))
        error = services.poster.refresh(mention_id)
        if error:
            services.poster.ephemeral(
                mention.get("channel"),
                user,
                f"Draft v{version} is saved, but I couldn't update the alert (Slack said "
                f"`{error}`). Here it is to copy:\n{blocks.escape_mrkdwn(text)}",
            )
    except Exception:
        log.exception("saving a draft for mention %s failed", mention_id)
        services.poster.ephemeral(
            None,
            user,
            "Sorry, your draft didn't save. Here it is to copy:\n" + blocks.escape_mrkdwn(text),
        )


def _selected(values: dict, block: str) -> str | None:
    option = ((values.get(block) or {}).get("value") or {}).get("selected_option") or {}
    return option.get("value")


def escalation_form(values: dict) -> tuple[str, int, str | None]:
    """(severity, level, note) as chosen in the Escalate form; a level that isn't a number
    is 0, which the escalator refuses as `no_level`."""
    severity = (_selected(values, "severity") or "SEV2").upper()
    try:
        level = int(_selected(values, "level") or 1)
    except ValueError:
        level = 0
    note = ((values.get("note") or {}).get("value") or {}).get("value") or None
    return severity, level, note


# What the Escalate form's ack decided, handed to its lazy follow-up in `context` (Bolt copies
# the context for lazy listeners after the ack has run): "ok", or why it was refused inline.
CHECKED = "escalation_checked"
NOT_SET_UP = (
    "Escalation isn't set up on this bot, so nobody can be alerted from here. Please tell "
    "your on-call person directly."
)
CHECK_FAILED = "Sorry, I couldn't check this just now. Please press Escalate again."


def check_escalation(ack, body, context):
    """Refuse, inline and before the form closes, an escalation the escalator would refuse
    (already escalated, resolved, not urgent, nobody to alert...), under the input to change."""
    services = context["services"]
    mention_id, _, values = submitted(body)
    severity, level, _ = escalation_form(values)
    escalator = getattr(services, "escalator", None)
    if escalator is None:
        context[CHECKED] = "not_set_up"
        ack(response_action="errors", errors={"level": NOT_SET_UP})
        return
    try:
        checked = escalator.check(mention_id, level, severity=severity)
    except Exception:
        log.exception("checking an escalation of mention %s failed", mention_id)
        context[CHECKED] = "error"
        ack(response_action="errors", errors={"level": CHECK_FAILED})
        return
    if checked.ok:
        context[CHECKED] = "ok"
        ack()
        return
    context[CHECKED] = checked.reason
    errors = blocks.escalation_form_errors(checked.reason, checked.mention, services.clock())
    ack(response_action="errors", errors=errors)


def submit_escalation(body, context):
    """Runs after every submission's ack, refused ones too: escalate only what the ack let
    through, and only if it still holds (the escalator checks again)."""
    services = context["services"]
    verdict = context.get(CHECKED)
    if verdict not in (None, "ok"):
        return  # refused inline: the form said why and stayed open
    escalator = getattr(services, "escalator", None)
    if escalator is None:
        return
    mention_id, user, values = submitted(body)
    severity, level, note = escalation_form(values)
    channel = None
    try:
        checked = escalator.check(mention_id, level, severity=severity)
        channel = (checked.mention or {}).get("channel")
        if not checked.ok:
            if verdict == "ok":  # it changed after the form closed: say so, or nobody will
                services.poster.ephemeral(channel, user, checked.text)
            return
        result = escalator.escalate(mention_id, by=user, level=level, severity=severity, note=note)
        if getattr(result, "text", ""):
            services.poster.ephemeral(channel, user, result.text)
    except Exception:
        log.exception("escalating mention %s failed", mention_id)
        services.poster.ephemeral(
            channel,
            user,
            "Sorry, the escalation didn't go through. Please tell your on-call person directly.",
        )
