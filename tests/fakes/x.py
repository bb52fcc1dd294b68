"""A fake X API v2 recent search (real HTTP on 127.0.0.1, port 0).

``GET /2/tweets/search/recent`` with ``query``, ``max_results`` (10-100, default 10),
``since_id``, ``start_time``, ``next_token``, ``expansions=author_id``, ``tweet.fields`` and
``user.fields``; answers shaped like ``tests/fixtures/x_search_recent.json`` (``data``,
``includes.users``, ``meta`` with ``newest_id``/``oldest_id``/``result_count``/
``next_token``; only ``meta`` when nothing matched). Only requested fields are returned
(``id``, ``text`` and ``edit_history_tweet_ids`` always are, like X).

Query support: the OR group of terms (bare words or ``"quoted phrases"``), ``-is:retweet``
and ``-from:handle``. Rate-limit headers on every answer: ``x-rate-limit-limit`` (450),
``x-rate-limit-remaining``, ``x-rate-limit-reset``; at 0 remaining it answers 429.
"""

from __future__ import annotations

import copy
import itertools
import re
import time
from datetime import UTC, datetime
from typing import Any

from tests.fakes._server import FakeServer, Recorded, json_response

TWITTER_EPOCH_MS = 1288834974657


def snowflake(moment: datetime, seq: int) -> str:
    return str(((int(moment.timestamp() * 1000) - TWITTER_EPOCH_MS) << 22) + seq)


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class FakeX(FakeServer):
    def __init__(self, *, token: str = "x-bearer"):
        super().__init__()
        self.token = token
        self.tweets: list[dict[str, Any]] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.rate_limit = 450
        self.remaining = 450
        self.reset = int(time.time()) + 900
        self._seq = itertools.count(1)

    def add_tweet(
        self,
        text: str,
        *,
        username: str = "dana",
        name: str = "Dana",
        followers: int = 150,
        lang: str = "en",
        created_at: datetime | None = None,
        likes: int = 0,
        retweets: int = 0,
        replies: int = 0,
        retweet_of: str | None = None,
        edit_of: str | None = None,
    ) -> dict[str, Any]:
        """Add a post; ``edit_of=<id>`` adds the edited version (a new id whose
        ``edit_history_tweet_ids`` starts with the original's), as X does."""
        created_at = created_at or datetime.now(UTC)
        user_id = str(10_000 + sum(map(ord, username)))
        self.users[user_id] = {
            "id": user_id,
            "name": name,
            "username": username,
            "public_metrics": {
                "followers_count": followers,
                "following_count": 9,
                "tweet_count": 1394,
                "listed_count": 8,
            },
            "created_at": "2009-08-05T05:46:48.000Z",
        }
        tweet_id = snowflake(created_at, next(self._seq))
        history = [tweet_id]
        if edit_of:
            original = next(t for t in self.tweets if t["id"] == edit_of)
            history = [*original["edit_history_tweet_ids"], tweet_id]
        tweet = {
            "id": tweet_id,
            "text": text,
            "edit_history_tweet_ids": history,
            "author_id": user_id,
            "created_at": stamp(created_at),
            "lang": lang,
            "public_metrics": {
                "retweet_count": retweets,
                "reply_count": replies,
                "like_count": likes,
                "quote_count": 0,
                "bookmark_count": 0,
                "impression_count": 42,
            },
        }
        if retweet_of:
            tweet["referenced_tweets"] = [{"type": "retweeted", "id": retweet_of}]
        with self._lock:
            self.tweets.append(tweet)
        return copy.deepcopy(tweet)

    def searches(self) -> list[dict[str, str]]:
        return [r.params for r in self.requests if r.path == "/2/tweets/search/recent"]

    # ------------------------------------------------------------------- routing

    def route(self, req: Recorded):
        if req.headers.get("authorization") != f"Bearer {self.token}":
            return json_response(
                {
                    "title": "Unauthorized",
                    "type": "about:blank",
                    "status": 401,
                    "detail": "Unauthorized",
                },
                status=401,
            )
        if req.path != "/2/tweets/search/recent":
            return json_response(
                {"errors": [{"message": "Sorry, that page does not exist"}]}, status=404
            )
        if self.remaining <= 0:
            return json_response(
                {
                    "title": "Too Many Requests",
                    "detail": "Too Many Requests",
                    "type": "about:blank",
                    "status": 429,
                },
                status=429,
                headers=self._limit_headers(),
            )
        self.remaining -= 1
        status, body = self._search(req.params)
        return json_response(body, status=status, headers=self._limit_headers())

    def _limit_headers(self) -> dict[str, str]:
        return {
            "x-rate-limit-limit": str(self.rate_limit),
            "x-rate-limit-remaining": str(max(0, self.remaining)),
            "x-rate-limit-reset": str(self.reset),
        }

    def _search(self, p: dict[str, str]):
        try:
            max_results = int(p.get("max_results") or 10)
        except ValueError:
            max_results = -1
        if not 10 <= max_results <= 100:
            return 400, {
                "errors": [
                    {
                        "parameters": {"max_results": [p.get("max_results")]},
                        "message": f"The `max_results` query parameter value "
                        f"[{p.get('max_results')}] is not between 10 and 100",
                    }
                ],
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": "https://api.twitter.com/2/problems/invalid-request",
            }
        query = p.get("query", "")
        excluded = {h.lower() for h in re.findall(r"-from:(\w+)", query)}
        no_retweets = "-is:retweet" in query
        group = re.sub(r"-\S+", " ", query)
        terms = [(a or b).lower() for a, b in re.findall(r'"([^"]+)"|([^\s()"]+)', group)]
        terms = [t for t in terms if t != "or"]
        since_id = int(p["since_id"]) if p.get("since_id") else None
        start = (
            datetime.fromisoformat(p["start_time"].replace("Z", "+00:00"))
            if p.get("start_time")
            else None
        )
        matched = []
        for t in self.tweets:
            user = self.users[t["author_id"]]
            if user["username"].lower() in excluded:
                continue
            if no_retweets and any(
                r["type"] == "retweeted" for r in t.get("referenced_tweets", [])
            ):
                continue
            if not any(term in t["text"].lower() for term in terms):
                continue
            if since_id is not None and int(t["id"]) <= since_id:
                continue
            created = datetime.fromisoformat(t["created_at"].replace("Z", "+00:00"))
            if start is not None and created < start:
                continue
            matched.append(t)
        matched.sort(key=lambda t: int(t["id"]), reverse=True)
        offset = int(p.get("next_token", "tok0")[3:] or 0)
        page = matched[offset : offset + max_results]
        if not page:
            return 200, {"meta": {"result_count": 0}}
        fields = set((p.get("tweet.fields") or "").split(",")) | {
            "id",
            "text",
            "edit_history_tweet_ids",
        }
        user_fields = set((p.get("user.fields") or "").split(",")) | {"id", "name", "username"}
        data = [{k: v for k, v in t.items() if k in fields} for t in page]
        meta: dict[str, Any] = {
            "newest_id": page[0]["id"],
            "oldest_id": page[-1]["id"],
            "result_count": len(page),
        }
        if offset + max_results < len(matched):
            meta["next_token"] = f"tok{offset + max_results}"
        body: dict[str, Any] = {"data": copy.deepcopy(data), "meta": meta}
        if "author_id" in (p.get("expansions") or ""):
            ids = dict.fromkeys(t["author_id"] for t in page)
            body["includes"] = {
                "users": [{k: v for k, v in self.users[i].items() if k in user_fields} for i in ids]
            }
        return 200, body
