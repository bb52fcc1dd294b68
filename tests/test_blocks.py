"""bot/blocks.py: the alert card and the other Block Kit payloads, built from database rows."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block

from bot import ids
from bot.blocks import (
    MAX_BLOCKS,
    alert_message,
    duration,
    followers_label,
    help_message,
    notice_message,
    queue_lines,
    refusal_text,
    render_text,
    thread_line,
    user_ref,
)

NOW = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
URL = "https://bsky.app/profile/jo.bsky.social/post/3kxabc"
PING_WORD = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)


def at(minutes_ago: float) -> str:
    return (NOW - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_row(**changes) -> dict:
    """A mention row as storage returns it."""
    row = {
        "id": 42,
        "source": "bluesky",
        "external_id": "3kxabc",
        "url": URL,
        "author": "jo.bsky.social",
        "author_name": "Jo <Customer>",
        "followers": 1234,
        "title": "",
        "text": (
            "My Acme laptop died after the update & support won't answer.\n\n"
            "Third day now <!channel>"
        ),
        "lang": "en",
        "created_at": at(12),
        "fetched_at": at(11),
        "urgency": 82,
        "urgent": True,
        "category": "outage",
        "sentiment": -0.7,
        "reasons": ["device broken", "no reply in 3 days"],
        "status": "posted",
        "status_at": at(11),
        "claimed_by": None,
        "claimed_at": None,
        "resolved_by": None,
        "resolved_at": None,
        "outcome": None,
        "escalation_level": 0,
        "escalated_at": None,
        "escalated_to": None,
        "channel": "C0ALERTS",
        "ts": "1764149940.000100",
        "version": 1,
        "metrics": {"likes": 3, "reposts": 1},
    }
    row.update(changes)
    return row


def validate(message: dict) -> None:
    """What the fake Slack does with every payload: Slack's own models, and the block limit."""
    assert 1 <= len(message["blocks"]) <= MAX_BLOCKS
    for block in message["blocks"]:
        Block.parse(block).validate_json()


def buttons(message: dict) -> list[tuple]:
    actions = [b for b in message["blocks"] if b["type"] == "actions"]
    return [
        (
            (e.get("text") or e.get("placeholder") or {}).get("text", e["type"]),
            e["action_id"],
            e.get("value"),
            e.get("url"),
            e.get("style"),
        )
        for block in actions
        for e in block["elements"]
    ]


def texts(value) -> list[str]:
    """Every `text` string anywhere in a Block Kit structure."""
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            if key == "text" and isinstance(item, str):
                found.append(item)
            else:
                found.extend(texts(item))
        return found
    if isinstance(value, list):
        return [t for item in value for t in texts(item)]
    return []


def state(message: dict) -> str:
    [block] = [b for b in message["blocks"] if b.get("block_id") == "alert_state"]
    return block["elements"][0]["text"]


def body(message: dict) -> str:
    [block] = [b for b in message["blocks"] if b.get("block_id") == "alert_body"]
    return block["text"]["text"]


# --- the alert card --------------------------------------------------------------------------


def test_alert_message_whole():
    message = alert_message(make_row(), NOW, sla_minutes=20)
    validate(message)
    button = {"type": "button", "value": "42"}
    assert message == {
        "text": (
            "Urgent 82/100 from @jo.bsky.social on Bluesky: My Acme laptop died after the update "
            "&amp; support won't answer. Third day now &lt;!channel&gt;"
        ),
        "blocks": [
            {
                "type": "section",
                "block_id": "alert_head",
                "text": {
                    "type": "mrkdwn",
                    "text": "*🔴 Urgent · 82/100* · 🦋 Bluesky · posted 12 min ago",
                },
            },
            {
                "type": "section",
                "block_id": "alert_body",
                "text": {
                    "type": "mrkdwn",
                    "text": (
                        "*Jo &lt;Customer&gt;* (@jo.bsky.social) · 1.2k followers\n"
                        ">My Acme laptop died after the update &amp; support won't answer.\n"
                        ">\n"
                        ">Third day now &lt;!channel&gt;"
                    ),
                },
            },
            {
                "type": "context",
                "block_id": "alert_why",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": "*Why:* device broken · no reply in 3 days · *Category:* outage",
                    }
                ],
            },
            {
                "type": "context",
                "block_id": "alert_state",
                "elements": [
                    {"type": "mrkdwn", "text": "⏳ Unclaimed for 12 min · SLA 8 min left"}
                ],
            },
            {
                "type": "actions",
                "block_id": "alert_actions_42",
                "elements": [
                    {
                        **button,
                        "text": {"type": "plain_text", "text": "Claim", "emoji": True},
                        "action_id": ids.CLAIM,
                        "style": "primary",
                    },
                    {
                        **button,
                        "text": {"type": "plain_text", "text": "Draft reply", "emoji": True},
                        "action_id": ids.DRAFT,
                    },
                    {
                        **button,
                        "text": {"type": "plain_text", "text": "Escalate", "emoji": True},
                        "action_id": ids.ESCALATE,
                        "style": "danger",
                    },
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open post ↗", "emoji": True},
                        "action_id": ids.OPEN_POST,
                        "url": URL,
                    },
                    {
                        "type": "overflow",
                        "action_id": ids.MORE,
                        "options": [
                            {
                                "text": {"type": "plain_text", "text": label, "emoji": True},
                                "value": value,
                            }
                            for label, value in [
                                ("Not urgent: not a complaint", "ignore:42:not_a_complaint"),
                                ("Not urgent: spam or a bot", "ignore:42:spam"),
                                (
                                    "Not urgent: already handled elsewhere",
                                    "ignore:42:handled_elsewhere",
                                ),
                            ]
                        ],
                    },
                ],
            },
        ],
        "metadata": {"event_type": "mentionops_alert", "event_payload": {"mention_id": 42}},
        "unfurl_links": False,
        "unfurl_media": False,
    }


OPEN = ("Open post ↗", ids.OPEN_POST, None, URL, None)
MORE = ("overflow", ids.MORE, None, None, None)
PICK = ("Reassign to…", ids.REASSIGN, None, None, None)


@pytest.mark.parametrize(
    "changes, expected_buttons, expected_state",
    [
        (
            {},
            [
                ("Claim", ids.CLAIM, "42", None, "primary"),
                ("Draft reply", ids.DRAFT, "42", None, None),
                ("Escalate", ids.ESCALATE, "42", None, "danger"),
                OPEN,
                MORE,
            ],
            "⏳ Unclaimed for 12 min · SLA 8 min left",
        ),
        (
            {"created_at": at(35)},
            [
                ("Claim", ids.CLAIM, "42", None, "primary"),
                ("Draft reply", ids.DRAFT, "42", None, None),
                ("Escalate", ids.ESCALATE, "42", None, "danger"),
                OPEN,
                MORE,
            ],
            "⏳ Unclaimed for 35 min · ⚠️ SLA passed 15 min ago",
        ),
        (
            {"status": "claimed", "claimed_by": "U0ALICE", "claimed_at": at(3)},
            [
                ("Resolve", ids.RESOLVE, "42", None, "primary"),
                ("Unclaim", ids.UNCLAIM, "42", None, None),
                ("Draft reply", ids.DRAFT, "42", None, None),
                ("Escalate", ids.ESCALATE, "42", None, "danger"),
                OPEN,
                PICK,
                MORE,
            ],
            "🙋 Claimed by <@U0ALICE> 3 min ago",
        ),
        (
            {
                "status": "resolved",
                "claimed_by": "U0ALICE",
                "claimed_at": at(9),
                "resolved_by": "U0ALICE",
                "resolved_at": at(-6),
            },
            [OPEN],
            "✅ Resolved by <@U0ALICE> in 18 min",
        ),
        (
            {
                "status": "resolved",
                "resolved_by": "U0MANAGER",
                "resolved_at": at(-108),
                "outcome": "refund <sent> & thanked",
            },
            [OPEN],
            "✅ Resolved by <@U0MANAGER> in 2 h · refund &lt;sent&gt; &amp; thanked",
        ),
        (
            {"status": "ignored", "ignored_by": "U0BOB", "ignored_reason": "spam"},
            [],
            "💤 Not urgent: spam or a bot · marked by <@U0BOB> · 🦋 Bluesky · @jo.bsky.social: "
            "My Acme laptop died after the update &amp; support won't answer. Third day now…",
        ),
        (
            {"escalation_level": 1, "escalated_to": "U0ONCALL"},
            [
                ("Claim", ids.CLAIM, "42", None, "primary"),
                ("Draft reply", ids.DRAFT, "42", None, None),
                ("Escalate", ids.ESCALATE, "42", None, "danger"),
                OPEN,
                MORE,
            ],
            "⏳ Unclaimed for 12 min · SLA 8 min left · 🚨 Escalated to <@U0ONCALL> (L1)",
        ),
    ],
)
def test_buttons_and_state_per_status(changes, expected_buttons, expected_state):
    message = alert_message(make_row(**changes), NOW, sla_minutes=20)
    validate(message)
    assert (buttons(message), state(message)) == (expected_buttons, expected_state)


def test_resolved_without_url_has_no_actions_block():
    message = alert_message(
        make_row(status="resolved", url="", resolved_by="U0ALICE", resolved_at=at(0)),
        NOW,
        sla_minutes=20,
    )
    validate(message)
    assert [b["block_id"] for b in message["blocks"]] == [
        "alert_head",
        "alert_body",
        "alert_why",
        "alert_state",
    ]


def test_button_values_carry_the_id_only():
    message = alert_message(
        make_row(id=987654, status="claimed", claimed_by="U0A"), NOW, sla_minutes=20
    )
    values = [
        e.get("value") for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert values == ["987654", "987654", "987654", "987654", None, None, None]
    [menu] = [
        e
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "overflow"
    ]
    assert [o["value"] for o in menu["options"]] == [
        "resolve:987654:replied_publicly",
        "resolve:987654:moved_to_dm",
        "resolve:987654:no_action",
        "ignore:987654:not_a_complaint",
        "ignore:987654:spam",
    ]
    assert message["metadata"] == {
        "event_type": ids.ALERT_EVENT_TYPE,
        "event_payload": {"mention_id": 987654},
    }


def test_author_variants():
    def head(**changes) -> str:
        return body(alert_message(make_row(text="x", **changes), NOW, sla_minutes=20)).split("\n")[
            0
        ]

    assert [
        head(author_name="jo.bsky.social"),
        head(author_name="", followers=1),
        head(author="", author_name="Jo", followers=None),
        head(author="", author_name="", followers=2_500_000),
        head(author="here", author_name="", followers=0),
        head(author="channel.bsky.social", author_name="@everyone"),
    ] == [
        "*@jo.bsky.social* · 1.2k followers",
        "*@jo.bsky.social* · 1 follower",
        "*Jo*",
        "*someone* · 2.5M followers",
        "*@\u2060here* · 0 followers",
        "*@\u2060everyone* (@\u2060channel.bsky.social) · 1.2k followers",
    ]


def test_title_and_reasons():
    message = alert_message(
        make_row(title="Acme <3 > all " + "x" * 300, reasons=[], category=None, text="hi"),
        NOW,
        sla_minutes=20,
    )
    validate(message)
    title_line = body(message).split("\n")[1]
    assert title_line == "*Acme &lt;3 &gt; all " + "x" * 185 + "…*"
    assert message["blocks"][2]["elements"][0]["text"] == "*Why:* scored urgent · *Category:* other"


def test_long_text_fits_and_links_to_the_post():
    words = ("The Acme router drops every connection " * 1100)[:40_000]
    message = alert_message(make_row(text=words), NOW, sla_minutes=20)
    validate(message)
    text = body(message)
    assert len(text) <= 3000
    assert text.endswith(f"…\n<{URL}|Read the whole post>")
    assert len(message["text"]) < 250


@pytest.mark.parametrize(
    "text",
    [
        "<" * 40_000,  # every character escapes to four
        "&" * 40_000,
        "a\n" * 20_000,  # every line gets a `>`
        "@here " * 6_700,
    ],
)
def test_long_text_that_grows_when_escaped(text):
    message = alert_message(make_row(text=text), NOW, sla_minutes=20)
    validate(message)
    quoted = body(message)
    assert len(quoted) <= 3000
    assert quoted.endswith(f"…\n<{URL}|Read the whole post>")
    # Never cut mid-entity: every `&` starts a whole entity.
    assert re.findall(r"&(?!amp;|lt;|gt;)", quoted) == []


def test_long_text_without_url_has_no_link():
    message = alert_message(make_row(text="word " * 8000, url=""), NOW, sla_minutes=20)
    validate(message)
    assert len(body(message)) <= 3000
    assert "Read the whole post" not in body(message)
    assert [b[0] for b in buttons(message)][-2:] == ["Escalate", "overflow"]


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
        "data:text/html,<b>x</b>",
        "https://example.com/a b",
        "https://example.com/a\tb",
        "https://example.com/a\nb",
        "https://example.com/a><!channel>",
        "https://example.com/a|forged label",
        "https://example.com/a|<!here>",
        "ftp://example.com/file",
        "//example.com/x",
        "https://example.com/" + "x" * 3000,
        "",
        None,
    ],
)
def test_unsafe_url_never_used(url):
    message = alert_message(make_row(url=url, text="word " * 8000), NOW, sla_minutes=20)
    validate(message)
    assert [b for b in buttons(message) if b[0].startswith("Open post")] == []
    assert "Read the whole post" not in body(message)
    dumped = json.dumps(message, ensure_ascii=False)
    assert "<!" not in dumped
    assert "javascript" not in dumped.lower()


def test_block_limits_with_huge_fields():
    message = alert_message(
        make_row(
            text="<!channel> " * 4000,
            author="a" * 5000,
            author_name="<@U123> " * 1000,
            title="<#C1|x> " * 1000,
            reasons=["<http://evil|click>"] * 500,
            category="<!here>",
        ),
        NOW,
        sla_minutes=20,
    )
    validate(message)
    assert all(len(t) <= 3000 for t in texts(message["blocks"]))
    assert "<" not in "".join(texts(message["blocks"])).replace(f"<{URL}|Read the whole post>", "")


# --- untrusted text never pings or links (required by the project's issue) --------------------

FRAGMENTS = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U123>",
    "<@W0ALICE|alice>",
    "<#C1|x>",
    "<!subteam^S123>",
    "<http://evil|click>",
    "<https://evil.example/>",
    "<mailto:x@y.z|mail>",
    "@here",
    "@channel",
    "@Everyone",
    "here",
    "&lt;",
    "&gt;",
    "&amp;",
    "&",
    "<",
    ">",
    "|",
    "!",
    "@",
    "*",
    "_",
    "`",
    "~",
    "\n",
    " ",
    "http://x.y",
]
untrusted = st.one_of(
    st.sampled_from(FRAGMENTS),
    st.text(),
    st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=4), max_size=40).map("".join),
)

# Handles and names that would read as a ping once the card puts an `@` in front.
handles = st.sampled_from(["here", "channel", "Everyone", "here.bsky.social"]) | untrusted


def assert_no_forgery(message: dict) -> None:
    validate(message)
    dumped = json.dumps(message["blocks"], ensure_ascii=False)
    for forged in ("<!", "<@", "<#", "<http"):
        assert forged not in dumped
        assert forged not in message["text"]
    # No link or ping syntax at all: a posted card without a url has no `<` of its own.
    assert "<" not in dumped
    assert "<" not in message["text"]
    for text in [*texts(message["blocks"]), message["text"]]:
        assert ">" not in text.replace("\n>", "\n").removeprefix(">")
        assert PING_WORD.search(text) is None


@settings(max_examples=150, deadline=None)
@given(
    text=untrusted,
    author=handles,
    author_name=handles,
    title=untrusted,
    reasons=st.lists(untrusted, max_size=4),
    category=untrusted,
    outcome=untrusted,
)
def test_untrusted_fields_never_forge_pings_or_links(
    text, author, author_name, title, reasons, category, outcome
):
    row = make_row(
        text=text,
        author=author,
        author_name=author_name,
        title=title,
        reasons=reasons,
        category=category,
        outcome=outcome,
        url="",
    )
    assert_no_forgery(alert_message(row, NOW, sla_minutes=20))


@settings(max_examples=60, deadline=None)
@given(text=untrusted, author=handles, author_name=handles, filler=st.integers(0, 3000))
def test_untrusted_fields_claimed_card_with_url(text, author, author_name, filler):
    """With a url and a claimed_by, the only `<...>` are the owner and the link we put there."""
    row = make_row(
        text=text + "x" * filler,
        author=author,
        author_name=author_name,
        status="claimed",
        claimed_by="U0ALICE",
        claimed_at=at(3),
    )
    message = alert_message(row, NOW, sla_minutes=20)
    validate(message)
    dumped = json.dumps(message["blocks"], ensure_ascii=False)
    link = f"<{URL}|Read the whole post>"
    assert dumped.count("<@U0ALICE>") == 1
    assert state(message) == "🙋 Claimed by <@U0ALICE> 3 min ago"
    # The link is there exactly when the quote had to be cut, and only at the end of the body.
    assert dumped.count(link) == (1 if body(message).endswith("…\n" + link) else 0)
    if len(row["text"]) > 2400:
        assert body(message).endswith("…\n" + link)
    rest = dumped.replace("<@U0ALICE>", "").replace(link, "")
    assert "<" not in rest
    assert "<" not in message["text"]


def test_claimed_by_that_is_not_a_user_id_is_escaped():
    message = alert_message(
        make_row(status="claimed", claimed_by="<!channel>", claimed_at=at(1)), NOW, sla_minutes=20
    )
    assert state(message) == "🙋 Claimed by &lt;!channel&gt; 1 min ago"
    assert [user_ref("U0ALICE"), user_ref("W0BOB"), user_ref("@here"), user_ref(None)] == [
        "<@U0ALICE>",
        "<@W0BOB>",
        "@\u2060here",
        "someone",
    ]


# --- terminal, refusals, helpers -------------------------------------------------------------


def test_render_text():
    message = alert_message(make_row(), NOW, sla_minutes=20)
    bar = "─" * 78
    assert render_text(message) == "\n".join(
        [
            f"┌{bar}",
            "│ 🔴 Urgent · 82/100 · 🦋 Bluesky · posted 12 min ago",
            "│ Jo <Customer> (@jo.bsky.social) · 1.2k followers",
            "│ ▌ My Acme laptop died after the update & support won't answer.",
            "│ ▌",
            "│ ▌ Third day now <!channel>",
            "│ Why: device broken · no reply in 3 days · Category: outage",
            "│ ⏳ Unclaimed for 12 min · SLA 8 min left",
            "│ [ Claim ] [ Draft reply ] [ Escalate ] [ Open post ↗ ] [ ⋯ ]",
            f"└{bar}",
        ]
    )


def test_render_text_links_and_users():
    message = alert_message(
        make_row(
            status="claimed",
            claimed_by="U0ALICE",
            claimed_at=at(3),
            author="here",
            text="long " * 1000,
        ),
        NOW,
        sla_minutes=20,
    )
    rendered = render_text(message)
    assert f"Read the whole post ({URL})" in rendered
    assert "🙋 Claimed by @U0ALICE 3 min ago" in rendered
    assert "(@here)" in rendered
    assert "[ Resolve ] [ Unclaim ] [ Draft reply ] [ Escalate ] [ Open post ↗ ]" in rendered
    assert all(len(line) <= 80 for line in rendered.split("\n"))


@pytest.mark.parametrize(
    "reason, changes, expected",
    [
        (
            "already_claimed",
            {"status": "claimed", "claimed_by": "U0ALICE", "claimed_at": at(3)},
            "Already claimed by <@U0ALICE> (3 min ago). Nothing to do here.",
        ),
        (
            "already_claimed",
            {"status": "claimed", "claimed_by": "U0ALICE", "claimed_at": at(0.5)},
            "Already claimed by <@U0ALICE> (just now). Nothing to do here.",
        ),
        (
            "not_owner",
            {"status": "claimed", "claimed_by": "U0BOB", "claimed_at": at(3)},
            "Only <@U0BOB>, who claimed it, or a manager can do that.",
        ),
        ("not_claimed", {}, "Nobody has claimed this yet: claim it first, then resolve it."),
        (
            "resolved",
            {"status": "resolved", "resolved_by": "U0ALICE", "resolved_at": at(1)},
            "Already resolved by <@U0ALICE>. Nothing left to do.",
        ),
        ("ignored", {}, "This one was marked not urgent."),
        ("posted", {}, "This one is not claimed right now."),
        ("new", {}, "This alert is still being posted; try again in a moment."),
        ("surprise", {}, "That didn't work: the alert changed meanwhile."),
    ],
)
def test_refusal_text(reason, changes, expected):
    assert refusal_text(reason, make_row(**changes), NOW) == expected


def test_refusal_text_without_row():
    assert refusal_text("not_found", None, NOW) == (
        "I can't find that mention any more. It may have been removed."
    )


@pytest.mark.parametrize(
    "minutes, expected",
    [
        (0, "0 min"),
        (59, "59 min"),
        (60, "1 h"),
        (95, "1 h 35 min"),
        (600, "10 h"),
        (601, "10 h"),
        (47 * 60 + 59, "47 h"),
        (48 * 60, "2 d"),
        (-5, "0 min"),
    ],
)
def test_duration(minutes, expected):
    assert duration(timedelta(minutes=minutes)) == expected


def test_followers_label():
    assert [followers_label(n) for n in (None, 0, 1, 999, 1000, 1234, 1_000_000, 1_250_000)] == [
        "",
        "0 followers",
        "1 follower",
        "999 followers",
        "1k followers",
        "1.2k followers",
        "1M followers",
        "1.2M followers",
    ]


def test_thread_line():
    assert [
        thread_line("claim", "U0ALICE"),
        thread_line("unclaim", "U0ALICE"),
        thread_line("resolve", "U0ALICE", outcome="<!here> refunded"),
    ] == [
        "🙋 <@U0ALICE> claimed this",
        "↩️ <@U0ALICE> unclaimed this; it is open again",
        "✅ <@U0ALICE> resolved this (&lt;!here&gt; refunded)",
    ]


def test_notice_and_help_messages():
    notice = notice_message("Hacker News is failing")
    validate(notice)
    assert notice == {
        "text": "Hacker News is failing",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "Hacker News is failing"}}
        ],
        "metadata": {"event_type": ids.NOTICE_EVENT_TYPE, "event_payload": {"kind": "notice"}},
        "unfurl_links": False,
        "unfurl_media": False,
    }
    assert help_message("<!channel>")["text"].startswith("I don't know `&lt;!channel&gt;`. ")


def test_queue_lines_escape_untrusted():
    rows = [
        make_row(
            id=i,
            author="@here" if i == 1 else f"user{i}",
            text="<!channel> down",
            created_at=at(30),
        )
        for i in range(1, 4)
    ]
    lines = queue_lines(rows, NOW, {1: "https://acme.slack.com/archives/C0ALERTS/p1"}, limit=2)
    assert lines == [
        "• *82* · waiting 30 min · <https://acme.slack.com/archives/C0ALERTS/p1|🦋 Bluesky · "
        "@@\u2060here>: &lt;!channel&gt; down",
        "• *82* · waiting 30 min · 🦋 Bluesky · @user2: &lt;!channel&gt; down",
        "…and 1 more.",
    ]


# --- Block Kit limits under extreme inputs (review) -------------------------------------------

BROKEN = re.compile(r"&(?!amp;|lt;|gt;)|<[^>]*$|<[^>]*<")  # half an entity, an unclosed link


def whole_mrkdwn(text: str) -> bool:
    return len(text) <= 3000 and BROKEN.search(text) is None


@pytest.mark.parametrize("builder", ["draft", "escalate"])
def test_modals_open_for_posts_that_grow_when_escaped(builder):
    from slack_sdk.models.views import View

    from bot.blocks import draft_modal, escalate_modal

    row = make_row(text="& <" * 2000, author="<" * 5000)
    if builder == "draft":
        view = draft_modal(row, "Hi", limit=300, platform="Bluesky", version=0)
    else:
        view = escalate_modal(row)
    View(**view).validate_json()
    for block in view["blocks"]:
        Block.parse(block).validate_json()
    post = view["blocks"][0]["text"]["text"]
    assert whole_mrkdwn(post)
    assert post.startswith("*@" + "&lt;" * 79 + "…* on 🦋 Bluesky:\n>&amp; &lt;&amp; &lt;")


def test_huge_author_name_leaves_the_post_on_the_card():
    message = alert_message(
        make_row(author_name="N" * 5000, author="h" * 5000), NOW, sla_minutes=20
    )
    validate(message)
    assert body(message).split("\n")[:2] == [
        "*" + "N" * 79 + "…* (@" + "h" * 79 + "…) · 1.2k followers",
        ">My Acme laptop died after the update &amp; support won't answer.",
    ]


def test_forty_cross_posts_keep_every_shown_link_whole():
    cross = [{"source": "x", "url": f"https://x.com/dana/status/{i:019d}"} for i in range(40)]
    message = alert_message(
        make_row(text="Acme broke my laptop " * 500, cross_posts=cross), NOW, sla_minutes=20
    )
    validate(message)
    text = body(message)
    assert whole_mrkdwn(text)
    links = [f"<{c['url']}|X ↗>" for c in cross]
    assert text.endswith(
        f"…\n<{URL}|Read the whole post>\n*Also posted on:* "
        + " · ".join(links[:11])
        + " · 29 more"
    )


def test_a_url_too_long_for_the_section_is_left_to_the_button():
    url = "https://example.com/" + "p" * 2900
    message = alert_message(make_row(text="word " * 8000, url=url), NOW, sla_minutes=20)
    validate(message)
    assert whole_mrkdwn(body(message))
    assert "Read the whole post" not in body(message)
    assert [b[3] for b in buttons(message) if b[0] == "Open post ↗"] == [url]


def test_long_lists_split_into_sections_and_lose_nothing():
    from bot.blocks import list_message

    rows = [make_row(id=i, author=f"user{i}", text="Acme is broken " * 40) for i in range(25)]
    links = {i: f"https://acme.slack.com/archives/C0ALERTS/p{i:016d}" for i in range(25)}
    lines = queue_lines(rows, NOW, links)
    message = list_message("Unclaimed urgent mentions (25)", lines, "Nothing is waiting.")
    validate(message)
    sections = [b["text"]["text"] for b in message["blocks"]]
    assert all(whole_mrkdwn(s) for s in sections)
    assert "\n".join(sections) == "*Unclaimed urgent mentions (25)*\n" + "\n".join(lines)
    assert lines[-1] == "…and 5 more."
    assert len(sections) == 2


def test_escalation_dm_quote_is_never_cut_mid_entity():
    from bot.blocks import escalation_dm

    message = escalation_dm(
        make_row(text="&" * 5000, reasons=["<" * 3000] * 3),
        level=1,
        severity="SEV2",
        by="U0ALICE",
        now=NOW,
        permalink=None,
    )
    validate(message)
    assert all(whole_mrkdwn(t) for t in texts(message["blocks"]))
