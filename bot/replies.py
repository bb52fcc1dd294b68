"""Reply drafts: a first draft per category in the brand's voice, each platform's length
limit, and a link that opens the platform's own composer with the draft filled in.

mentionops never posts to a platform itself: the agent reviews the draft and sends it from
their own account or the brand's, where the customer will see a person answering.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

# Characters a reply may have on each platform.
LIMITS = {
    "x": 280,
    "bluesky": 300,
    "mastodon": 500,
    "reddit": 10_000,
    "hackernews": 10_000,
    "rss": 10_000,
    "replay": 10_000,
}
DEFAULT_LIMIT = 10_000
PLATFORM_NAMES = {
    "x": "X",
    "bluesky": "Bluesky",
    "mastodon": "Mastodon",
    "reddit": "Reddit",
    "hackernews": "Hacker News",
    "rss": "the site",
    "replay": "the platform",
}

DEFAULT_GREETING = "Hi {handle},"
DEFAULT_SIGNOFF = "– {agent}"
DEFAULT_TEMPLATES = {
    "billing": (
        "I'm sorry about the charge, that shouldn't happen. Please DM us your order number and "
        "the email on the account and we'll sort out the refund today."
    ),
    "delivery": (
        "Sorry your order hasn't turned up. Please DM us your order number and we'll track it "
        "down and put it right."
    ),
    "outage": (
        "Sorry, we know things aren't working right now. The team is on it and we'll post "
        "updates here as soon as we have them."
    ),
    "product": (
        "Sorry to hear it stopped working. Please DM us your order number and the model and "
        "we'll get a fix or a replacement moving."
    ),
    "account": (
        "That sounds stressful; let's get you back in safely. Please DM us the email on the "
        "account (never your password) and we'll help right away."
    ),
    "safety": (
        "Please stop using it and keep it unplugged: your safety comes first. DM us your phone "
        "number and order number and we'll call you today."
    ),
    "legal": (
        "We're sorry it has come to this. Please DM us your order or case number so a senior "
        "member of the team can look into it personally."
    ),
    "churn": (
        "Sorry we let you down. If you DM us what went wrong, we'd like the chance to put it right."
    ),
    "other": (
        "Thanks for flagging this. Please DM us the details and we'll look into it right away."
    ),
}
CATEGORIES = tuple(DEFAULT_TEMPLATES)
PLACEHOLDERS = {"handle", "name", "agent", "brand"}


@dataclass(frozen=True)
class Voice:
    """The brand's voice from `[replies]`: greeting, sign-off and templates per category."""

    greeting: str = DEFAULT_GREETING
    signoff: str = DEFAULT_SIGNOFF
    templates: tuple[tuple[str, str], ...] = ()

    def template(self, category: str) -> str:
        own = dict(self.templates)
        return own.get(category) or DEFAULT_TEMPLATES.get(category) or DEFAULT_TEMPLATES["other"]


def placeholders(template: str) -> set[str]:
    """The {names} a template uses (for config validation)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def limit_for(source: str) -> int:
    return LIMITS.get(source, DEFAULT_LIMIT)


def handle_for(mention: dict) -> str:
    """How to address the customer on their platform."""
    handle = (mention.get("author") or "").lstrip("@")
    if not handle:
        return "there"
    if mention["source"] == "reddit":
        return f"u/{handle}"
    if mention["source"] in ("x", "bluesky", "mastodon"):
        return f"@{handle}"
    return handle


def first_draft(mention: dict, *, agent: str, brand: str, voice: Voice) -> str:
    """Greeting with the handle, empathy and a next step for the category, signed."""
    values = {
        "handle": handle_for(mention),
        "name": (mention.get("author_name") or mention.get("author") or "there"),
        "agent": agent or "the team",
        "brand": brand,
    }
    greeting = voice.greeting.format(**values).strip()
    body = voice.template(mention.get("category") or "other").format(**values).strip()
    if greeting.endswith(",") and re.match(r"[A-Z][a-z]", body):
        body = body[0].lower() + body[1:]  # "Hi @dana, sorry…", but "Hi @dana, I'm…"
    parts = [greeting, body, voice.signoff.format(**values)]
    return " ".join(p.strip() for p in parts if p.strip())


def too_long(text: str, source: str) -> str | None:
    """The inline error for a draft over the platform's limit, or None when it fits."""
    limit = limit_for(source)
    if len(text) <= limit:
        return None
    over = len(text) - limit
    return (
        f"{PLATFORM_NAMES.get(source, 'This platform')} allows {limit:,} characters; this draft "
        f"has {len(text):,}. Trim {over:,} more."
    )


def composer_url(mention: dict, text: str) -> str | None:
    """A link that opens the platform's own reply composer with `text` filled in."""
    source = mention["source"]
    url = mention.get("url") or ""
    if source == "x":
        return (
            "https://x.com/intent/post?in_reply_to="
            f"{quote(mention['external_id'])}&text={quote(text)}"
        )
    if source == "bluesky":
        return f"https://bsky.app/intent/compose?text={quote(text)}"
    if source == "mastodon":
        host = urlsplit(url).hostname
        return f"https://{host}/share?text={quote(text)}" if host else None
    if source == "hackernews":
        return f"https://news.ycombinator.com/reply?id={quote(mention['external_id'])}"
    return url or None  # Reddit, RSS and the rest: reply on the post's own page
