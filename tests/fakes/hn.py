"""A fake Hacker News Algolia search API that speaks real HTTP on 127.0.0.1 (port 0).

Serves ``GET /api/v1/search_by_date`` (newest first) and ``GET /api/v1/search`` (most points
first) with hits shaped exactly like Algolia's (see ``tests/fixtures/hn_search_by_date.json``)::

    with FakeHN() as hn:
        hn.add_hit(object_id="1", author="bob", created_at_i=1764140000,
                   comment_text="My <i>Acme</i> laptop died", story_id=9, story_title="Ask HN")
        r = httpx.get(hn.base_url + "/search_by_date", params={"query": "acme"})

Supported parameters: ``query`` (every word, or every ``"quoted phrase"``, must occur
case-insensitively in title, story_text, comment_text, url or author; empty matches all),
``tags`` (``story``, ``(story,comment)`` = either, ``story,author_pg`` = both),
``numericFilters`` (comma-separated ``field op number``, op one of ``< <= = != >= >``),
``hitsPerPage`` (default 20, at most 1000), ``page`` (0-based; like Algolia, only the first
``pagination_limit`` hits, 1000, can be paged to).
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.fakes._server import Answer, FakeServer, Recorded, json_response

API_PREFIX = "/api/v1"
DEFAULT_HITS_PER_PAGE = 20
MAX_HITS_PER_PAGE = 1000
SEARCHABLE = ("title", "story_text", "comment_text", "url", "author")
HIT_KEYS = (
    "created_at",
    "title",
    "url",
    "author",
    "points",
    "story_text",
    "comment_text",
    "num_comments",
    "story_id",
    "story_title",
    "story_url",
    "parent_id",
    "created_at_i",
    "_tags",
    "objectID",
)
_NUMERIC_FILTER = re.compile(r"^\s*(\w+)\s*(<=|>=|!=|<|>|=)\s*(-?\d+(?:\.\d+)?)\s*$")
_OPS = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
}


def created_at(epoch: int) -> str:
    """Algolia's ``created_at`` for an epoch: ``"2017-09-27T23:33:24.000Z"``."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class _BadRequest(Exception):
    pass


class FakeHN(FakeServer):
    """A fake ``https://hn.algolia.com/api/v1``; see the module docstring.

    ``requests`` holds the query parameters of every request received (recorded on arrival,
    before any hang or fault); ``errors`` any crash of the fake itself (assert it is ``[]``).
    Lifecycle, ``fail_next``, ``hang`` and ``wait_for`` come from :class:`FakeServer`; faults
    without a ``body`` answer Algolia's ``{"message": "Too Many Requests", "status": 429}``
    (``Retry-After: 1`` unless ``retry_after``) or ``{"message": "Internal Server Error", ...}``.
    """

    requests: list[dict[str, str]]

    def __init__(self, *, pagination_limit: int = 1000):
        super().__init__()
        self.pagination_limit = pagination_limit
        self._hits: list[dict[str, Any]] = []
        self._ids = itertools.count(40_000_000)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/api/v1`` (no trailing slash, like the real base URL)."""
        return self.url + API_PREFIX

    # ---------------------------------------------------------------------- data

    def add_hit(
        self,
        *,
        object_id: str | int | None = None,
        author: str = "hnuser",
        created_at_i: int | None = None,
        comment_text: str | None = None,
        title: str | None = None,
        story_text: str | None = None,
        url: str | None = None,
        story_id: int | None = None,
        story_title: str | None = None,
        story_url: str | None = None,
        parent_id: int | None = None,
        points: int | None = None,
        num_comments: int | None = None,
        tags: list[str] | None = None,
    ) -> dict[str, Any]:
        """Add a comment (when ``comment_text`` is given) or a story; returns the stored hit.

        Defaults follow Algolia: a comment has null points/num_comments and
        ``_tags = ["comment", "author_<a>", "story_<story_id>"]``; a story has points 1,
        num_comments 0 and ``_tags = ["story", "author_<a>", "story_<objectID>"]``.
        ``created_at_i`` defaults to now.
        """
        is_comment = comment_text is not None
        with self._lock:
            object_id = str(object_id if object_id is not None else next(self._ids))
        if created_at_i is None:
            created_at_i = int(time.time())
        if not is_comment:
            points = 1 if points is None else points
            num_comments = 0 if num_comments is None else num_comments
        if tags is None:
            tag_id = story_id if is_comment else object_id
            tags = ["comment" if is_comment else "story", f"author_{author}"]
            if tag_id is not None:
                tags.append(f"story_{tag_id}")
        hit = {
            "created_at": created_at(created_at_i),
            "title": title,
            "url": url,
            "author": author,
            "points": points,
            "story_text": story_text,
            "comment_text": comment_text,
            "num_comments": num_comments,
            "story_id": story_id,
            "story_title": story_title,
            "story_url": story_url,
            "parent_id": parent_id,
            "created_at_i": created_at_i,
            "_tags": list(tags),
            "objectID": object_id,
        }
        with self._lock:
            self._hits.append(hit)
        return copy.deepcopy(hit)

    def load_fixture(self, path: str | Path) -> list[dict[str, Any]]:
        """Add the hits of a JSON file: an Algolia response (``{"hits": [...]}``) or a list.

        Missing keys become null; ``_highlightResult`` is recomputed per query.
        """
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        raw_hits = data["hits"] if isinstance(data, dict) else data
        added = []
        with self._lock:
            for raw in raw_hits:
                hit = {key: raw.get(key) for key in HIT_KEYS}
                hit["objectID"] = str(raw["objectID"])
                if hit["created_at"] is None and hit["created_at_i"] is not None:
                    hit["created_at"] = created_at(hit["created_at_i"])
                hit["_tags"] = list(raw.get("_tags") or [])
                self._hits.append(hit)
                added.append(copy.deepcopy(hit))
        return added

    def hits(self) -> list[dict[str, Any]]:
        """Every stored hit (without ``_highlightResult``), in the order added."""
        with self._lock:
            return copy.deepcopy(self._hits)

    def clear(self) -> None:
        """Forget hits, recorded requests, errors, pending faults and the hang."""
        with self._lock:
            self._hits.clear()
            self.requests.clear()
            self.errors.clear()
            self._faults.clear()
            self._hang = 0.0

    # ------------------------------------------------------------------ routing

    def record(self, req: Recorded) -> dict[str, str]:
        return dict(req.params)

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return {"message": message, "status": status}

    def route(self, req: Recorded) -> Answer:
        if req.method != "GET":
            return 501, {"Content-Type": "text/plain"}, b"Unsupported method"
        return self._search(req.path, req.params, req.raw_query)

    def _search(self, path: str, params: dict[str, str], raw_query: str) -> Answer:
        if path not in (f"{API_PREFIX}/search_by_date", f"{API_PREFIX}/search"):
            return json_response(self.error_body(404, "Not Found"), status=404)
        try:
            response = self._answer(path, params, raw_query)
        except _BadRequest as exc:
            return json_response(self.error_body(400, str(exc)), status=400)
        return json_response(response)

    def _answer(self, path: str, params: dict[str, str], raw_query: str) -> dict[str, Any]:
        query = params.get("query", "")
        terms = _terms(query)
        tag_groups = _tag_groups(params.get("tags", ""))
        filters = _numeric_filters(params.get("numericFilters", ""))
        per_page = _int_param(params, "hitsPerPage", DEFAULT_HITS_PER_PAGE)
        per_page = max(1, min(per_page, MAX_HITS_PER_PAGE))
        page = max(0, _int_param(params, "page", 0))

        matched = [
            h
            for h in self._hits
            if _matches_query(h, terms)
            and _matches_tags(h, tag_groups)
            and _matches_numeric(h, filters)
        ]
        if path.endswith("/search_by_date"):
            matched.sort(key=lambda h: h["created_at_i"] or 0, reverse=True)
        else:
            matched.sort(key=lambda h: (h["points"] or 0, h["created_at_i"] or 0), reverse=True)
        reachable = matched[: self.pagination_limit]
        page_hits = reachable[page * per_page : (page + 1) * per_page]
        nb_pages = 0
        if matched:
            nb_pages = min(math.ceil(len(matched) / per_page), self.pagination_limit // per_page)
            nb_pages = max(nb_pages, 1)
        return {
            "hits": [_with_highlight(h, terms) for h in page_hits],
            "nbHits": len(matched),
            "page": page,
            "nbPages": nb_pages,
            "hitsPerPage": per_page,
            "exhaustiveNbHits": True,
            "exhaustiveTypo": True,
            "exhaustive": {"nbHits": True, "typo": True},
            "query": query,
            "params": "advancedSyntax=true&analytics=false"
            + (f"&{raw_query}" if raw_query else ""),
            "processingTimeMS": 1,
        }


# ---------------------------------------------------------------------- functions


def _int_param(params: dict[str, str], name: str, default: int) -> int:
    value = params.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise _BadRequest(f"Invalid value for parameter {name}: {value!r}") from None


def _terms(query: str) -> list[str]:
    """Lower-cased words and ``"quoted phrases"`` of a query."""
    return [
        (phrase or word).lower()
        for phrase, word in re.findall(r'"([^"]+)"|(\S+)', query)
        if (phrase or word).strip('"')
    ]


def _tag_groups(tags: str) -> list[set[str]]:
    """``"(story,comment),author_pg"`` -> ``[{"story", "comment"}, {"author_pg"}]`` (AND of ORs)."""
    groups = []
    for ored, single in re.findall(r"\(([^)]*)\)|([^,()]+)", tags):
        names = {t.strip() for t in (ored.split(",") if ored else [single]) if t.strip()}
        if names:
            groups.append(names)
    return groups


def _numeric_filters(value: str) -> list[tuple[str, str, float]]:
    filters = []
    for part in value.split(","):
        if not part.strip():
            continue
        match = _NUMERIC_FILTER.match(part)
        if match is None:
            raise _BadRequest(f"Invalid syntax for numeric condition: {part.strip()}")
        field, op, number = match.groups()
        filters.append((field, op, float(number)))
    return filters


def _matches_query(hit: dict[str, Any], terms: list[str]) -> bool:
    haystacks = [str(hit[k]).lower() for k in SEARCHABLE if hit.get(k) is not None]
    return all(any(term in h for h in haystacks) for term in terms)


def _matches_tags(hit: dict[str, Any], groups: list[set[str]]) -> bool:
    tags = set(hit["_tags"])
    return all(group & tags for group in groups)


def _matches_numeric(hit: dict[str, Any], filters: list[tuple[str, str, float]]) -> bool:
    for field, op, number in filters:
        value = hit.get(field)
        if not isinstance(value, (int, float)) or not _OPS[op](value, number):
            return False
    return True


def _with_highlight(hit: dict[str, Any], terms: list[str]) -> dict[str, Any]:
    out = copy.deepcopy(hit)
    if "comment" in hit["_tags"]:
        fields = ("author", "comment_text", "story_title", "story_url")
    else:
        fields = ("title", "url", "author", "story_text")
    out["_highlightResult"] = {
        f: _highlight(str(hit[f]), terms) for f in fields if hit.get(f) is not None
    }
    return out


def _highlight(value: str, terms: list[str]) -> dict[str, Any]:
    lowered = value.lower()
    matched = [t for t in terms if t in lowered]
    if not matched:
        return {"value": value, "matchLevel": "none", "matchedWords": []}
    pattern = re.compile(
        "|".join(re.escape(t) for t in sorted(matched, key=len, reverse=True)), re.I
    )
    highlighted = pattern.sub(lambda m: f"<em>{m.group(0)}</em>", value)
    return {
        "value": highlighted,
        "matchLevel": "full" if len(matched) == len(terms) else "partial",
        "fullyHighlighted": lowered in matched,
        "matchedWords": matched,
    }
