"""Mentions from a JSON Lines file (DESIGN.md's Mention shape): demos, imports and tests.

Cursor: how many lines of the file have been read. Appending lines to the file and polling
again picks up only the new ones. A malformed line is skipped with its line number in
`problems`; the lines around it still count.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from bot.config import SourceConfig
from bot.models import Mention, MentionFormatError
from bot.sources.base import FetchResult, SourceError
from bot.text import normalise_space

NAME = "replay"


def read_jsonl(lines, *, start: int = 0) -> tuple[list[tuple[int, Mention]], list[str], int]:
    """Parse JSON Lines from an iterable of strings. Returns ([(line_no, mention)], problems,
    lines_read). Blank lines count as lines but hold nothing."""
    mentions: list[tuple[int, Mention]] = []
    problems: list[str] = []
    count = 0
    for count, line in enumerate(lines, start=1):
        if count <= start or not line.strip():
            continue
        try:
            mention = Mention.from_json(json.loads(line))
        except json.JSONDecodeError as exc:
            problems.append(f"line {count}: not valid JSON ({exc.msg})")
            continue
        except MentionFormatError as exc:
            problems.append(f"line {count}: {exc}")
            continue
        mentions.append((count, mention))
    return mentions, problems, max(count, start)


class Replay:
    name = NAME

    def __init__(self, config: SourceConfig, path: Path):
        self.config = config
        self.path = Path(path)

    def fetch(self, cursors: dict[str, str], *, now: datetime) -> FetchResult:
        start = int(cursors.get(str(self.path), "0") or 0)
        try:
            with self.path.open(encoding="utf-8") as fh:
                parsed, problems, read = read_jsonl(fh, start=start)
        except FileNotFoundError:
            raise SourceError(
                f"replay file {self.path} does not exist: check [sources.replay] path"
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise SourceError(f"cannot read replay file {self.path}: {exc}") from None
        mentions = [Mention(**{**m.__dict__, "text": normalise_space(m.text)}) for _, m in parsed]
        return FetchResult(
            mentions=mentions,
            cursors={str(self.path): str(read)},
            problems=[f"{self.path}: {p}" for p in problems],
        )
