"""A fake Mastodon server (real HTTP on 127.0.0.1, port 0).

- ``GET /api/v1/timelines/tag/:tag`` with ``min_id``, ``since_id``, ``max_id``, ``limit``
  (default 20, max 40) and Mastodon's ``Link`` header (``rel="next"``: ``max_id`` = oldest of
  the page; ``rel="prev"``: ``min_id`` = newest). With ``min_id`` the page is the one just
  newer than it (still newest first), as Mastodon does.
- ``GET /api/v2/search`` ``q``, ``type=statuses``, ``min_id``, ``max_id``, ``limit``,
  ``offset``; anonymous status searches find nothing, as on mastodon.social.

A wrong ``Authorization`` answers 401 ``{"error": "The access token is invalid"}``. Statuses
are copies of ``tests/fixtures/mastodon_v2_search.json``'s with fields replaced; ids are
Mastodon's (milliseconds << 16).
"""

from __future__ import annotations

import copy
import html
import itertools
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tests.fakes._server import FakeServer, Recorded, json_response

FIXTURE = Path(__file__).parent.parent / "fixtures" / "mastodon_v2_search.json"
_TEMPLATE = json.loads(FIXTURE.read_text(encoding="utf-8"))["statuses"][0]


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


class FakeMastodon(FakeServer):
    def __init__(self, *, token: str | None = None):
        super().__init__()
        self.token = token
        self.statuses: list[dict[str, Any]] = []
        self._seq = itertools.count(1)

    def add_status(
        self,
        content: str,
        *,
        acct: str = "dana@mastodon.example",
        display_name: str = "Dana",
        followers: int = 80,
        language: str | None = "en",
        created_at: datetime | None = None,
        tags: tuple[str, ...] = (),
        spoiler_text: str = "",
        reblog: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Add a status (``content`` is HTML); ``reblog=`` another status makes a reblog."""
        created_at = created_at or datetime.now(UTC)
        sid = str((int(created_at.timestamp() * 1000) << 16) + next(self._seq))
        status = copy.deepcopy(_TEMPLATE)
        username = acct.split("@")[0]
        status.update(
            id=sid,
            created_at=stamp(created_at),
            in_reply_to_id=None,
            in_reply_to_account_id=None,
            language=language,
            uri=f"https://mastodon.example/users/{username}/statuses/{sid}",
            url=f"https://mastodon.example/@{username}/{sid}",
            content="" if reblog else content,
            spoiler_text=spoiler_text,
            replies_count=0,
            reblogs_count=0,
            favourites_count=0,
            edited_at=None,
            reblog=copy.deepcopy(reblog),
            mentions=[],
            card=None,
            tags=[{"name": t, "url": f"https://mastodon.example/tags/{t}"} for t in tags],
        )
        status["account"].update(
            id=str(1000 + len(self.statuses)),
            username=username,
            acct=acct,
            display_name=display_name,
            followers_count=followers,
            url=f"https://mastodon.example/@{username}",
        )
        with self._lock:
            self.statuses.append(status)
        return copy.deepcopy(status)

    def edit_status(self, sid: str, content: str) -> None:
        with self._lock:
            for status in self.statuses:
                if status["id"] == sid:
                    status["content"] = content
                    status["edited_at"] = stamp(datetime.now(UTC))

    # ------------------------------------------------------------------- routing

    def route(self, req: Recorded):
        auth = req.headers.get("authorization")
        if auth is not None and auth != f"Bearer {self.token}":
            return json_response({"error": "The access token is invalid"}, status=401)
        if req.path.startswith("/api/v1/timelines/tag/"):
            tag = req.path.rsplit("/", 1)[-1].lower()
            found = [
                s
                for s in self.statuses
                if tag in {t["name"].lower() for t in (s["reblog"] or s)["tags"]}
            ]
            return self._page(req, found, link=True)
        if req.path == "/api/v2/search":
            if req.params.get("type") != "statuses":
                return json_response({"accounts": [], "statuses": [], "hashtags": []})
            words = req.params.get("q", "").lower().split()
            found = []
            if auth is not None:
                found = [
                    s
                    for s in self.statuses
                    if not s["reblog"] and all(w in _text(s["content"]) for w in words)
                ]
            status, headers, body = self._page(req, found, link=False)
            statuses = json.loads(body)
            if status != 200:
                return status, headers, body
            return json_response({"accounts": [], "statuses": statuses, "hashtags": []})
        return json_response({"error": "Record not found"}, status=404)

    def _page(self, req: Recorded, found: list[dict[str, Any]], *, link: bool):
        p = req.params
        try:
            limit = min(int(p.get("limit") or 20), 40)
            offset = int(p.get("offset") or 0)
        except ValueError:
            return json_response({"error": "Invalid limit"}, status=400)
        ids = sorted(found, key=lambda s: int(s["id"]), reverse=True)
        for name, keep in (
            ("min_id", lambda s, v: int(s["id"]) > v),
            ("since_id", lambda s, v: int(s["id"]) > v),
            ("max_id", lambda s, v: int(s["id"]) < v),
        ):
            if p.get(name):
                ids = [s for s in ids if keep(s, int(p[name]))]
        if p.get("min_id"):
            page = list(reversed(list(reversed(ids))[offset : offset + limit]))
        else:
            page = ids[offset : offset + limit]
        headers = {}
        if link and page:
            base = f"{self.url}{req.path}"
            extra = {"limit": p["limit"]} if p.get("limit") else {}
            headers["Link"] = (
                f'<{base}?{urlencode({**extra, "max_id": page[-1]["id"]})}>; rel="next", '
                f'<{base}?{urlencode({**extra, "min_id": page[0]["id"]})}>; rel="prev"'
            )
        return json_response(copy.deepcopy(page), headers=headers)


def _text(content: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", content)).lower()
