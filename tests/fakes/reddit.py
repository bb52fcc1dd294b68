"""A fake Reddit OAuth API (real HTTP on 127.0.0.1, port 0): token endpoint and search.

- ``POST /api/v1/access_token`` (HTTP basic auth, ``grant_type=client_credentials``) answers
  like ``tests/fixtures/reddit_token.json``; bad credentials 401 ``{"message": "Unauthorized",
  "error": 401}``.
- ``GET /search`` and ``GET /r/{sub}/search`` (``restrict_sr=1``) with ``q``, ``sort=new``,
  ``limit`` (default 25, max 100), ``before``/``after`` fullnames (the page next to that post,
  like Reddit; an unknown fullname gives an empty page), ``raw_json`` (without it, ``&``,
  ``<``, ``>`` in text come HTML-escaped, as Reddit's legacy JSON does). Listings are shaped
  like ``tests/fixtures/reddit_search.json``. ``X-Ratelimit-Used/Remaining/Reset`` headers
  on each answer.

``expire_tokens()`` makes every issued token answer 401.
"""

from __future__ import annotations

import base64
import copy
import itertools
import json
import secrets
import time
from pathlib import Path
from typing import Any

from tests.fakes._server import FakeServer, Recorded, json_response

FIXTURES = Path(__file__).parent.parent / "fixtures"
_LISTING = json.loads((FIXTURES / "reddit_search.json").read_text(encoding="utf-8"))
_TEMPLATE = _LISTING["data"]["children"][0]["data"]
_TOKEN = json.loads((FIXTURES / "reddit_token.json").read_text(encoding="utf-8"))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class FakeReddit(FakeServer):
    def __init__(self, *, client_id: str = "rid", client_secret: str = "rsecret"):
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self.posts: list[dict[str, Any]] = []
        self.tokens: dict[str, bool] = {}
        self.ratelimit_remaining = 996.0
        self.ratelimit_reset = 300
        self._ids = itertools.count(1)

    @property
    def token_url(self) -> str:
        return f"{self.url}/api/v1/access_token"

    def add_post(
        self,
        title: str,
        selftext: str = "",
        *,
        author: str = "dana_k",
        subreddit: str = "techsupport",
        created_utc: float | None = None,
        score: int = 1,
        num_comments: int = 0,
    ) -> dict[str, Any]:
        base36 = _base36(80_000_000 + next(self._ids))
        post = copy.deepcopy(_TEMPLATE)
        slug = "_".join(title.lower().split()[:5])
        created = float(created_utc if created_utc is not None else int(time.time()))
        post.update(
            id=base36,
            name=f"t3_{base36}",
            title=title,
            selftext=selftext,
            selftext_html=None,
            author=author,
            author_fullname=f"t2_{base36}",
            subreddit=subreddit,
            subreddit_name_prefixed=f"r/{subreddit}",
            created=created,
            created_utc=created,
            score=score,
            ups=score,
            num_comments=num_comments,
            permalink=f"/r/{subreddit}/comments/{base36}/{slug}/",
            url=f"https://www.reddit.com/r/{subreddit}/comments/{base36}/{slug}/",
            domain=f"self.{subreddit}",
        )
        with self._lock:
            self.posts.append(post)
        return copy.deepcopy(post)

    def remove(self, fullname: str) -> None:
        with self._lock:
            self.posts = [p for p in self.posts if p["name"] != fullname]

    def expire_tokens(self) -> None:
        with self._lock:
            for token in self.tokens:
                self.tokens[token] = False

    def searches(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith("/search")]

    # ------------------------------------------------------------------- routing

    def route(self, req: Recorded):
        if req.path == "/api/v1/access_token" and req.method == "POST":
            expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
            if req.headers.get("authorization") != f"Basic {expected}":
                return json_response({"message": "Unauthorized", "error": 401}, status=401)
            if req.form().get("grant_type") != "client_credentials":
                return json_response({"error": "unsupported_grant_type"})
            token = "eyJ" + secrets.token_hex(12)
            self.tokens[token] = True
            return json_response({**_TOKEN, "access_token": token})
        auth = req.headers.get("authorization", "")
        if not self.tokens.get(auth.removeprefix("bearer ").removeprefix("Bearer ")):
            return json_response(
                {"message": "Unauthorized", "error": 401},
                status=401,
                headers={"www-authenticate": 'Bearer realm="reddit", error="invalid_token"'},
            )
        parts = req.path.strip("/").split("/")
        if parts == ["search"]:
            sub = None
        elif len(parts) == 3 and parts[0] == "r" and parts[2] == "search":
            sub = parts[1]
        else:
            return json_response({"message": "Not Found", "error": 404}, status=404)
        return json_response(self._search(req.params, sub), headers=self._limit_headers())

    def _limit_headers(self) -> dict[str, str]:
        self.ratelimit_remaining = max(0.0, self.ratelimit_remaining - 1)
        return {
            "x-ratelimit-used": str(int(1000 - self.ratelimit_remaining)),
            "x-ratelimit-remaining": f"{self.ratelimit_remaining:.1f}",
            "x-ratelimit-reset": str(self.ratelimit_reset),
        }

    def _search(self, p: dict[str, str], sub: str | None) -> dict[str, Any]:
        words = p.get("q", "").lower().split()
        limit = max(1, min(int(p.get("limit") or 25), 100))
        found = [
            post
            for post in self.posts
            if all(w in f"{post['title']} {post['selftext']}".lower() for w in words)
            and (
                sub is None
                or p.get("restrict_sr") not in ("1", "true", "on")
                or post["subreddit"].lower() == sub.lower()
            )
        ]
        found.sort(key=lambda post: post["created_utc"], reverse=True)
        names = [post["name"] for post in found]
        before = after = None
        if p.get("before"):
            if p["before"] not in names:
                page = []
            else:
                end = names.index(p["before"])
                start = max(0, end - limit)
                page = found[start:end]
                before = page[0]["name"] if page and start > 0 else None
                after = page[-1]["name"] if page else None
        else:
            start = names.index(p["after"]) + 1 if p.get("after") in names else 0
            if p.get("after") and p["after"] not in names:
                start = len(found)
            page = found[start : start + limit]
            after = page[-1]["name"] if page and start + limit < len(found) else None
            before = page[0]["name"] if page and start > 0 else None
        raw = p.get("raw_json") == "1"
        children = []
        for post in page:
            data = copy.deepcopy(post)
            if not raw:
                data["title"] = _escape(data["title"])
                data["selftext"] = _escape(data["selftext"])
            children.append({"kind": "t3", "data": data})
        listing = copy.deepcopy(_LISTING)
        listing["data"].update(after=after, before=before, dist=len(children), children=children)
        return listing


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while number:
        number, rem = divmod(number, 36)
        out = digits[rem] + out
    return out or "0"
