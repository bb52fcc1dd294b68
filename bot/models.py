"""The shapes that travel between sources, scoring, storage and Slack."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime


class MentionFormatError(ValueError):
    """A JSON Lines record that is not a mention; the message names the field to fix."""


@dataclass(frozen=True)
class Mention:
    """One public post that names the brand, normalised from any platform.

    `text` is plain text (HTML already stripped, entities decoded); it is escaped for Slack
    only when a message is built.
    """

    source: str
    external_id: str
    text: str
    author: str = ""
    author_name: str = ""
    followers: int | None = None
    url: str = ""
    created_at: datetime | None = None
    metrics: dict[str, int] = field(default_factory=dict)
    lang: str | None = None
    title: str = ""

    def to_json(self) -> dict:
        """The Mention JSON Lines shape from DESIGN.md (what `score`, `demo` and `replay` read)."""
        data = {
            "source": self.source,
            "id": self.external_id,
            "text": self.text,
            "author": self.author,
            "author_name": self.author_name,
            "followers": self.followers,
            "url": self.url,
            "created_at": iso(self.created_at) if self.created_at else None,
            "metrics": dict(self.metrics),
        }
        if self.lang:
            data["lang"] = self.lang
        if self.title:
            data["title"] = self.title
        return data

    @classmethod
    def from_json(cls, data: object) -> Mention:
        """Build a Mention from one decoded JSON Lines object; only source, id and text are
        required. Raises MentionFormatError naming the field that is wrong."""
        if not isinstance(data, dict):
            raise MentionFormatError("each line must be a JSON object")
        for key in ("source", "id", "text"):
            value = data.get(key)
            if value is None or value == "":
                raise MentionFormatError(f"missing required field {key!r}")
        if not isinstance(data["text"], str):
            raise MentionFormatError("field 'text' must be a string")
        followers = data.get("followers")
        if followers is not None:
            try:
                followers = max(0, int(followers))
            except (TypeError, ValueError):
                raise MentionFormatError("field 'followers' must be a whole number") from None
        metrics = data.get("metrics") or {}
        if not isinstance(metrics, dict):
            raise MentionFormatError("field 'metrics' must be an object")
        try:
            metrics = {str(k): int(v) for k, v in metrics.items() if v is not None}
        except (TypeError, ValueError):
            raise MentionFormatError("field 'metrics' must hold whole numbers") from None
        created = data.get("created_at")
        created_at = None
        if created:
            try:
                created_at = parse_time(str(created))
            except ValueError:
                raise MentionFormatError(
                    f"field 'created_at' is not an ISO 8601 time: {created!r}"
                ) from None
        return cls(
            source=str(data["source"]),
            external_id=str(data["id"]),
            text=data["text"],
            author=str(data.get("author") or ""),
            author_name=str(data.get("author_name") or ""),
            followers=followers,
            url=str(data.get("url") or ""),
            created_at=created_at,
            metrics=metrics,
            lang=data.get("lang") or None,
            title=str(data.get("title") or ""),
        )


@dataclass(frozen=True)
class Score:
    """What the scorer says about a mention. `reasons` are short plain-word phrases."""

    urgency: int
    urgent: bool
    category: str
    sentiment: float
    reasons: list[str]

    def to_json(self) -> dict:
        return asdict(self)


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """UTC ISO 8601 with a trailing Z, second precision: sortable as text in SQLite."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str) -> datetime:
    """Parse an ISO 8601 time (with Z or an offset; naive means UTC)."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
