"""A fake Bluesky PDS/AppView (XRPC over real HTTP on 127.0.0.1, port 0).

Endpoints, with the real error shapes (``{"error": "ExpiredToken", "message": ...}``):

- ``POST /xrpc/com.atproto.server.createSession`` ``{"identifier", "password"}``
- ``POST /xrpc/com.atproto.server.refreshSession`` (``Authorization: Bearer <refreshJwt>``;
  rotates both tokens, the old refresh token stops working)
- ``GET /xrpc/app.bsky.feed.searchPosts`` ``q``, ``sort`` (latest), ``since`` (inclusive) and
  ``until`` (exclusive), both on ``sortAt``, ``limit`` (default 25, max 100), ``cursor`` (an
  offset, like the AppView's)
- ``GET /xrpc/app.bsky.actor.getProfiles`` ``actors`` (repeated, at most 25)

Post views are copies of ``tests/fixtures/bluesky_search_posts.json`` with fields replaced.
``expire_access_tokens()`` makes every issued access token answer 400 ExpiredToken.
"""

from __future__ import annotations

import copy
import itertools
import json
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.fakes._server import FakeServer, Recorded, json_response

FIXTURE = Path(__file__).parent.parent / "fixtures" / "bluesky_search_posts.json"
_TEMPLATE = json.loads(FIXTURE.read_text(encoding="utf-8"))["posts"][0]


def stamp(moment: datetime) -> str:
    """Bluesky's timestamps: ``2025-05-19T17:10:09.561Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


def _parse(value: str) -> datetime:
    text = value.replace("Z", "+00:00")
    if len(text) == 10:
        text += "T00:00:00+00:00"
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class FakeBluesky(FakeServer):
    def __init__(self, *, handle: str = "acme-care.bsky.social", password: str = "app-pass"):
        super().__init__()
        self.handle = handle
        self.password = password
        self.did = "did:plc:acmecare0000000000000000"
        self.posts: list[dict[str, Any]] = []
        self.profiles: dict[str, dict[str, Any]] = {}
        self._access: dict[str, bool] = {}  # token -> still valid
        self._refresh: set[str] = set()
        self._rkeys = itertools.count(1)

    # ---------------------------------------------------------------------- data

    def add_post(
        self,
        text: str,
        *,
        handle: str = "dana.bsky.social",
        display_name: str = "Dana",
        created_at: datetime | None = None,
        indexed_at: datetime | None = None,
        langs: list[str] | None = None,
        followers: int = 120,
        likes: int = 0,
        reposts: int = 0,
        replies: int = 0,
        rkey: str | None = None,
    ) -> dict[str, Any]:
        created_at = created_at or datetime.now(UTC)
        did = f"did:plc:{handle.split('.')[0]:0<24}"[:32]
        rkey = rkey or f"3lpk{next(self._rkeys):09d}"
        post = copy.deepcopy(_TEMPLATE)
        post["uri"] = f"at://{did}/app.bsky.feed.post/{rkey}"
        post["cid"] = "bafyrei" + secrets.token_hex(20)
        post["author"].update({"did": did, "handle": handle, "displayName": display_name})
        record = {"$type": "app.bsky.feed.post", "createdAt": stamp(created_at), "text": text}
        if langs is not None:
            record["langs"] = langs
        post["record"] = record
        post.update(
            replyCount=replies,
            repostCount=reposts,
            likeCount=likes,
            quoteCount=0,
            indexedAt=stamp(indexed_at or created_at),
        )
        self.profiles[did] = {
            "did": did,
            "handle": handle,
            "displayName": display_name,
            "followersCount": followers,
            "followsCount": 10,
            "postsCount": 42,
            "indexedAt": stamp(created_at),
            "createdAt": "2024-09-04T11:55:00.863Z",
            "labels": [],
        }
        with self._lock:
            self.posts.append(post)
        return copy.deepcopy(post)

    def expire_access_tokens(self) -> None:
        with self._lock:
            for token in self._access:
                self._access[token] = False

    def revoke_refresh_tokens(self) -> None:
        with self._lock:
            self._refresh.clear()

    def calls(self, nsid: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == f"/xrpc/{nsid}"]

    # ------------------------------------------------------------------- routing

    def route(self, req: Recorded):
        nsid = req.path.removeprefix("/xrpc/")
        if nsid == "com.atproto.server.createSession" and req.method == "POST":
            body = req.json()
            if body.get("identifier") != self.handle or body.get("password") != self.password:
                return _error(401, "AuthenticationRequired", "Invalid identifier or password")
            return json_response(self._session())
        if nsid == "com.atproto.server.refreshSession" and req.method == "POST":
            token = _bearer(req)
            if token not in self._refresh:
                return _error(400, "ExpiredToken", "Token has been revoked")
            self._refresh.discard(token)
            return json_response(self._session())
        if nsid in ("app.bsky.feed.searchPosts", "app.bsky.actor.getProfiles"):
            token = _bearer(req)
            if token is None or token not in self._access:
                return _error(401, "AuthenticationRequired", "Authentication Required")
            if not self._access[token]:
                return _error(400, "ExpiredToken", "Token has expired")
            if nsid == "app.bsky.feed.searchPosts":
                return self._search(req)
            return self._profiles(req)
        return _error(404, "XRPCNotSupported", "XRPCNotSupported")

    def _session(self) -> dict[str, Any]:
        access, refresh = "acc." + secrets.token_hex(8), "ref." + secrets.token_hex(8)
        self._access[access] = True
        self._refresh.add(refresh)
        return {
            "did": self.did,
            "didDoc": {},
            "handle": self.handle,
            "email": "care@acme.example",
            "emailConfirmed": True,
            "accessJwt": access,
            "refreshJwt": refresh,
            "active": True,
        }

    def _search(self, req: Recorded):
        params = req.params
        q = params.get("q", "")
        if not q:
            return _error(400, "InvalidRequest", 'Error: Params must have the property "q"')
        try:
            limit = int(params.get("limit") or 25)
            offset = int(params.get("cursor") or 0)
        except ValueError:
            return _error(400, "InvalidRequest", "Error: limit/cursor must be an integer")
        if not 1 <= limit <= 100:
            return _error(400, "InvalidRequest", "Error: limit can not be greater than 100")
        since = _parse(params["since"]) if params.get("since") else None
        until = _parse(params["until"]) if params.get("until") else None
        words = q.lower().split()

        def sort_at(post):
            return min(_parse(post["record"]["createdAt"]), _parse(post["indexedAt"]))

        hits = [
            p
            for p in self.posts
            if all(w in p["record"]["text"].lower() for w in words)
            and (since is None or sort_at(p) >= since)
            and (until is None or sort_at(p) < until)
        ]
        hits.sort(key=sort_at, reverse=True)
        page = hits[offset : offset + limit]
        body: dict[str, Any] = {"posts": copy.deepcopy(page)}
        if offset + limit < len(hits):
            body["cursor"] = str(offset + limit)
        return json_response(body)

    def _profiles(self, req: Recorded):
        actors = req.all("actors")
        if len(actors) > 25:
            return _error(
                400, "InvalidRequest", "Error: actors must not have more than 25 elements"
            )
        found = [self.profiles[a] for a in actors if a in self.profiles]
        return json_response({"profiles": copy.deepcopy(found)})


def _bearer(req: Recorded) -> str | None:
    value = req.headers.get("authorization", "")
    return value[7:] if value.startswith("Bearer ") else None


def _error(status: int, error: str, message: str):
    return json_response({"error": error, "message": message}, status=status)
