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
MIN_QUOTE = 400  # the least of it a card shows, whatever else the section holds
MAX_SECTION = 3_000  # characters of text in a section (and in a context element)
MAX_BLOCKS = 50
MAX_NAME = 80  # of an author's name or handle: a huge one must not push the post off the card
MAX_CROSS_LINKS = 600  # characters of "Also posted on:" links on a card; the rest are counted
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
    name = truncate(m.get("author_name") or "", MAX_NAME)
    handle = truncate(m.get("author") or "", MAX_NAME)
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


def _who(m: dict) -> str:
    """`@handle` (or the name), escaped and bounded: one short line for lists and fallbacks."""
    return escape_mrkdwn(
        "@" + truncate(m.get("author") or m.get("author_name") or "someone", MAX_NAME)
    )


def _quote(text: str) -> str:
    lines = escape_mrkdwn(text).split("\n")
    return "\n".join(f">{line}" if line else ">" for line in lines)


def _fit_quote(text: str, budget: int) -> tuple[str, bool]:
    """(`text` quoted and escaped in at most `budget` characters, whether it was cut).
    Escaping and quoting can make text several times longer (`<` -> `&lt;`, a `>` a line), so
    the cut is made before escaping, never mid-entity."""
    keep = budget
    quoted = _quote(truncate(text, keep))
    while len(quoted) > budget:
        keep = max(1, keep * budget // len(quoted) - 1)
        quoted = _quote(truncate(text, keep))
    return quoted, len(text) > keep


_OPEN_TAIL = re.compile(r"(&[a-z]{0,3}|<[^>]*)$")


def clip(text: str, limit: int = MAX_SECTION) -> str:
    """Cut mrkdwn to `limit` characters without leaving half an entity (`&am`) or half a
    link (`<https://…`) at the end."""
    if len(text) <= limit:
        return text
    return _OPEN_TAIL.sub("", text[: limit - 1]) + "…"


def state_line(m: dict, now: datetime, *, sla_minutes: int) -> str:
    status = m["status"]
    if status == "claimed":
        line = f"🙋 Claimed by {user_ref(m['claimed_by'])} {ago(m['claimed_at'], now)}"
    elif status == "resolved":
        took = duration(parse_time(m["resolved_at"]) - parse_time(m["created_at"]))
        line = f"✅ Resolved by {user_ref(m['resolved_by'])} in {took}"
        if m.get("outcome"):
            line += f" · {escape_mrkdwn(OUTCOMES.get(m['outcome'], m['outcome']))}"
    elif status == "ignored":
        reason = m.get("ignored_reason") or "no reason given"
        line = f"💤 Not urgent: {escape_mrkdwn(IGNORE_REASONS.get(reason, reason))}"
        if m.get("ignored_by"):
            line += f" · marked by {user_ref(m['ignored_by'])}"
    else:
        waited = now - parse_time(m["created_at"])
        left = timedelta(minutes=sla_minutes) - waited
        if left > timedelta(0):
            sla = f"SLA {duration(left)} left"
        else:
            sla = f"⚠️ SLA passed {duration(-left)} ago"
        line = f"⏳ Unclaimed for {duration(waited)} · {sla}"
    if (m.get("escalation_level") or 0) > 0 and status in ("posted", "claimed"):
        targets = ", ".join(
            user_ref(u.strip()) for u in (m.get("escalated_to") or "").split(",") if u.strip()
        )
        line += f" · 🚨 Escalated to {targets or 'on-call'} (L{m['escalation_level']})"
    if m.get("source_deleted_at"):
        line += " · 🗑️ The original post was deleted"
    return line


OUTCOMES = {
    "replied_publicly": "replied publicly",
    "moved_to_dm": "moved to DM",
    "no_action": "no action needed",
}
IGNORE_REASONS = {
    "not_a_complaint": "not a complaint",
    "spam": "spam or a bot",
    "handled_elsewhere": "already handled elsewhere",
}


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


def _option(text: str, value: str) -> dict:
    return {"text": {"type": "plain_text", "text": text, "emoji": True}, "value": value}


def alert_actions(m: dict, *, reply_url: str | None = None) -> dict | None:
    """The card's buttons for its state. Values carry the mention id and nothing else
    (overflow options: `verb:id:code`, all ours)."""
    value = str(m["id"])
    status = m["status"]
    live = status in ("posted", "claimed")
    deleted = bool(m.get("source_deleted_at"))
    elements = []
    if status == "posted":
        elements.append(_button("Claim", ids.CLAIM, value, "primary"))
    elif status == "claimed":
        elements.append(_button("Resolve", ids.RESOLVE, value, "primary"))
        elements.append(_button("Unclaim", ids.UNCLAIM, value))
    if live and not deleted:
        elements.append(_button("Draft reply", ids.DRAFT, value))
    if live:
        elements.append(_button("Escalate", ids.ESCALATE, value, "danger"))
    url = _safe_url(reply_url) if live and not deleted else None
    if url:
        elements.append(_link_button("Open reply ↗", ids.OPEN_REPLY, url))
    url = _safe_url(m.get("url")) if not deleted else None
    if url and status != "ignored":
        elements.append(_link_button("Open post ↗", ids.OPEN_POST, url))
    if status == "claimed":
        elements.append(
            {
                "type": "users_select",
                "action_id": ids.REASSIGN,
                "placeholder": {"type": "plain_text", "text": "Reassign to…", "emoji": True},
            }
        )
    if live:
        options = []
        if status == "claimed":
            options += [
                _option(f"Resolve: {label}", f"resolve:{value}:{code}")
                for code, label in OUTCOMES.items()
            ]
        options += [
            _option(f"Not urgent: {label}", f"ignore:{value}:{code}")
            for code, label in IGNORE_REASONS.items()
        ]
        # Slack allows five options; a claimed card's owner resolves "handled elsewhere" ones.
        elements.append({"type": "overflow", "action_id": ids.MORE, "options": options[:5]})
    if not elements:
        return None
    return {"type": "actions", "block_id": actions_block_id(m["id"]), "elements": elements}


def _link_button(text: str, action_id: str, url: str) -> dict:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "action_id": action_id,
        "url": url,
    }


def actions_block_id(mention_id: int) -> str:
    return f"alert_actions_{mention_id}"


def alert_blocks(
    m: dict, now: datetime, *, sla_minutes: int, reply_url: str | None = None
) -> list[dict]:
    """The alert card for one mention row, as it stands now in the database."""
    if m["status"] == "ignored":
        return [ignored_block(m, now, sla_minutes=sla_minutes)]
    headline = (
        f"*🔴 Urgent · {m['urgency']}/100* · {source_label(m['source'])} · "
        f"posted {ago(m['created_at'], now)}"
    )
    head = _author(m)
    if m.get("title"):
        head += f"\n*{escape_mrkdwn(truncate(m['title'], 200))}*"
    cross = _cross_post_line(m.get("cross_posts") or [])
    # The section holds 3,000 characters: the quote gets what the rest leaves (never more
    # than MAX_QUOTE), so nothing is cut mid-entity or mid-link by a slice.
    room = MAX_SECTION - len(head) - len(cross) - 1
    text = m.get("text") or ""
    quoted, cut = _fit_quote(text, min(MAX_QUOTE, room))
    url = _safe_url(m.get("url"))
    more = f"\n<{url}|Read the whole post>" if cut and url else ""
    # A URL too long to leave the quote room is left out: the Open post button links it.
    if more and room - len(more) >= MIN_QUOTE:
        quoted, _ = _fit_quote(text, min(MAX_QUOTE, room - len(more)))
        quoted += more
    body = f"{head}\n{quoted}{cross}"
    why = " · ".join(escape_mrkdwn(r) for r in m.get("reasons") or [])
    details = f"*Why:* {why}" if why else "*Why:* scored urgent"
    details += f" · *Category:* {escape_mrkdwn(m.get('category') or 'other')}"
    blocks = [
        {"type": "section", "block_id": "alert_head", "text": {"type": "mrkdwn", "text": headline}},
        {
            "type": "section",
            "block_id": "alert_body",
            "text": {"type": "mrkdwn", "text": clip(body)},
        },
        {
            "type": "context",
            "block_id": "alert_why",
            "elements": [{"type": "mrkdwn", "text": clip(details)}],
        },
        {
            "type": "context",
            "block_id": "alert_state",
            "elements": [{"type": "mrkdwn", "text": state_line(m, now, sla_minutes=sla_minutes)}],
        },
    ]
    actions = alert_actions(m, reply_url=reply_url)
    if actions:
        blocks.append(actions)
    return blocks


def _cross_post_line(cross_posts: list[dict]) -> str:
    """'\n*Also posted on:* <url|X ↗> · …', as many links as fit, then how many more."""
    links = [
        f"<{link}|{SOURCES.get(c['source'], ('', c['source'].title()))[1]} ↗>"
        for c in cross_posts
        if (link := _safe_url(c.get("url")))
    ]
    if not links:
        return ""
    shown: list[str] = []
    for link in links:
        if sum(len(s) + 3 for s in shown) + len(link) > MAX_CROSS_LINKS:
            break
        shown.append(link)
    rest = len(links) - len(shown)
    more = f"{' · ' if shown else ''}{rest} more" if rest else ""
    return "\n*Also posted on:* " + " · ".join(shown) + more


def ignored_block(m: dict, now: datetime, *, sla_minutes: int) -> dict:
    """A dismissed alert collapses to one line, so the channel stays about what is urgent."""
    snippet = escape_mrkdwn(truncate(" ".join((m.get("text") or "").split()), 80))
    state = state_line(m, now, sla_minutes=sla_minutes)
    text = f"{state} · {source_label(m['source'])} · {_who(m)}: {snippet}"
    return {
        "type": "context",
        "block_id": "alert_state",
        "elements": [{"type": "mrkdwn", "text": clip(text)}],
    }


def alert_text(m: dict) -> str:
    """The notification and screen-reader fallback: short, escaped."""
    name = SOURCES.get(m["source"], ("", m["source"]))[1]
    snippet = escape_mrkdwn(truncate(" ".join((m.get("text") or "").split()), 150))
    return f"Urgent {m['urgency']}/100 from {_who(m)} on {name}: {snippet}"


def alert_message(
    m: dict, now: datetime, *, sla_minutes: int, reply_url: str | None = None
) -> dict:
    """Keyword arguments for chat.postMessage / chat.update (channel and ts added by caller)."""
    return {
        "text": alert_text(m),
        "blocks": alert_blocks(m, now, sla_minutes=sla_minutes, reply_url=reply_url),
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
    "reassign": "🔁 {user} handed this to {target}",
    "ignore": "💤 {user} marked this not urgent",
}


def thread_line(
    action: str, user: str, *, outcome: str | None = None, target: str | None = None
) -> str:
    line = THREAD_VERBS[action].format(user=user_ref(user), target=user_ref(target))
    label = OUTCOMES.get(outcome or "") or IGNORE_REASONS.get(outcome or "") or outcome
    return line + (f" ({escape_mrkdwn(label)})" if label else "")


def draft_thread_line(user: str, version: int, text: str) -> str:
    quoted = _quote(truncate(text, 2500))
    return f"✍️ {user_ref(user)} saved reply draft v{version}:\n{quoted}"


REFUSALS = {
    "already_claimed": "Already claimed by {owner} ({when}). Nothing to do here.",
    "not_owner": "Only {owner}, who claimed it, or a manager can do that.",
    "not_claimed": "Nobody has claimed this yet: claim it first, then resolve it.",
    "same_owner": "{owner} already has it.",
    "resolved": "Already resolved by {resolver}. Nothing left to do.",
    "ignored": "This one was marked not urgent.",
    "posted": "This one is not claimed right now.",
    "new": "This alert is still being posted; try again in a moment.",
    "not_found": "I can't find that mention any more. It may have been removed.",
    "source_deleted": "The customer's post was deleted, so there is nothing to reply to.",
}


def _refusal(templates: dict[str, str], reason: str, m: dict | None, **fields) -> str:
    """One refusal sentence, filled from the mention row (None when it is gone)."""
    m = m or {}
    template = templates.get(reason, "That didn't work: the alert changed meanwhile.")
    return template.format(
        owner=user_ref(m.get("claimed_by")), resolver=user_ref(m.get("resolved_by")), **fields
    )


def refusal_text(reason: str, m: dict | None, now: datetime) -> str:
    return _refusal(REFUSALS, reason, m, when=ago((m or {}).get("claimed_at"), now))


def _plain(text: str, limit: int = 150) -> dict:
    return {"type": "plain_text", "text": truncate(text, limit), "emoji": True}


def _post_context(m: dict) -> dict:
    head = f"*{_who(m)}* on {source_label(m['source'])}:"
    quoted, _ = _fit_quote(" ".join((m.get("text") or "").split()), 600)
    return {
        "type": "section",
        "block_id": "post",
        "text": {"type": "mrkdwn", "text": f"{head}\n{quoted}"},
    }


def draft_modal(m: dict, draft: str, *, limit: int, platform: str, version: int) -> dict:
    """The Draft reply modal. `private_metadata` carries the mention id and nothing else."""
    hint = (
        f"{platform} allows {limit:,} characters. Saving posts the draft in the alert's thread "
        "and adds an Open reply button that fills it in on the platform, ready to send."
    )
    title = "Draft reply" if version == 0 else f"Draft reply (v{version + 1})"
    return {
        "type": "modal",
        "callback_id": ids.DRAFT_VIEW,
        "private_metadata": str(m["id"]),
        "title": _plain(title, 24),
        "submit": _plain("Save draft", 24),
        "close": _plain("Cancel", 24),
        "blocks": [
            _post_context(m),
            {
                "type": "input",
                "block_id": "draft",
                "label": _plain("Your reply"),
                "hint": _plain(hint, 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "text",
                    "multiline": True,
                    "initial_value": draft[:3000],
                    "max_length": 3000,
                },
            },
        ],
    }


SEVERITIES = {
    "SEV1": "SEV1 · harm, legal or press risk",
    "SEV2": "SEV2 · urgent, needs on-call now",
    "SEV3": "SEV3 · needs attention today",
}
LEVELS = {"1": "L1 · whoever is on call", "2": "L2 · the managers"}


def escalate_modal(m: dict) -> dict:
    severity_options = [_option(label, code) for code, label in SEVERITIES.items()]
    level_options = [_option(label, code) for code, label in LEVELS.items()]
    return {
        "type": "modal",
        "callback_id": ids.ESCALATE_VIEW,
        "private_metadata": str(m["id"]),
        "title": _plain("Escalate", 24),
        "submit": _plain("Escalate", 24),
        "close": _plain("Cancel", 24),
        "blocks": [
            _post_context(m),
            {
                "type": "input",
                "block_id": "severity",
                "label": _plain("Severity"),
                "element": {
                    "type": "static_select",
                    "action_id": "value",
                    "options": severity_options,
                    "initial_option": severity_options[1],
                },
            },
            {
                "type": "input",
                "block_id": "level",
                "label": _plain("Who to alert"),
                "element": {
                    "type": "static_select",
                    "action_id": "value",
                    "options": level_options,
                    "initial_option": level_options[0],
                },
            },
            {
                "type": "input",
                "block_id": "note",
                "optional": True,
                "label": _plain("Note for them"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "multiline": True,
                    "max_length": 1000,
                    "placeholder": _plain("What should they know or do first?"),
                },
            },
        ],
    }


def notice_message(text: str) -> dict:
    """A plain notice from the bot (source health and the like); `text` is trusted."""
    return {
        "text": text,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": clip(text)}}],
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


def _terminal_element(element: dict) -> str:
    if element["type"] == "overflow":
        return "[ ⋯ ]"
    label = (element.get("text") or element.get("placeholder") or {}).get("text", "")
    shown = f"[ {label} ▾ ]" if element["type"].endswith("_select") else f"[ {label} ]"
    return shown.replace(" ", "\u00a0")  # a button never breaks across lines


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
            out.append(" ".join(_terminal_element(e) for e in block["elements"]))
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
    lines = [line.replace("\u00a0", " ") for line in lines]
    return "\n".join([f"┌{bar}", *(f"│ {line}" for line in lines), f"└{bar}"])


# --- /mentions and App Home -----------------------------------------------------------------

HELP = (
    "*/mentions* shows what needs a human:\n"
    "• `/mentions queue`: urgent mentions nobody has claimed yet, oldest first\n"
    "• `/mentions mine`: what you have claimed and not resolved\n"
    "• `/mentions summary [today|24h|7d|30d] [chart]`: how fast we are, and what people are "
    "angry about\n"
    "• `/mentions status`: each source's health and the scheduler's next runs\n"
    "• `/mentions oncall`: who is on call now and next; managers: "
    "`/mentions oncall @someone [for 8h | until mon 09:00]`, `/mentions oncall clear`\n"
    "• `/mentions help`: this list"
)


def help_message(unknown: str | None = None) -> dict:
    text = HELP
    if unknown:
        text = f"I don't know `{escape_mrkdwn(truncate(unknown, 40))}`. " + text
    return {"response_type": "ephemeral", "text": text}


def _alert_link(m: dict, permalink: str | None) -> str:
    snippet = escape_mrkdwn(truncate(" ".join((m.get("text") or "").split()), 90))
    label = f"{source_label(m['source'])} · {_who(m)}"
    if _safe_url(permalink):
        label = f"<{permalink}|{label}>"
    return f"{label}: {snippet}"


LIST_ITEMS = 20  # mentions listed by `/mentions queue` and `/mentions mine`; the rest counted
HOME_ITEMS = 15  # claims, and queue items, on App Home


def queue_lines(
    rows: list[dict], now: datetime, permalinks: dict[int, str], *, limit: int = LIST_ITEMS
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


def line_sections(title: str, lines: list[str], empty: str) -> list[dict]:
    """`*title*` and its lines in as many sections as 3,000 characters each need: a long
    list is never cut mid-line or mid-link, and nothing after the cut is lost."""
    chunks = [f"*{title}*"]
    for line in lines or [empty]:
        line = clip(line)
        if len(chunks[-1]) + 1 + len(line) > MAX_SECTION:
            chunks.append(line)
        else:
            chunks[-1] += "\n" + line
    return [_section(chunk) for chunk in chunks]


def list_message(title: str, lines: list[str], empty: str) -> dict:
    text = f"*{title}*\n" + ("\n".join(lines) if lines else empty)
    return {
        "response_type": "ephemeral",
        "text": clip(text),
        "blocks": line_sections(title, lines, empty)[:MAX_BLOCKS],
    }


def status_lines(
    health: list[dict],
    configured: list[str],
    skipped: list[str],
    now: datetime,
    extras: dict[str, str] | None = None,
) -> list[str]:
    """A line per source (and one per failing feed of it), then the skipped ones."""
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
        if (extras or {}).get(name):
            lines[-1] += f"; {escape_mrkdwn(extras[name])}"
        for part in health:
            if part["source"].startswith(f"{name} ") and part["consecutive_failures"]:
                feed = escape_mrkdwn(part["source"][len(name) + 1 :])
                lines.append(
                    f"    ◦ ⚠️ feed {feed}: failing since {ago(part['failing_since'], now)}: "
                    + escape_mrkdwn(truncate(part["last_error"] or "", 200))
                )
    lines.extend(f"• ⏸️ {escape_mrkdwn(s)}" for s in skipped)
    return lines


HOME_UNAVAILABLE = "Couldn't load this just now. Open the tab again to retry."


def home_view(
    mine: list[dict] | None,
    queue: list[dict] | None,
    now: datetime,
    permalinks: dict[int, str],
    *,
    on_call: str | None = None,
    glance: str | None = None,
) -> dict:
    """App Home: your open claims, the unclaimed queue, who is on call, the last 24 h. A list
    that could not be read is None and says so; the rest of the page still shows."""
    if mine is None:
        mine_lines = [HOME_UNAVAILABLE]
    else:
        mine_lines = [
            f"• claimed {ago(m['claimed_at'], now)} · " + _alert_link(m, permalinks.get(m["id"]))
            for m in mine[:HOME_ITEMS]
        ]
        if len(mine) > HOME_ITEMS:
            mine_lines.append(f"…and {len(mine) - HOME_ITEMS} more: `/mentions mine` lists them.")
    if queue is None:
        queue_part = [HOME_UNAVAILABLE]
    else:
        queue_part = queue_lines(queue, now, permalinks, limit=HOME_ITEMS)
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "mentionops"}},
        *line_sections("Your open claims", mine_lines, "Nothing claimed. Nice."),
        {"type": "divider"},
        *line_sections("Waiting for someone, oldest first", queue_part, "The queue is empty."),
    ]
    if on_call or glance:
        blocks.append({"type": "divider"})
    if on_call:
        blocks.append(_section(f"*On call*\n{on_call}"))
    if glance:
        blocks.append(_section(f"*Last 24 hours*\n{glance}"))
    return {"type": "home", "blocks": blocks[:MAX_BLOCKS]}


def home_error_view() -> dict:
    """App Home when nothing on it could be read: better than a blank or stale tab."""
    return {
        "type": "home",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "mentionops"}},
            _section(
                "Couldn't load your page, sorry. Try again in a moment: switch to another tab "
                "and back. `/mentions queue` and `/mentions mine` work too."
            ),
        ],
    }


def on_call_line(user: str | None, until: datetime | None, next_user: str | None, tz) -> str:
    if not user:
        return "Nobody: add people to `[oncall] rotation`."
    line = f"{user_ref(user)}"
    if until:
        line += f" until {until.astimezone(tz).strftime('%a %H:%M')}"
    if next_user and next_user != user:
        line += f", then {user_ref(next_user)}"
    return line


def glance_line(summary) -> str:
    """The last 24 h in one line, from a bot.summary.Summary."""
    claim = summary.claim_median
    median = f"{duration(timedelta(seconds=claim))}" if claim is not None else "n/a"
    return (
        f"{summary.seen} mentions · {summary.urgent} urgent · {summary.claimed} claimed · "
        f"{summary.resolved} resolved · {summary.escalated} escalated · "
        f"median time to claim {median}"
    )


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


# --- on-call escalation (bot/escalation.py, /mentions oncall) ----------------------------------

LEVEL_NAMES = {1: "L1 on-call", 2: "L2 managers"}


def _users(user_ids: list[str] | tuple[str, ...]) -> str:
    return ", ".join(user_ref(u) for u in user_ids) or "nobody"


def _why_escalated(m: dict, level: int, by: str, note: str | None, now: datetime) -> str:
    if by and by != "mentionops":
        why = f"Escalated by {user_ref(by)}"
    else:
        waited = duration(now - parse_time(m["created_at"]))
        why = (
            f"Nobody has claimed it for {waited}, past its SLA"
            if level == 1
            else f"Still unclaimed after {waited}; on-call was pinged first"
        )
    return why + (f": “{escape_mrkdwn(truncate(note, 500))}”" if note else "")


def _mention_section(m: dict) -> dict:
    quote, _ = _fit_quote(m.get("text") or "", 1200)
    return {"type": "section", "text": {"type": "mrkdwn", "text": f"{_author(m)}\n{quote}"}}


def _alert_button(permalink: str | None, url: str | None) -> dict | None:
    """One link button (acked by the OPEN_POST listener): the alert if we have its link, else
    the post itself."""
    target, label = (permalink, "Open the alert") if _safe_url(permalink) else (url, "Open post ↗")
    if not _safe_url(target):
        return None
    button = {
        "type": "button",
        "text": {"type": "plain_text", "text": label, "emoji": True},
        "action_id": ids.OPEN_POST,
        "url": target,
    }
    return {"type": "actions", "elements": [button]}


def escalation_dm(
    m: dict,
    *,
    level: int,
    severity: str,
    by: str,
    now: datetime,
    permalink: str | None,
    note: str | None = None,
) -> dict:
    """The direct message to the person an escalation goes to."""
    head = (
        f"*🚨 Escalated to you ({LEVEL_NAMES.get(level, f'L{level}')}, {escape_mrkdwn(severity)})*"
        f" · urgency {m['urgency']}/100 · {source_label(m['source'])} · "
        f"posted {ago(m['created_at'], now)}"
    )
    why = " · ".join(escape_mrkdwn(r) for r in m.get("reasons") or []) or "scored urgent"
    context = f"{_why_escalated(m, level, by, note, now)}\n*Why urgent:* {why}"
    if permalink and _safe_url(permalink):
        context += f"\n<{permalink}|Open the alert> to claim it."
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": head}},
        _mention_section(m),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(context)}]},
    ]
    button = _alert_button(permalink, m.get("url"))
    if button:
        blocks.append(button)
    return {
        "text": f"🚨 Escalated to you ({severity}, L{level}): {alert_text(m)}",
        "blocks": blocks,
        "unfurl_links": False,
        "unfurl_media": False,
    }


def escalation_post(
    m: dict,
    *,
    level: int,
    severity: str,
    targets: list[str],
    by: str,
    now: datetime,
    permalink: str | None,
    note: str | None = None,
    dm_failed: dict[str, str] | None = None,
) -> dict:
    """The post in the escalation channel that pings the people it goes to."""
    who = _users(targets) if targets else "nobody (no one is on call: set [oncall] rotation)"
    head = (
        f"*🚨 {who}: urgent mention escalated to you ({LEVEL_NAMES.get(level, f'L{level}')}, "
        f"{escape_mrkdwn(severity)})* · urgency {m['urgency']}/100 · {source_label(m['source'])}"
    )
    lines = [_why_escalated(m, level, by, note, now)]
    for user, error in (dm_failed or {}).items():
        lines.append(
            f"⚠️ The direct message to {user_ref(user)} failed ({escape_mrkdwn(error)}), "
            "so this post is the ping."
        )
    if permalink and _safe_url(permalink):
        lines.append(f"<{permalink}|Open the alert> to claim it.")
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": clip(head)}},
        _mention_section(m),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": clip("\n".join(lines))}]},
    ]
    return {
        "text": f"🚨 {who}: escalated ({severity}, L{level}): {alert_text(m)}",
        "blocks": blocks,
        "unfurl_links": False,
        "unfurl_media": False,
    }


def escalation_thread_line(
    *,
    level: int,
    severity: str,
    targets: list[str],
    by: str,
    note: str | None = None,
    dm_failed: dict[str, str] | None = None,
) -> str:
    who = _users(targets)
    if by and by != "mentionops":
        line = f"🚨 {user_ref(by)} escalated this to {who} (L{level}, {escape_mrkdwn(severity)})"
    elif level == 1:
        line = f"🚨 Unclaimed past its SLA: escalated to {who} (L1, {escape_mrkdwn(severity)})"
    else:
        line = f"🚨 Still unclaimed: escalated to {who} (L{level}, {escape_mrkdwn(severity)})"
    if note:
        line += f": “{escape_mrkdwn(truncate(note, 300))}”"
    if dm_failed:
        line += f" · DM failed for {_users(list(dm_failed))}, pinged in the channel instead"
    return line


def reminder_dm(m: dict, *, count: int, now: datetime, permalink: str | None) -> dict:
    """A follow-up: you claimed this a while ago and it is still open."""
    text = (
        f"⏰ Still open: you claimed this {ago(m['claimed_at'], now)} and it isn't resolved yet"
        + (f" (reminder {count})" if count > 1 else "")
        + ". Resolve it when it's answered, or unclaim it so someone else can pick it up."
    )
    if permalink and _safe_url(permalink):
        text += f"\n<{permalink}|Open the alert>"
    return {
        "text": f"⏰ Still open: {alert_text(m)}",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            _mention_section(m),
        ],
        "unfurl_links": False,
        "unfurl_media": False,
    }


def reminder_thread_line(owner: str, count: int) -> str:
    return (
        f"⏰ {user_ref(owner)}, this is still open"
        + (f" (reminder {count})" if count > 1 else "")
        + ": resolve it, or unclaim it so someone else can pick it up."
    )


def local_time(moment: datetime, tz: str) -> str:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(tz)).strftime("%a %-d %b %H:%M")


def oncall_message(status, tz: str, *, upcoming: list | None = None, note: str = "") -> dict:
    """The answer to `/mentions oncall`: who now (and why), until when, who next."""
    lines = []
    if note:
        lines.append(note)
    if status.user:
        now_line = f"*On call now:* {user_ref(status.user)}"
        if status.override:
            now_line += f" (override set by {user_ref(status.override.created_by)})"
    else:
        now_line = "*On call now:* nobody. Set `[oncall] rotation` in the config file."
    lines.append(now_line)
    if status.until and status.next_user:
        lines.append(
            f"*Next:* {user_ref(status.next_user)} from {local_time(status.until, tz)} ({tz})"
        )
    for o in upcoming or []:
        lines.append(
            f"• Override: {user_ref(o.user)} from {local_time(o.starts_at, tz)} "
            f"until {local_time(o.ends_at, tz)}"
        )
    text = "\n".join(lines)
    return {
        "response_type": "ephemeral",
        "text": clip(text),
        "blocks": [_section(text)],
    }


ESCALATION_REFUSALS = {
    "already_escalated": (
        "Already escalated to {to} (L{level}). Choose a higher level to go further."
    ),
    "resolved": "Already resolved by {resolver}: nothing to escalate.",
    "ignored": "This one was marked not urgent: nothing to escalate.",
    "new": REFUSALS["new"],
    "not_found": REFUSALS["not_found"],
    "no_level": "There is no escalation level {level}: choose 1 (on-call) or 2 (managers).",
    "no_severity": "Choose a severity: SEV1, SEV2 or SEV3.",
    "no_target": (
        "Nobody is on call and no managers are set, so nobody was alerted. Please tell your "
        "lead directly, and ask an admin to fill in `[oncall] rotation`."
    ),
}

# The Escalate form's inline errors (plain text: a `<@U…>` would show as typed), each under
# the input it is about: `severity`, else `level` ("Who to alert").
ESCALATION_FORM_ERRORS = {
    "already_escalated_1": (
        "Already escalated to on-call (L1) {when}. To go further, choose L2 · the managers."
    ),
    "already_escalated_2": (
        "Already escalated to the managers (L2) {when}, the highest level. Press Cancel: "
        "they have it."
    ),
    "resolved": "This one is resolved already, so there's nothing to escalate. Press Cancel.",
    "ignored": (
        "This one was marked not urgent, so it can't be escalated. If it is urgent after all, "
        "tell on-call directly."
    ),
    "new": "This alert is still being posted. Wait a moment, then press Escalate again.",
    "not_found": "I can't find this mention any more. Press Cancel.",
    "no_level": "Choose who to alert: L1 (on-call) or L2 (the managers).",
    "no_severity": "Choose a severity: SEV1, SEV2 or SEV3.",
    "no_target": (
        "Nobody is on call and no managers are set, so there's no one to alert. Please tell "
        "your lead directly, and ask an admin to fill in [oncall] rotation."
    ),
}


def escalation_form_errors(reason: str, m: dict | None, now: datetime) -> dict[str, str]:
    """`response_action: errors` for the Escalate form: {block id: what to do}."""
    key = reason
    if reason == "already_escalated":
        key = f"already_escalated_{min(max((m or {}).get('escalation_level') or 1, 1), 2)}"
    text = ESCALATION_FORM_ERRORS.get(
        key, "This alert changed meanwhile. Press Cancel, then look at the alert again."
    ).format(when=ago((m or {}).get("escalated_at"), now))
    return {"severity" if reason == "no_severity" else "level": text}


def escalation_refusal_text(reason: str, m: dict | None, level: int) -> str:
    to = [u for u in ((m or {}).get("escalated_to") or "").split(",") if u]
    return _refusal(
        ESCALATION_REFUSALS,
        reason,
        m,
        to=_users(to),
        level=(m or {}).get("escalation_level") or level,
    )


# --- summaries and the digest ----------------------------------------------------------------

_PERIOD_TITLES = {
    "today": "today",
    "24h": "the last 24 hours",
    "7d": "the last 7 days",
    "30d": "the last 30 days",
}


def span(seconds: float | None) -> str:
    """A wait, as people say it: '45 s', '8 min', '1 h 5 min', '3 d'; '–' for none."""
    if seconds is None:
        return "–"
    if seconds < 60:
        return f"{int(seconds)} s"
    return duration(timedelta(seconds=seconds))


def _day(moment: datetime) -> str:
    return f"{moment:%a} {moment.day} {moment:%b}"


def period_title(period) -> str:
    if period.name == "day":
        return _day(period.local(period.start)) + f" {period.local(period.start):%Y}"
    if period.name == "week":
        last = period.local(period.end) - timedelta(days=1)
        return f"the week {_day(period.local(period.start))} – {_day(last)}"
    return _PERIOD_TITLES.get(period.name, period.name)


def _range(period) -> str:
    start, end = period.local(period.start), period.local(period.end)
    if period.name in ("day", "week"):
        end = end - timedelta(seconds=1)
    return f"{_day(start)} {start:%H:%M} – {_day(end)} {end:%H:%M} ({escape_mrkdwn(period.tz)})"


def _count_change(now: int, before: int | None) -> str:
    if before is None:
        return ""
    if now == before:
        return " (=)"
    if before == 0:
        return " (▲ from 0)"
    pct = round((now - before) * 100 / before)
    return f" ({'▲' if now > before else '▼'} {abs(pct)}%)"


def _was(now: float | None, before: float | None, fmt) -> str:
    if before is None or now == before:
        return ""
    return f" (was {fmt(before)})"


def _pct(share: float | None) -> str:
    return "–" if share is None else f"{round(share * 100)}%"


def _capped(lines: list[str], limit: int) -> list[str]:
    if len(lines) > limit:
        return [*lines[:limit], f"…and {len(lines) - limit} more."]
    return lines


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text)}}


def summary_text(s) -> str:
    """The notification fallback: the headline figures."""
    return (
        f"Mentions summary for {period_title(s.period)}: {s.seen} seen, {s.urgent} urgent, "
        f"{s.claimed} claimed (median {span(s.claim_median)}), {s.resolved} resolved, "
        f"{_pct(s.sla_share)} claimed within SLA."
    )


def summary_blocks(
    s,
    *,
    viewer: str | None,
    manager: bool,
    oldest_link: str | None = None,
    share_value: str | None = None,
    shared_by: str | None = None,
    personal: bool = True,
) -> list[dict]:
    """A `bot.summary.Summary` as Block Kit. Managers see every agent's figures; anyone else
    sees the team's totals and, with `personal`, their own line."""
    p = s.previous
    blocks: list[dict] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": truncate(f"📊 Mentions: {period_title(s.period)}", 150),
                "emoji": True,
            },
        },
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": _range(s.period)
                    + (f" · changes against {_range(p.period)}" if p else ""),
                }
            ],
        },
    ]
    volume = [
        ("Seen", s.seen, p and p.seen),
        ("Urgent", s.urgent, p and p.urgent),
        ("Posted", s.posted, p and p.posted),
        ("Claimed", s.claimed, p and p.claimed),
        ("Resolved", s.resolved, p and p.resolved),
        ("Escalated", s.escalated, p and p.escalated),
        ("Ignored", s.ignored, p and p.ignored),
    ]
    blocks.append(
        _section(
            "*Volume*\n"
            + " · ".join(
                f"{label} *{now}*{_count_change(now, before if p else None)}"
                for label, now, before in volume
            )
        )
    )
    speed = (
        f"*Speed* (from the customer's post)\n"
        f"Time to claim: median *{span(s.claim_median)}*"
        f"{_was(s.claim_median, p and p.claim_median, span)}, p90 {span(s.claim_p90)}\n"
        f"Time to resolve: median *{span(s.resolve_median)}*"
        f"{_was(s.resolve_median, p and p.resolve_median, span)}, p90 {span(s.resolve_p90)}\n"
        f"Claimed within SLA ({s.sla_minutes} min): *{_pct(s.sla_share)}*"
        + (f" ({s.sla_met} of {s.sla_due})" if s.sla_due else "")
        + _was(s.sla_share, p and p.sla_share, _pct)
    )
    blocks.append(_section(speed))
    if s.by_source:
        lines = [
            f"• {source_label(b.name) if b.name in SOURCES else escape_mrkdwn(b.name)}: "
            f"{b.seen} seen, {b.urgent} urgent, {b.claimed} claimed"
            for b in s.by_source
        ]
        blocks.append(_section("*By source*\n" + "\n".join(_capped(lines, 15))))
    if s.by_category:
        lines = [
            f"• {escape_mrkdwn(b.name)}: {b.seen} seen, {b.urgent} urgent" for b in s.by_category
        ]
        blocks.append(_section("*By category*\n" + "\n".join(_capped(lines, 15))))

    def agent_line(a) -> str:
        return (
            f"{a.claims} claim{'' if a.claims == 1 else 's'} "
            f"(median {span(a.claim_median)} to claim), {a.resolves} resolved"
        )

    if manager:
        lines = [f"• {user_ref(a.user)}: {agent_line(a)}" for a in s.by_agent]
        blocks.append(
            _section("*By agent*\n" + ("\n".join(_capped(lines, 20)) or "Nobody claimed yet."))
        )
    elif personal and viewer:
        blocks.append(_section(f"*Your figures*\n{agent_line(s.agent(viewer))}"))
    if s.oldest_unclaimed:
        line = queue_lines(
            [s.oldest_unclaimed],
            s.generated_at,
            {s.oldest_unclaimed["id"]: oldest_link} if oldest_link else {},
        )[0]
        blocks.append(_section("*Oldest unclaimed, waiting now*\n" + line))
    else:
        blocks.append(_section("*Oldest unclaimed*\nNothing is waiting for a claim. 🎉"))
    if s.overdue_claims:
        blocks.append(
            _section(
                f"*Overdue claims*\n{s.overdue_claims} claimed but still unresolved after "
                f"{s.overdue_after_minutes} min; owners see theirs in `/mentions mine` "
                "and App Home."
            )
        )
    if s.top_terms:
        terms = " · ".join(f"`{escape_mrkdwn(word)}` {n}" for word, n in s.top_terms)
        blocks.append(_section("*What urgent mentions talk about*\n" + terms))
    if share_value:
        blocks.append(
            {
                "type": "actions",
                "block_id": "summary_actions",
                "elements": [_button("Share to channel", ids.SHARE_SUMMARY, share_value)],
            }
        )
    if shared_by:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"Shared by {user_ref(shared_by)}"}],
            }
        )
    return blocks[:MAX_BLOCKS]


def summary_message(
    s,
    *,
    viewer: str | None,
    manager: bool,
    oldest_link: str | None = None,
    share_value: str | None = None,
    shared_by: str | None = None,
    note: str | None = None,
) -> dict:
    """`/mentions summary` (ephemeral, with Share to channel) or its shared copy (in_channel,
    team figures only unless a manager shared it). `note` is trusted text."""
    blocks = summary_blocks(
        s,
        viewer=viewer,
        manager=manager,
        oldest_link=oldest_link,
        share_value=share_value,
        shared_by=shared_by,
        personal=shared_by is None,
    )
    if note:
        blocks.insert(2, {"type": "context", "elements": [{"type": "mrkdwn", "text": note}]})
    return {
        "response_type": "in_channel" if shared_by else "ephemeral",
        "text": summary_text(s),
        "blocks": blocks[:MAX_BLOCKS],
        "unfurl_links": False,
        "unfurl_media": False,
    }


def digest_message(s, *, kind: str, period_key: str, oldest_link: str | None = None) -> dict:
    """The daily or weekly digest for chat.postMessage: the manager view of the summary, with
    metadata that lets a restart find it instead of posting it twice."""
    blocks = summary_blocks(s, viewer=None, manager=True, oldest_link=oldest_link)
    label = "Weekly digest" if kind == "weekly" else "Daily digest"
    blocks[0]["text"]["text"] = truncate(f"📬 {label}: {period_title(s.period)}", 150)
    return {
        "text": f"{label}. " + summary_text(s),
        "blocks": blocks,
        "metadata": {
            "event_type": ids.DIGEST_EVENT_TYPE,
            "event_payload": {"kind": kind, "period": period_key},
        },
        "unfurl_links": False,
        "unfurl_media": False,
    }


_JOB_LABELS = {"outbox": "retry unsent alerts", "digest": "digest check"}


def scheduler_lines(jobs: dict[str, str | None], now: datetime, digest=None) -> list[str]:
    """The scheduler's next runs (`/mentions status`), and when the next digest is due."""
    lines = []
    for job_id, next_run in sorted(jobs.items()):
        if job_id.startswith("poll:"):
            label = f"poll {job_id[5:]}"
        else:
            label = _JOB_LABELS.get(job_id, job_id)
        when = (
            f"in {span(max(0.0, (parse_time(next_run) - now).total_seconds()))}"
            if next_run
            else "paused"
        )
        lines.append(f"• ⏱️ {escape_mrkdwn(label)}: next run {when}")
    if digest is not None:
        if digest.enabled and digest.channel:
            weekly = f", weekly on {digest.weekly_day.title()}" if digest.weekly_day else ""
            lines.append(
                f"• 📬 Digest daily at {digest.time} ({escape_mrkdwn(digest.timezone)}) "
                f"to <#{digest.channel}>{weekly}"
            )
        else:
            lines.append("• 📬 Digest: off (add a [digest] table to the config file)")
    return lines


# --- storm mode ------------------------------------------------------------------------------


def _times(ratio: float) -> str:
    return f"{ratio:.0f}×" if ratio >= 10 else f"{ratio:.1f}".removesuffix(".0") + "×"


def storm_message(
    storm: dict,
    *,
    now: datetime,
    tz,
    terms: list[str] | tuple[str, ...] = (),
    threaded: int = 0,
    window_minutes: int = 10,
) -> dict:
    """The one channel message of a storm: urgent alerts are threaded under it while it lasts.
    Open: the rate against normal, the top terms and since when; closed: how many and when.
    `terms` come from customers' posts and are escaped here."""
    started = parse_time(storm["started_at"]).astimezone(tz).strftime("%H:%M")
    if storm.get("ended_at"):
        ended = parse_time(storm["ended_at"]).astimezone(tz).strftime("%H:%M")
        noun = "mention" if threaded == 1 else "mentions"
        where = "it is in this thread" if threaded == 1 else "all are in this thread"
        text = (
            f"✅ *Storm over:* {threaded} urgent {noun} from {started} to {ended}; {where}. "
            "New alerts go to the channel again."
        )
    else:
        count = storm["window_count"]
        baseline = storm["baseline"] or 0.0
        normal = f"{_times(count / baseline)} normal" if baseline > 0 else "normally none"
        text = f"🌩️ *Storm: {count} urgent mentions in {window_minutes} min, {normal}*"
        if storm.get("peak", 0) > count:
            text += f" (peak {storm['peak']})"
        if terms:
            text += "; top terms: " + ", ".join(escape_mrkdwn(t) for t in terms)
        text += (
            f"\nSince {started}: {threaded} "
            f"{'alert' if threaded == 1 else 'alerts'} so far, each in this thread instead "
            "of the channel. Claim them there as usual."
        )
    fallback = text.replace("*", "")
    return {
        "text": fallback[:3000],
        "blocks": [
            {
                "type": "section",
                "block_id": "storm",
                "text": {"type": "mrkdwn", "text": clip(text)},
            }
        ],
        "metadata": {
            "event_type": ids.STORM_EVENT_TYPE,
            "event_payload": {"storm_id": storm["id"]},
        },
        "unfurl_links": False,
        "unfurl_media": False,
    }
