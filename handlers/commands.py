"""`/mentions`: ack at once, answer through `respond` (the command's response_url)."""

from __future__ import annotations

import json
import logging

from bot import blocks
from bot.sources import status_extras

log = logging.getLogger(__name__)


def register(app) -> None:
    app.command("/mentions")(ack=acknowledge, lazy=[mentions])


def acknowledge(ack):
    ack()


def mentions(command, respond, context, client):
    services = context["services"]
    words = (command.get("text") or "").split()
    sub = words[0].lower() if words else "help"
    user = command.get("user_id", "")
    now = services.clock()
    try:
        if sub == "queue":
            rows = services.store.open_urgent()
            respond(
                blocks.list_message(
                    f"Unclaimed urgent mentions ({len(rows)})",
                    blocks.queue_lines(rows, now, permalinks(client, rows)),
                    "Nothing is waiting. 🎉",
                )
            )
        elif sub == "mine":
            rows = services.store.claimed_by(user)
            respond(
                blocks.list_message(
                    f"Your open claims ({len(rows)})",
                    blocks.queue_lines(rows, now, permalinks(client, rows)),
                    "You have no open claims.",
                )
            )
        elif sub == "summary":
            summary_answer(services, client, command, words[1:], respond)
        elif sub == "status":
            configured = [s.name for s in services.settings.enabled_sources()]
            jobs, skipped = scheduler_state(services)
            respond(
                blocks.list_message(
                    "Sources",
                    blocks.status_lines(
                        services.store.health(),
                        configured,
                        skipped,
                        now,
                        status_extras(services.settings, services.store),
                    )
                    + blocks.scheduler_lines(jobs, now, services.settings.digest),
                    "No sources are enabled: add a [sources.NAME] table to the config file.",
                )
            )
        elif sub == "oncall":
            respond(oncall_answer(services, words[1:], user, now))
        else:
            respond(blocks.help_message(None if sub == "help" else sub))
    except Exception:
        log.exception("/mentions %s failed", sub)
        respond(
            {
                "response_type": "ephemeral",
                "text": "Sorry, that didn't work on our side. Please try again in a moment.",
            }
        )


def permalinks(client, rows: list[dict]) -> dict[int, str]:
    """Links to the alert messages (chat.getPermalink); a failed lookup just drops the link."""
    links = {}
    for m in rows[:20]:
        if not m.get("ts") or m.get("channel") in (None, "terminal"):
            continue
        try:
            links[m["id"]] = client.chat_getPermalink(channel=m["channel"], message_ts=m["ts"])[
                "permalink"
            ]
        except Exception as exc:  # noqa: BLE001 - a missing link is not worth failing the list
            log.info("no permalink for mention %s: %s", m["id"], exc)
    return links


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
    start, live = oncall.load(settings, store, now)
    status = oncall.on_call(settings.oncall, start, live, now)
    upcoming = [o for o in live if o.starts_at > now]
    return blocks.oncall_message(status, tz, upcoming=upcoming, note=note)


# --- summary (issue 7) ----------------------------------------------------------------------


def summary_answer(services, client, command: dict, args: list[str], respond) -> None:
    """`/mentions summary [today|24h|7d|30d] [chart]`: ephemeral, with Share to channel; the
    chart (7d and 30d) goes to the asker by direct message, so it stays private too."""
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
            oldest_link=permalinks(client, [oldest]).get(oldest["id"]) if oldest else None,
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
