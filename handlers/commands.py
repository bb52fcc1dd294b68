"""`/mentions`: ack at once, answer through `respond` (the command's response_url)."""

from __future__ import annotations

import json
import logging

from bot import blocks, slack
from bot.sources import status_extras

log = logging.getLogger(__name__)


def register(app) -> None:
    app.command("/mentions")(ack=acknowledge, lazy=[mentions])


def acknowledge(ack):
    ack()


SORRY = "Sorry, that didn't work on our side. Please try again in a moment."


def mentions(command, respond, context, client):
    """Every subcommand answers once through the response_url (the summary's chart note makes
    two; Slack allows five in 30 minutes); an answer Slack refuses goes again as plain text,
    and anything that fails still gets a kind answer."""
    services = context["services"]
    words = (command.get("text") or "").split()
    sub = words[0].lower() if words else "help"
    user = command.get("user_id", "")
    channel = command.get("channel_id")

    def send(message: dict) -> bool:
        return answer(services, respond, message, user=user, channel=channel, sub=sub)

    try:
        now = services.clock()
        if sub == "queue":
            rows = services.store.open_urgent()
            shown = rows[: blocks.LIST_ITEMS]
            send(
                blocks.list_message(
                    f"Unclaimed urgent mentions ({len(rows)})",
                    blocks.queue_lines(rows, now, slack.permalinks(client, shown)),
                    "Nothing is waiting. 🎉",
                )
            )
        elif sub == "mine":
            rows = services.store.claimed_by(user)
            shown = rows[: blocks.LIST_ITEMS]
            send(
                blocks.list_message(
                    f"Your open claims ({len(rows)})",
                    blocks.queue_lines(rows, now, slack.permalinks(client, shown)),
                    "You have no open claims.",
                )
            )
        elif sub == "summary":
            summary_answer(services, client, command, words[1:], send)
        elif sub == "status":
            send(status_answer(services, now))
        elif sub == "oncall":
            send(oncall_answer(services, words[1:], user, now))
        else:
            send(blocks.help_message(None if sub == "help" else sub))
    except Exception:
        log.exception("/mentions %s failed", sub)
        send({"response_type": "ephemeral", "text": SORRY})


def answer(services, respond, message: dict, *, user: str, channel: str | None, sub: str) -> bool:
    """Send `message` through the command's response_url; True when Slack took it.

    Bolt's `respond` does not raise when Slack refuses (it returns the HTTP answer): a refused
    message with blocks goes again as its plain text; when that fails too, or the URL is gone,
    the asker gets the text as an ephemeral note (or a DM), never silence."""
    error = _refused(respond, message)
    if error is None:
        return True
    log.warning("/mentions %s: Slack refused the answer for %s (%s)", sub, user, error)
    text = message.get("text") or SORRY
    if message.get("blocks") and not error.startswith(("404", "410", "raised")):
        plain = {"response_type": message.get("response_type", "ephemeral"), "text": text}
        if "replace_original" in message:
            plain["replace_original"] = message["replace_original"]
        if _refused(respond, plain) is None:
            return False
    try:
        services.poster.ephemeral(channel, user, text)
    except Exception:
        log.exception("/mentions %s: could not answer %s at all", sub, user)
    return False


def _refused(respond, message: dict) -> str | None:
    """None when the response_url took `message`, else what went wrong (`404 expired_url`,
    `200 invalid_blocks`, `raised ConnectionError`...)."""
    try:
        response = respond(message)
    except Exception as exc:  # noqa: BLE001 - reported by the caller, then answered another way
        return f"raised {type(exc).__name__}: {exc}"
    status = getattr(response, "status_code", 200)
    body = getattr(response, "body", "") or ""
    error = None
    if isinstance(body, str) and body.lstrip().startswith("{"):
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = {}
        if isinstance(parsed, dict) and parsed.get("ok") is False:
            error = str(parsed.get("error") or "not ok")
    if status == 200 and error is None:
        return None
    return f"{status} {error or str(body)[:100]}".strip()


def status_answer(services, now) -> dict:
    """`/mentions status`: each source's health and the scheduler's next runs. It is what
    people run when something is wrong, so a part that fails is left out, not the answer."""
    configured = [s.name for s in services.settings.enabled_sources()]
    jobs, skipped = scheduler_state(services)
    try:
        extras = status_extras(services.settings, services.store)
    except Exception:  # noqa: BLE001 - the health lines are still worth showing
        log.exception("/mentions status: source details failed")
        extras = {}
    return blocks.list_message(
        "Sources",
        blocks.status_lines(services.store.health(), configured, skipped, now, extras)
        + blocks.scheduler_lines(jobs, now, services.settings.digest),
        "No sources are enabled: add a [sources.NAME] table to the config file.",
    )


def oncall_answer(services, words: list[str], user: str, now) -> dict:
    """`/mentions oncall`: who is on call now and next. With `@user [for 8h | until mon
    09:00]` (managers only) it sets an override, by default until the next handover;
    `clear` ends every override."""
    from bot import oncall
    from storage import escalation as esc_store

    settings, store = services.settings, services.store
    tz = settings.oncall.timezone
    note = ""
    if words:
        if not services.is_manager(user):
            store.record_event(
                None, user, "oncall_override_refused", {"reason": "not_manager", "args": words[:6]}
            )
            return {
                "response_type": "ephemeral",
                "text": "Only a manager can change who is on call. `/mentions oncall` shows "
                "who is on call now.",
            }
        if words[0].lower() == "clear":
            count = esc_store.clear_overrides(store, by=user, now=now)
            note = f"Cleared {count} override(s): the rotation applies again."
        else:
            try:
                target, until = oncall.parse_override(words, now, tz)
            except oncall.OverrideError as exc:
                # The message quotes what was typed: escaped, it can't ping or link.
                return {"response_type": "ephemeral", "text": blocks.escape_mrkdwn(str(exc))}
            if until is None:
                start, _ = oncall.load(settings, store, now)
                until = oncall.next_handover(settings.oncall, start, now)
            esc_store.add_override(store, target, now, until, by=user, now=now)
            when = blocks.local_time(until, tz)
            note = f"Done: {blocks.user_ref(target)} is on call until {when} ({tz})."
    try:
        start, live = oncall.load(settings, store, now)
        status = oncall.on_call(settings.oncall, start, live, now)
    except Exception:
        if not note:
            raise
        # The change is saved: say so, or the asker would try again and set it twice.
        log.exception("/mentions oncall: showing the rota after a change failed")
        return {
            "response_type": "ephemeral",
            "text": note + " I couldn't show the rota just now: `/mentions oncall` shows it.",
        }
    upcoming = [o for o in live if o.starts_at > now]
    return blocks.oncall_message(status, tz, upcoming=upcoming, note=note)


# --- summary (issue 7) ----------------------------------------------------------------------


def summary_answer(services, client, command: dict, args: list[str], respond) -> None:
    """`/mentions summary [today|24h|7d|30d] [chart]`: ephemeral, with Share to channel; the
    chart (7d and 30d) goes to the asker by direct message, so it stays private too.
    `respond` sends one message dict (`mentions`' `send`, or Bolt's `respond`)."""
    from bot.chart import upload_chart
    from bot.summary import PERIODS, for_settings, period_for

    user = command.get("user_id", "")
    words = [w.lower() for w in args]
    chart = "chart" in words
    names = [w for w in words if w != "chart"]
    name = names[0] if names else "24h"
    if name not in PERIODS or len(names) > 1:
        respond(blocks.help_message("summary " + " ".join(args)))
        return
    now = services.clock()
    period = period_for(name, now, services.settings.digest.timezone)
    can_chart = name in ("7d", "30d")
    summary = for_settings(services.store, services.settings, period, now=now, series=chart)
    note = None
    if chart:
        note = (
            "The chart is on its way to you in a direct message."
            if can_chart
            else "Charts come with `7d` and `30d`: try `/mentions summary 7d chart`."
        )
    oldest = summary.oldest_unclaimed
    respond(
        blocks.summary_message(
            summary,
            viewer=user,
            manager=services.is_manager(user),
            oldest_link=slack.permalink(client, oldest),
            share_value=json.dumps({"p": period.to_value(), "c": chart and can_chart}),
            note=note,
        )
    )
    if chart and can_chart:
        try:
            dm = client.conversations_open(users=user)["channel"]["id"]
            upload_chart(client, summary, dm, comment="Your /mentions summary chart")
        except Exception:
            log.exception("Could not send the summary chart to %s", user)
            respond(
                {
                    "response_type": "ephemeral",
                    "replace_original": False,
                    "text": "Sorry, I couldn't send the chart. Please try again in a moment.",
                }
            )


def scheduler_state(services) -> tuple[dict, list[str]]:
    """(next run of each scheduler job, skipped sources) from `run`'s health callable."""
    if services.health is None:
        return {}, []
    try:
        result = services.health()
    except Exception:  # noqa: BLE001 - status shows what it can
        log.exception("health check failed")
        return {}, []
    body = result[1] if isinstance(result, tuple) else result
    return dict(body.get("jobs") or {}), list(body.get("skipped") or [])
