"""Every Block Kit payload the bot sends, built by pure functions from database rows.

Untrusted text (posts, names, handles, titles) always goes through `escape_mrkdwn` here and
nowhere else, in the blocks and in the `text` fallback alike. Button values carry ids only.
"""

from __future__ import annotations

import re
import textwrap
from datetime import datetime, timedelta

from bot import ids
from bot.models import parse_time
from bot.text import escape_mrkdwn, truncate

SOURCES = {
    "hackernews": ("🟧", "Hacker News"),
    "bluesky": ("🦋", "Bluesky"),
    "mastodon": ("🐘", "Mastodon"),
    "x": ("✖️", "X"),
    "reddit": ("👽", "Reddit"),
    "rss": ("📰", "RSS"),
    "replay": ("📼", "Replay"),
}
MAX_QUOTE = 2_400  # of the post's text on the card; a section allows 3,000 characters
MAX_BLOCKS = 50
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,30}$")


def source_label(source: str) -> str:
    icon, name = SOURCES.get(source, ("💬", source.title()))
    return f"{icon} {name}"


def user_ref(user_id: str | None) -> str:
    """`<@U…>` for a real Slack user id; anything else is shown as escaped text."""
    if user_id and _USER_ID.match(user_id):
        return f"<@{user_id}>"
    return escape_mrkdwn(user_id or "someone")


def ago(then: str | datetime | None, now: datetime) -> str:
    """'just now', '12 min ago', '3 h ago', '2 d ago'."""
    if not then:
        return "at an unknown time"
    moment = parse_time(then) if isinstance(then, str) else then
    return f"{duration(now - moment)} ago" if now - moment >= timedelta(minutes=1) else "just now"


def duration(delta: timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        hours, rest = divmod(minutes, 60)
        return f"{hours} h {rest} min" if rest and hours < 10 else f"{hours} h"
    return f"{minutes // (24 * 60)} d"


def followers_label(count: int | None) -> str:
    if count is None:
        return ""
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f}M followers".replace(".0M", "M")
    if count >= 1_000:
        return f"{count / 1_000:.1f}k followers".replace(".0k", "k")
    return f"{count} follower" + ("" if count == 1 else "s")


def _author(m: dict) -> str:
    name = m.get("author_name") or ""
    handle = m.get("author") or ""
    parts = []
    if name and name.lower() != handle.lower():
        parts.append(f"*{escape_mrkdwn(name)}*")
        if handle:
            parts.append(f"({escape_mrkdwn('@' + handle)})")
    elif handle:
        # Escape the `@` with the handle: a handle `here` must not show as a bare `@here`.
        parts.append(f"*{escape_mrkdwn('@' + handle)}*")
    else:
        parts.append("*someone*")
    label = followers_label(m.get("followers"))
    return " ".join(parts) + (f" · {label}" if label else "")


def _quote(text: str) -> str:
    lines = escape_mrkdwn(text).split("\n")
    return "\n".join(f">{line}" if line else ">" for line in lines)


def state_line(m: dict, now: datetime, *, sla_minutes: int) -> str:
    status = m["status"]
    if status == "claimed":
        return f"🙋 Claimed by {user_ref(m['claimed_by'])} {ago(m['claimed_at'], now)}"
    if status == "resolved":
        took = duration(parse_time(m["resolved_at"]) - parse_time(m["created_at"]))
        line = f"✅ Resolved by {user_ref(m['resolved_by'])} in {took}"
        return line + (f" · {escape_mrkdwn(m['outcome'])}" if m.get("outcome") else "")
    if status == "ignored":
        return "💤 Marked not urgent"
    waited = now - parse_time(m["created_at"])
    left = timedelta(minutes=sla_minutes) - waited
    if left > timedelta(0):
        sla = f"SLA {duration(left)} left"
    else:
        sla = f"⚠️ SLA passed {duration(-left)} ago"
    return f"⏳ Unclaimed for {duration(waited)} · {sla}"


def _button(text: str, action_id: str, value: str, style: str | None = None) -> dict:
    button = {
        "type": "button",
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "action_id": action_id,
        "value": value,
    }
    if style:
        button["style"] = style
    return button


# Characters a URL may not hold raw (RFC 3986) that would also end or split a mrkdwn
# `<url|label>` link: a URL carrying them could forge a ping or a link of its own.
_URL_UNSAFE = re.compile(r"[\s<>|\x00-\x1f\x7f]")


def _safe_url(url: str | None) -> str | None:
    if (
        url
        and url.startswith(("https://", "http://"))
        and len(url) <= 3000
        and not _URL_UNSAFE.search(url)
    ):
        return url
    return None


def alert_actions(m: dict) -> dict | None:
    value = str(m["id"])
    status = m["status"]
    elements = []
    if status == "posted":
        elements.append(_button("Claim", ids.CLAIM, value, "primary"))
    elif status == "claimed":
        elements.append(_button("Resolve", ids.RESOLVE, value, "primary"))
        elements.append(_button("Unclaim", ids.UNCLAIM, value))
    if status in ("posted", "claimed"):
        elements.append(_button("Draft reply", ids.DRAFT, value))
        elements.append(_button("Escalate", ids.ESCALATE, value, "danger"))
    url = _safe_url(m.get("url"))
    if url:
        elements.append(
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Open post ↗", "emoji": True},
                "action_id": ids.OPEN_POST,
                "url": url,
            }
        )
    if not elements:
        return None
    return {"type": "actions", "block_id": actions_block_id(m["id"]), "elements": elements}


def actions_block_id(mention_id: int) -> str:
    return f"alert_actions_{mention_id}"


def alert_blocks(m: dict, now: datetime, *, sla_minutes: int) -> list[dict]:
    """The alert card for one mention row, as it stands now in the database."""
    headline = (
        f"*🔴 Urgent · {m['urgency']}/100* · {source_label(m['source'])} · "
        f"posted {ago(m['created_at'], now)}"
    )
    body = _author(m)
    if m.get("title"):
        body += f"\n*{escape_mrkdwn(truncate(m['title'], 200))}*"
    text = m.get("text") or ""
    # Escaping and quoting can make text several times longer (`<` -> `&lt;`, a `>` a line):
    # fit the quote as escaped, so the section's 3,000 characters never cut it mid-entity or
    # cut off the link to the whole post.
    keep = MAX_QUOTE
    quoted = _quote(truncate(text, keep))
    while len(quoted) > MAX_QUOTE:
        keep = max(1, keep * MAX_QUOTE // len(quoted) - 1)
        quoted = _quote(truncate(text, keep))
    url = _safe_url(m.get("url"))
    if len(text) > keep and url:
        quoted += f"\n<{url}|Read the whole post>"
    body += "\n" + quoted
    why = " · ".join(escape_mrkdwn(r) for r in m.get("reasons") or [])
    details = f"*Why:* {why}" if why else "*Why:* scored urgent"
    details += f" · *Category:* {escape_mrkdwn(m.get('category') or 'other')}"
    blocks = [
        {"type": "section", "block_id": "alert_head", "text": {"type": "mrkdwn", "text": headline}},
        {
            "type": "section",
            "block_id": "alert_body",
            "text": {"type": "mrkdwn", "text": body[:3000]},
        },
        {
            "type": "context",
            "block_id": "alert_why",
            "elements": [{"type": "mrkdwn", "text": details[:3000]}],
        },
        {
            "type": "context",
            "block_id": "alert_state",
            "elements": [{"type": "mrkdwn", "text": state_line(m, now, sla_minutes=sla_minutes)}],
        },
    ]
    actions = alert_actions(m)
    if actions:
        blocks.append(actions)
    return blocks


def alert_text(m: dict) -> str:
    """The notification and screen-reader fallback: short, escaped."""
    who = escape_mrkdwn("@" + (m.get("author") or m.get("author_name") or "someone"))
    name = SOURCES.get(m["source"], ("", m["source"]))[1]
    snippet = escape_mrkdwn(truncate(" ".join((m.get("text") or "").split()), 150))
    return f"Urgent {m['urgency']}/100 from {who} on {name}: {snippet}"


def alert_message(m: dict, now: datetime, *, sla_minutes: int) -> dict:
    """Keyword arguments for chat.postMessage / chat.update (channel and ts added by caller)."""
    return {
        "text": alert_text(m),
        "blocks": alert_blocks(m, now, sla_minutes=sla_minutes),
        "metadata": {
            "event_type": ids.ALERT_EVENT_TYPE,
            "event_payload": {"mention_id": m["id"]},
        },
        "unfurl_links": False,
        "unfurl_media": False,
    }


THREAD_VERBS = {
    "claim": "🙋 {user} claimed this",
    "unclaim": "↩️ {user} unclaimed this; it is open again",
    "resolve": "✅ {user} resolved this",
}


def thread_line(action: str, user: str, *, outcome: str | None = None) -> str:
    line = THREAD_VERBS[action].format(user=user_ref(user))
    return line + (f" ({escape_mrkdwn(outcome)})" if outcome else "")


REFUSALS = {
    "already_claimed": "Already claimed by {owner} ({when}). Nothing to do here.",
    "not_owner": "Only {owner}, who claimed it, or a manager can do that.",
    "not_claimed": "Nobody has claimed this yet: claim it first, then resolve it.",
    "resolved": "Already resolved by {resolver}. Nothing left to do.",
    "ignored": "This one was marked not urgent.",
    "posted": "This one is not claimed right now.",
    "new": "This alert is still being posted; try again in a moment.",
    "not_found": "I can't find that mention any more. It may have been removed.",
}


def refusal_text(reason: str, m: dict | None, now: datetime) -> str:
    m = m or {}
    template = REFUSALS.get(reason, "That didn't work: the alert changed meanwhile.")
    return template.format(
        owner=user_ref(m.get("claimed_by")),
        when=ago(m.get("claimed_at"), now),
        resolver=user_ref(m.get("resolved_by")),
    )


def not_yet_text(feature: str) -> str:
    """Buttons whose feature has not shipped yet answer kindly instead of failing."""
    return (
        f"{feature} isn't available in this version of mentionops yet. Open the post to reply "
        "there, and tell your on-call person directly if it can't wait."
    )


def notice_message(text: str) -> dict:
    """A plain notice from the bot (source health and the like); `text` is trusted."""
    return {
        "text": text,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}],
        "metadata": {"event_type": ids.NOTICE_EVENT_TYPE, "event_payload": {"kind": "notice"}},
        "unfurl_links": False,
        "unfurl_media": False,
    }


# --- terminal rendering (demo, fetch --dry-run) ------------------------------------------------

_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
_USER = re.compile(r"<@([UW][A-Z0-9]+)>")


def mrkdwn_to_terminal(text: str) -> str:
    """Slack mrkdwn as a terminal shows it: links as 'label (url)', users as @U…, no *bold*
    markers, quotes as a bar, entities decoded (only for display: nothing here goes to Slack)."""
    text = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})", text)
    text = _USER.sub(lambda m: "@" + m.group(1), text)
    text = _BOLD.sub(lambda m: m.group(1), text)
    text = "\n".join("▌ " + line[1:] if line.startswith(">") else line for line in text.split("\n"))
    text = text.replace("\u2060", "")
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


_BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")


def render_text(message: dict, width: int = 78) -> str:
    """A readable terminal picture of a Block Kit message: what an agent would see in Slack."""
    out: list[str] = []
    for block in message.get("blocks", []):
        kind = block.get("type")
        if kind == "section":
            out.append(mrkdwn_to_terminal(block["text"]["text"]))
        elif kind == "context":
            out.append(" · ".join(mrkdwn_to_terminal(e.get("text", "")) for e in block["elements"]))
        elif kind == "actions":
            out.append(" ".join(f"[ {e['text']['text']} ]" for e in block["elements"]))
        elif kind == "header":
            out.append(block["text"]["text"].upper())
        elif kind == "divider":
            out.append("-" * width)
    lines = []
    for text in out:
        for line in text.split("\n"):
            indent = "▌ " if line.startswith("▌ ") else ""
            lines.extend(
                textwrap.wrap(line, width - 1, subsequent_indent=indent, break_on_hyphens=False)
                or [""]
            )
    bar = "─" * width
    return "\n".join([f"┌{bar}", *(f"│ {line}" for line in lines), f"└{bar}"])


# --- /mentions and App Home -----------------------------------------------------------------

HELP = (
    "*/mentions* shows what needs a human:\n"
    "• `/mentions queue`: urgent mentions nobody has claimed yet, oldest first\n"
    "• `/mentions mine`: what you have claimed and not resolved\n"
    "• `/mentions status`: each source's health and next poll\n"
    "• `/mentions help`: this list"
)


def help_message(unknown: str | None = None) -> dict:
    text = HELP
    if unknown:
        text = f"I don't know `{escape_mrkdwn(truncate(unknown, 40))}`. " + text
    return {"response_type": "ephemeral", "text": text}


def _alert_link(m: dict, permalink: str | None) -> str:
    who = escape_mrkdwn("@" + (m.get("author") or "someone"))
    snippet = escape_mrkdwn(truncate(" ".join((m.get("text") or "").split()), 90))
    label = f"{source_label(m['source'])} · {who}"
    if permalink:
        label = f"<{permalink}|{label}>"
    return f"{label}: {snippet}"


def queue_lines(
    rows: list[dict], now: datetime, permalinks: dict[int, str], *, limit: int = 20
) -> list[str]:
    lines = []
    for m in rows[:limit]:
        lines.append(
            f"• *{m['urgency']}* · waiting {duration(now - parse_time(m['created_at']))} · "
            + _alert_link(m, permalinks.get(m["id"]))
        )
    if len(rows) > limit:
        lines.append(f"…and {len(rows) - limit} more.")
    return lines


def list_message(title: str, lines: list[str], empty: str) -> dict:
    text = f"*{title}*\n" + ("\n".join(lines) if lines else empty)
    return {
        "response_type": "ephemeral",
        "text": truncate(text, 3000),
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, 3000)}}],
    }


def status_lines(
    health: list[dict], configured: list[str], skipped: list[str], now: datetime
) -> list[str]:
    by_name = {h["source"]: h for h in health}
    lines = []
    for name in configured:
        h = by_name.get(name)
        label = source_label(name)
        if not h or not h.get("last_run"):
            lines.append(f"• {label}: not polled yet")
            continue
        if h["consecutive_failures"]:
            lines.append(
                f"• ⚠️ {label}: failing since {ago(h['failing_since'], now)} "
                f"({h['consecutive_failures']} polls): "
                + escape_mrkdwn(truncate(h["last_error"] or "", 200))
            )
        else:
            lines.append(
                f"• ✅ {label}: last good poll {ago(h['last_success'], now)}, "
                f"{h['mentions_fetched']} new mentions so far"
            )
        if h.get("next_run"):
            lines[-1] += f"; next poll in {duration(parse_time(h['next_run']) - now)}"
    lines.extend(f"• ⏸️ {escape_mrkdwn(s)}" for s in skipped)
    return lines


def home_view(
    mine: list[dict], queue: list[dict], now: datetime, permalinks: dict[int, str]
) -> dict:
    def section(text: str) -> dict:
        return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, 3000)}}

    mine_lines = [
        f"• claimed {ago(m['claimed_at'], now)} · " + _alert_link(m, permalinks.get(m["id"]))
        for m in mine[:15]
    ]
    return {
        "type": "home",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "mentionops"}},
            section("*Your open claims*\n" + ("\n".join(mine_lines) or "Nothing claimed. Nice.")),
            {"type": "divider"},
            section(
                "*Waiting for someone, oldest first*\n"
                + (
                    "\n".join(queue_lines(queue, now, permalinks, limit=15))
                    or "The queue is empty."
                )
            ),
        ],
    }


def preview_row(mention, score, *, mention_id: int = 0) -> dict:
    """A mention row as the database would hold it: for `fetch --dry-run` previews."""
    from bot.models import iso

    created = iso(mention.created_at) if mention.created_at else iso(datetime.now().astimezone())
    return {
        "id": mention_id,
        "source": mention.source,
        "external_id": mention.external_id,
        "url": mention.url,
        "author": mention.author,
        "author_name": mention.author_name,
        "followers": mention.followers,
        "title": mention.title,
        "text": mention.text,
        "created_at": created,
        "urgency": score.urgency,
        "urgent": score.urgent,
        "category": score.category,
        "sentiment": score.sentiment,
        "reasons": score.reasons,
        "status": "posted",
        "claimed_by": None,
        "claimed_at": None,
        "resolved_by": None,
        "resolved_at": None,
        "outcome": None,
        "metrics": mention.metrics,
    }
