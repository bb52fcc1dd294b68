"""A fake feed server (real HTTP on 127.0.0.1, port 0) with conditional GET.

Each feed lives at a path (``/alerts/acme``) with its XML, an ``ETag`` and a
``Last-Modified``; a request whose ``If-None-Match`` or ``If-Modified-Since`` matches gets
304 and no body. ``set_feed`` changes the body and so the validators. ``atom()`` and ``rss()``
build feeds; ``google_alert_entry()`` an entry shaped like ``tests/fixtures/google_alerts.xml``
(a Google Alerts feed: redirect links, HTML titles).
"""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from pathlib import Path

from tests.fakes._server import FakeServer, Recorded

FIXTURE = Path(__file__).parent.parent / "fixtures" / "google_alerts.xml"
_ids = itertools.count(10429489420339433402)


class FakeFeeds(FakeServer):
    def __init__(self, *, validators: bool = True):
        super().__init__()
        self.validators = validators
        self.feeds: dict[str, dict[str, str]] = {}

    def feed_url(self, path: str) -> str:
        return f"{self.url}{path}"

    def set_feed(self, path: str, xml: str, *, content_type: str = "application/atom+xml") -> str:
        with self._lock:
            self.feeds[path] = {
                "xml": xml,
                "etag": '"' + hashlib.sha1(xml.encode()).hexdigest()[:16] + '"',
                "modified": format_datetime(datetime.now(UTC), usegmt=True),
                "type": content_type,
            }
        return self.feed_url(path)

    def route(self, req: Recorded):
        feed = self.feeds.get(req.path)
        if feed is None:
            return 404, {"Content-Type": "text/html"}, b"<h1>Not Found</h1>"
        headers = {"Content-Type": f"{feed['type']}; charset=utf-8"}
        if self.validators:
            headers.update(ETag=feed["etag"], **{"Last-Modified": feed["modified"]})
            if req.headers.get("if-none-match") == feed["etag"] or (
                "if-none-match" not in req.headers
                and req.headers.get("if-modified-since") == feed["modified"]
            ):
                return 304, headers, b""
        return 200, headers, feed["xml"].encode("utf-8")


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def google_alert_entry(
    title_html: str, content_html: str, real_url: str, published: datetime, entry_id=None
) -> str:
    """One Atom <entry> like Google Alerts': title/content are HTML (escaped in XML), the link
    is a google.com/url redirect to `real_url`."""
    entry_id = entry_id or f"tag:google.com,2013:googlealerts/feed:{next(_ids)}"
    link = (
        "https://www.google.com/url?rct=j&sa=t&url="
        + real_url.replace("?", "%3F").replace("=", "%3D").replace("&", "%26")
        + "&ct=ga&cd=CAIyGjI2&usg=AOvVaw0"
    )
    return (
        f'<entry><id>{entry_id}</id><title type="html">{escape(title_html)}</title>'
        f'<link href="{escape(link)}" /><published>{stamp(published)}</published>'
        f"<updated>{stamp(published)}</updated>"
        f'<content type="html">{escape(content_html)}</content>'
        "<author><name></name></author></entry>"
    )


def atom(entries: list[str], *, title: str = "Google Alert - acme") -> str:
    head = FIXTURE.read_text(encoding="utf-8").split("<entry>")[0]
    head = head.replace("Google Alert - acme", escape(title))
    return head + "".join(entries) + "</feed>"


def rss(items: list[dict], *, language: str = "en-gb", title: str = "Acme reviews") -> str:
    """An RSS 2.0 channel; each item: title, link, description (HTML), guid, pub (datetime)."""
    body = "".join(
        "<item>"
        f"<title>{escape(i['title'])}</title><link>{escape(i['link'])}</link>"
        f"<description>{escape(i['description'])}</description>"
        f'<guid isPermaLink="false">{escape(i["guid"])}</guid>'
        f"<pubDate>{format_datetime(i['pub'].astimezone(UTC), usegmt=True)}</pubDate>"
        "</item>"
        for i in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>https://reviews.example/acme</link>"
        f"<description>Reviews</description><language>{language}</language>{body}"
        "</channel></rss>"
    )
