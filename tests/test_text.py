"""bot/text.py: platform HTML to text, escaping for Slack mrkdwn, truncation, brand matching."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import Brand
from bot.text import (
    MAX_TEXT_CHARS,
    BrandMatcher,
    escape_mrkdwn,
    html_to_text,
    normalise_space,
    plain,
    truncate,
)

WJ = "\u2060"  # word joiner

# --- html_to_text ------------------------------------------------------------------------------


def test_hn_comment():
    markup = (
        "You don&#x27;t need a new one.<p>No plans to fix it &amp; support says &quot;wait&quot;"
        ' &gt; 2 weeks: <a href="https://example.com/x" rel="nofollow">link</a>'
        "<p><i>Really</i> annoyed.<p><pre><code>  $ acme --version\n  1.2.3\n</code></pre>"
    )
    assert html_to_text(markup) == (
        "You don't need a new one.\n"
        'No plans to fix it & support says "wait" > 2 weeks: link\n'
        "Really annoyed.\n"
        "\n"
        "$ acme --version\n"
        "1.2.3"
    )


def test_paragraphs_and_line_breaks_are_kept():
    markup = (
        "<p>First para.</p><p>Second&nbsp;para.</p>line<br>break<br/>again"
        "<ul><li>a</li><li>b</li></ul>"
    )
    assert html_to_text(markup) == "First para.\n\nSecond para.\nline\nbreak\nagain\n\na\n\nb"


def test_mastodon_self_closing_br_is_one_line_break():
    markup = (
        '<p>Line one<br />line two<br/>line three</p><p><a href="https://m.s/tags/acme" '
        'class="mention hashtag" rel="tag">#<span>acme</span></a> is down</p>'
    )
    assert html_to_text(markup) == "Line one\nline two\nline three\n\n#acme is down"


def test_script_and_style_dropped():
    markup = (
        "<style>p { color: red }</style>Hello <script>alert('<b>x</b>')</script>"
        "<b>world</b><script>nested()</script>!"
    )
    assert html_to_text(markup) == "Hello world!"
    assert html_to_text("a<script/>b<style />c") == "abc"


def test_entities_decoded_and_tags_dropped():
    assert html_to_text("&lt;!channel&gt; &#64;here &eacute;t&eacute; &#x1F600; &amp;amp;") == (
        "<!channel> @here été 😀 &amp;"
    )
    assert html_to_text(
        '<span class="h-card"><a href="https://m.s/@acme">@<span>acme</span></a></span> hi'
    ) == ("@acme hi")


@pytest.mark.parametrize("markup", [None, "", "<p></p>", "<script>x</script>", "   "])
def test_empty_html(markup):
    assert html_to_text(markup) == ""


def test_whitespace_collapsed_and_length_bounded():
    assert normalise_space("  a \t b  \r\n\r\n\r\n\n c\u00a0\u00a0d  ") == "a b\n\nc d"
    assert len(html_to_text("x" * (MAX_TEXT_CHARS + 10))) == MAX_TEXT_CHARS


def test_plain_decodes_entities_once():
    assert plain(" Tom &amp; Jerry &lt;3  ") == "Tom & Jerry <3"
    assert plain(None) == ""


# --- escape_mrkdwn -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("a & b < c > d", "a &amp; b &lt; c &gt; d"),
        ("&lt;", "&amp;lt;"),
        ("<!channel> <@U123> <#C1|x>", "&lt;!channel&gt; &lt;@U123&gt; &lt;#C1|x&gt;"),
        ("<http://evil|click>", "&lt;http://evil|click&gt;"),
        ("hey @here and @Channel, @EVERYONE!", f"hey @{WJ}here and @{WJ}Channel, @{WJ}EVERYONE!"),
        ("@heresy @channels mail@acme.com", "@heresy @channels mail@acme.com"),
        ("", ""),
        (None, ""),
    ],
)
def test_escape_mrkdwn(text, expected):
    assert escape_mrkdwn(text) == expected


PING_WORD = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
FRAGMENTS = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U123>",
    "<@W9>",
    "<#C1|x>",
    "<!subteam^S1>",
    "<http://evil|click>",
    "<https://evil.example>",
    "<mailto:a@b.c|mail>",
    "@here",
    "@channel",
    "@Everyone",
    "&lt;",
    "&gt;",
    "&amp;",
    "&",
    "<",
    ">",
    "!",
    "@",
    "|",
    " ",
    "\n",
    "here",
    "channel",
    "http://x",
]
adversarial = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=5), max_size=30).map("".join)


def assert_inert(escaped: str) -> None:
    assert "<" not in escaped
    assert ">" not in escaped
    assert PING_WORD.search(escaped) is None


@given(st.text() | adversarial)
def test_escape_mrkdwn_is_inert(text):
    escaped = escape_mrkdwn(text)
    assert_inert(escaped)
    for forged in ("<!", "<@", "<#", "<http"):
        assert forged not in escaped
    # Nothing is lost: undoing the escapes gives the text back.
    entities = {"&amp;": "&", "&lt;": "<", "&gt;": ">"}
    undone = re.sub("&(amp|lt|gt);", lambda m: entities[m.group(0)], escaped)
    assert undone.replace("@" + WJ, "@") == text.replace("@" + WJ, "@")


# --- truncate ----------------------------------------------------------------------------------


def test_truncate_examples():
    assert truncate("hello world foo bar", 10) == "hello wor…"
    assert truncate("the quick brown fox jumps over", 22) == "the quick brown fox…"
    # No space near the end: cut mid-word rather than lose a fifth of the room.
    assert truncate("the quick brown fox jumps over", 25) == "the quick brown fox jump…"
    assert truncate("short", 5) == "short"
    assert truncate("short", 100) == "short"
    assert truncate("abcdef", 3, ellipsis="...") == "..."
    assert truncate("abcdef", 1) == "…"
    assert truncate("abcdef", 0) == ""


@given(st.text(), st.integers(min_value=0, max_value=300))
def test_truncate_never_exceeds_limit(text, limit):
    cut = truncate(text, limit)
    assert len(cut) <= limit
    if len(text) <= limit:
        assert cut == text
    elif limit == 0:
        assert cut == ""
    else:
        assert cut.endswith("…")
        assert text.startswith(cut[:-1])


# --- BrandMatcher ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def matcher():
    return BrandMatcher(
        Brand(
            name="Acme",
            terms=("acme", "acme corp"),
            handles=("acme", "AcmeSupport"),
            exclude=("acme anvil",),
        )
    )


MATCHES = [
    "Acme",
    "@acme",
    "#acme",
    "acme's",
    "acme’s",
    "ACME!",
    "acme corp",
    "ACME  Corp is down",
    "my (acme) laptop",
    "acme.",
    "hey acme, why",
    "acme-branded",
    "fix it\nacme",
]
NON_MATCHES = ["acmeville", "notacme", "acme_bot", "acme2", "_acme", "ac me", "", "nothing here"]


@pytest.mark.parametrize("text", MATCHES)
def test_mentions_brand(matcher, text):
    assert matcher.mentions_brand(text) is True


@pytest.mark.parametrize("text", NON_MATCHES)
def test_does_not_mention_brand(matcher, text):
    assert matcher.mentions_brand(text) is False


@pytest.mark.parametrize(
    "text, excluded",
    [
        ("I dropped an acme anvil on my foot", True),
        ("ACME ANVIL sale", True),
        ("theacme anvils", True),  # exclusions match anywhere
        ("acme anvil", True),
        ("acme broke my anvil", False),
        ("acme", False),
    ],
)
def test_excluded(matcher, text, excluded):
    assert matcher.excluded(text) is excluded


@pytest.mark.parametrize(
    "author, own",
    [
        ("acme", True),
        ("@acme", True),
        ("ACME", True),
        ("acmesupport", True),
        ("@AcmeSupport", True),
        ("ACMESUPPORT", True),
        # The same accounts as Bluesky and Mastodon name them, as the scorer already knew.
        ("AcmeSupport.bsky.social", True),
        ("acme@mastodon.social", True),
        ("@acmesupport@mastodon.social", True),
        ("acme_fan.bsky.social", False),
        ("acme_fan", False),
        ("support", False),
        ("", False),
        (None, False),
    ],
)
def test_own_account(matcher, author, own):
    assert matcher.is_own_account(author) is own


def test_accepts(matcher):
    assert [
        matcher.accepts("acme is down again", "customer"),
        matcher.accepts("acme is down again", "@AcmeSupport"),
        matcher.accepts("my acme anvil is down", "customer"),
        matcher.accepts("acmeville is lovely", "customer"),
        matcher.accepts("ACME's support is slow", None),
    ] == [True, False, False, False, True]


def test_no_terms_matches_nothing():
    matcher = BrandMatcher(Brand(name="Acme", terms=()))
    assert (matcher.mentions_brand("acme"), matcher.accepts("acme")) == (False, False)


def test_terms_with_regex_characters():
    matcher = BrandMatcher(Brand(name="C++", terms=("c++", "a.b")))
    assert [matcher.mentions_brand(t) for t in ("I love c++ ok", "axb", "a.b rocks")] == [
        True,
        False,
        True,
    ]
