"""Mentions from a JSON Lines file (DESIGN.md's Mention shape): demos, imports and tests.

Cursor: how many lines of the file have been read. Appending lines to the file and polling
again picks up only the new ones. A malformed line is skipped with its line number in
`problems`; the lines around it still count. A last line still being appended (no newline
yet, not valid JSON yet) is left for the next poll.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from bot.config import SourceConfig
from bot.models import Mention, MentionFormatError
from bot.sources.base import FetchResult, SourceError
from bot.text import normalise_space

NAME = "replay"


def read_jsonl(lines, *, start: int = 0) -> tuple[list[tuple[int, Mention]], list[str], int]:
    """Parse JSON Lines from an iterable of strings or bytes. Returns ([(line_no, mention)],
    problems, lines_read). Blank lines count as lines but hold nothing. A last line without
    its newline that does not parse yet is not counted: a writer may still be appending it."""
    mentions: list[tuple[int, Mention]] = []
    problems: list[str] = []
    count = start
    for number, line in enumerate(lines, start=1):
        if number <= start:
            continue
        if isinstance(line, bytes):
            try:
                line = line.decode("utf-8")
            except UnicodeDecodeError:
                problems.append(f"line {number}: not UTF-8 text (save the file as UTF-8)")
                count = number
                continue
        whole = line.endswith("\n")
        if not line.strip():
            count = number if whole else count
            continue
        try:
            mention = Mention.from_json(json.loads(line))
        except json.JSONDecodeError as exc:
            if not whole:
                break  # still being written: read it again next time
            problems.append(f"line {number}: not valid JSON ({exc.msg})")
            count = number
            continue
        except MentionFormatError as exc:
            problems.append(f"line {number}: {exc}")
            count = number
            continue
        mentions.append((number, mention))
        count = number
    return mentions, problems, count


class Replay:
    name = NAME

    def __init__(self, config: SourceConfig, path: Path):
        self.config = config
        self.path = Path(path)

    def fetch(self, cursors: dict[str, str], *, now: datetime) -> FetchResult:
        start = int(cursors.get(str(self.path), "0") or 0)
        try:
            with self.path.open("rb") as fh:  # bytes: one line that is not UTF-8 is named
                parsed, problems, read = read_jsonl(fh, start=start)
        except FileNotFoundError:
            raise SourceError(
                f"replay file {self.path} does not exist: check [sources.replay] path"
            ) from None
        except OSError as exc:
            raise SourceError(f"cannot read replay file {self.path}: {exc}") from None
        mentions = [
            replace(m, text=normalise_space(m.text), title=normalise_space(m.title))
            for _, m in parsed
        ]
        return FetchResult(
            mentions=mentions,
            cursors={str(self.path): str(read)},
            problems=[f"{self.path}: {p}" for p in problems],
        )
