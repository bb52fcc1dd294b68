"""bot/replies.py: first drafts in the brand's voice, platform limits, composer links."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from bot.replies import Voice, composer_url, first_draft, limit_for, too_long


def row(**changes) -> dict:
    base = {
        "id": 7,
        "source": "x",
        "external_id": "1861000000000000001",
        "author": "dana",
        "author_name": "Dana Whitfield",
        "url": "https://x.com/dana/status/1861000000000000001",
        "category": "billing",
    }
    return {**base, **changes}


def test_default_drafts_greet_apologise_give_a_next_step_and_sign():
    assert first_draft(row(), agent="Alice", brand="Acme", voice=Voice()) == (
        "Hi @dana, I'm sorry about the charge, that shouldn't happen. Please DM us your order "
        "number and the email on the account and we'll sort out the refund today. – Alice"
    )
    assert first_draft(
        row(source="reddit", category="delivery"), agent="Bo", brand="Acme", voice=Voice()
    ) == (
        "Hi u/dana, sorry your order hasn't turned up. Please DM us your order number and "
        "we'll track it down and put it right. – Bo"
    )
    assert first_draft(row(author="", category="nonsense"), agent="", brand="A", voice=Voice()) == (
        "Hi there, thanks for flagging this. Please DM us the details and we'll look into it "
        "right away. – the team"
    )


def test_the_brands_voice_from_config():
    voice = Voice(
        greeting="Hey {name}!",
        signoff="{agent} @ {brand}",
        templates=(("billing", "We'll fix that charge today, {handle}."),),
    )
    assert first_draft(row(), agent="Alice", brand="Acme", voice=voice) == (
        "Hey Dana Whitfield! We'll fix that charge today, @dana. Alice @ Acme"
    )


@pytest.mark.parametrize(
    ("source", "limit"),
    [("x", 280), ("bluesky", 300), ("mastodon", 500), ("reddit", 10_000), ("other", 10_000)],
)
def test_limits(source, limit):
    assert limit_for(source) == limit
    assert too_long("a" * limit, source) is None
    assert too_long("a" * (limit + 3), source).endswith(f"has {limit + 3:,}. Trim 3 more.")


def test_composer_links_fill_in_the_draft():
    text = "Hi @dana, DM us & we'll fix it #sorry"
    x = urlsplit(composer_url(row(), text))
    assert (x.netloc, x.path) == ("x.com", "/intent/post")
    assert parse_qs(x.query) == {"in_reply_to": ["1861000000000000001"], "text": [text]}
    bsky = urlsplit(composer_url(row(source="bluesky"), text))
    assert (bsky.netloc, parse_qs(bsky.query)) == ("bsky.app", {"text": [text]})
    masto = composer_url(
        row(source="mastodon", url="https://fosstodon.org/@dana/113550000000000001"), text
    )
    assert urlsplit(masto).netloc == "fosstodon.org"
    assert parse_qs(urlsplit(masto).query) == {"text": [text]}
    assert composer_url(row(source="hackernews", external_id="42"), text) == (
        "https://news.ycombinator.com/reply?id=42"
    )
    reddit = "https://www.reddit.com/r/gadgets/comments/1gz/"
    assert composer_url(row(source="reddit", url=reddit), text) == reddit
    assert composer_url(row(source="rss", url=""), text) is None
