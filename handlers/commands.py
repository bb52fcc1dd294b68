"""`/mentions`: ack at once, answer through `respond` (the command's response_url)."""

from __future__ import annotations

import logging

from bot import blocks

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
        elif sub == "status":
            configured = [s.name for s in services.settings.enabled_sources()]
            respond(
                blocks.list_message(
                    "Sources",
                    blocks.status_lines(services.store.health(), configured, [], now),
                    "No sources are enabled: add a [sources.NAME] table to the config file.",
                )
            )
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
