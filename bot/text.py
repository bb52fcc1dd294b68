"""Text handling shared by every source and every Slack message.

- `html_to_text`: platform HTML (HN comments, Mastodon, RSS) to plain text.
- `escape_mrkdwn`: plain untrusted text to Slack mrkdwn that can never ping or forge a link.
- `BrandMatcher`: does a text mention the brand, is it excluded, is it the brand's own account.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from bot.config import Brand

MAX_TEXT_CHARS = 40_000  # what we keep of any post; scoring bounds its own slice further

_BLOCK_TAGS = {
    "p",
    "br",
    "div",
    "li",
    "ul",
    "ol",
    "pre",
    "blockquote",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "hr",
}
_SKIP_TAGS = {"script", "style"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in _SKIP_TAGS:
            self.skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs) -> None:
        # `<br/>` (Mastodon writes `<br />`) is one line break, as `<br>` is, not two; an empty
        # `<script/>` opens nothing to skip.
        if tag not in _SKIP_TAGS:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def html_to_text(markup: str | None) -> str:
    """Drop tags, decode entities, keep paragraph breaks, collapse other whitespace."""
    if not markup:
        return ""
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    return normalise_space("".join(parser.parts))


def normalise_space(text: str) -> str:
    """Collapse runs of spaces within lines and of blank lines; strip the ends; bound length."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    lines = [re.sub(r"[ \t\f\v]+", " ", line).strip() for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()[:MAX_TEXT_CHARS]


def plain(text: str | None) -> str:
    """Plain text from a platform field that may still carry entities (e.g. '&amp;')."""
    return normalise_space(html.unescape(text or ""))


def escape_mrkdwn(text: str | None) -> str:
    """Escape untrusted text for Slack mrkdwn and `text` fallbacks.

    Slack treats only `&`, `<` and `>` as control characters: once they are escaped, no
    `<!channel>`, `<@U…>`, `<#C…>` or `<http…|label>` can come from the text. Bare
    `@channel`/`@here` words are not pings when messages are sent without `link_names` (we
    never send it); a word joiner after the `@` makes sure a client that re-parses cannot
    turn them into one either.
    """
    if not text:
        return ""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _PING.sub(lambda m: "@\u2060" + m.group(1), escaped)


_PING = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)


def truncate(text: str, limit: int, ellipsis: str = "…") -> str:
    """Cut at a word boundary when one is near, adding an ellipsis; never exceed `limit`."""
    if len(text) <= limit:
        return text
    if limit <= len(ellipsis):
        return ellipsis[: max(0, limit)]
    cut = text[: limit - len(ellipsis)]
    space = cut.rfind(" ")
    if space > limit * 0.8:
        cut = cut[:space]
    return cut.rstrip() + ellipsis


def handle_key(handle: str | None) -> str:
    """An account name as the brand's `handles` are compared: lower case, without a leading @,
    a Mastodon server (`acme@mastodon.social`) or Bluesky's `.bsky.social`."""
    key = (handle or "").strip().lower().lstrip("@")
    return key.split("@")[0].removesuffix(".bsky.social")


class BrandMatcher:
    """Brand terms at word boundaries (also @term, #term, term's); exclusions anywhere."""

    def __init__(self, brand: Brand):
        self.brand = brand
        self.handles = {handle_key(h) for h in brand.handles} - {""}
        self.exclude = tuple(e.lower() for e in brand.exclude)
        if brand.terms:
            alternatives = "|".join(
                re.escape(t).replace(r"\ ", r"\s+")
                for t in sorted(brand.terms, key=len, reverse=True)
            )
            # A term counts when it is not glued to other word characters. `@acme`, `#acme`,
            # `acme's` and `acme’s` all match; `acmeville` and `notacme` do not.
            self.pattern = re.compile(rf"(?<![\w])(?:{alternatives})(?![\w])", re.IGNORECASE)
        else:
            self.pattern = None

    def mentions_brand(self, text: str) -> bool:
        return bool(self.pattern and self.pattern.search(text))

    def excluded(self, text: str) -> bool:
        lowered = text.lower()
        return any(phrase in lowered for phrase in self.exclude)

    def is_own_account(self, author: str | None) -> bool:
        return bool(author) and handle_key(author) in self.handles

    def accepts(self, text: str, author: str | None = None) -> bool:
        """A mention worth storing: names the brand, is not excluded, is not our own post."""
        return (
            self.mentions_brand(text)
            and not self.excluded(text)
            and not self.is_own_account(author)
        )


_FINGERPRINT_DROP = re.compile(r"https?://\S+|www\.\S+|[#@][\w.]+|[^\w]|_", re.UNICODE)


def fingerprint(text: str) -> str:
    """Text reduced to what makes a cross-post the same complaint: lower case, without URLs,
    hashtags, @-mentions, punctuation and spacing."""
    return _FINGERPRINT_DROP.sub("", text.lower())[:2000]
