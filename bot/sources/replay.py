"""Mentions from a JSON Lines file (DESIGN.md's Mention shape): demos, imports and tests.

Cursor: how many lines of the file have been read, with the file's size then and a hash of its
first line: `{"lines": 12, "size": 3456, "head": "<sha256>"}` (a plain line count is what older
versions wrote, and is still understood). Appending lines to the file and polling again picks up
only the new ones. A file that was replaced or rewritten (rotated: now smaller, with fewer
lines, or with another first line) is read again from the top; the database's UNIQUE
(source, id) drops the mentions already stored. A malformed line is skipped with its line
number in `problems`; the lines around it still count. A last line still being appended (no
newline yet, not valid JSON yet) is left for the next poll.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from bot.config import SourceConfig
from bot.models import Mention, MentionFormatError
from bot.sources.base import FetchResult, SourceError
from bot.text import normalise_space

log = logging.getLogger(__name__)

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
        key = str(self.path)
        start, size, head = _cursor(cursors.get(key))
        try:
            parsed, problems, read, seen = self._read(start)
            if start and (
                seen.lines < start
                or (size is not None and seen.size < size)
                or (head is not None and seen.head is not None and seen.head != head)
            ):
                log.info("%s was replaced or rewritten: reading it again from the top", key)
                parsed, problems, read, seen = self._read(0)
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
        cursor = {"lines": read, "size": seen.size}
        if seen.head is not None:
            cursor["head"] = seen.head
        return FetchResult(
            mentions=mentions,
            cursors={key: json.dumps(cursor, sort_keys=True)},
            problems=[f"{self.path}: {p}" for p in problems],
        )

    def _read(self, start: int):
        with self.path.open("rb") as fh:  # bytes: one line that is not UTF-8 is named
            seen = _Seen(fh)
            parsed, problems, read = read_jsonl(seen, start=start)
            for _ in seen:  # the lines after a half-written one still count for the size
                pass
        return parsed, problems, read, seen


class _Seen:
    """Lines of a binary file as they are read, noting how many, their bytes, and a hash of
    the first line once it is whole."""

    def __init__(self, fh):
        self._lines = iter(fh)
        self.lines = 0
        self.size = 0
        self.head: str | None = None

    def __iter__(self):
        return self

    def __next__(self) -> bytes:
        line = next(self._lines)
        self.lines += 1
        self.size += len(line)
        if self.lines == 1 and line.endswith(b"\n"):
            self.head = hashlib.sha256(line).hexdigest()
        return line


def _cursor(cursor: str | None) -> tuple[int, int | None, str | None]:
    """(lines read, file size then, first line's hash) from a cursor; a plain number is a
    line count (older versions), anything unreadable reads the file from the top."""
    if not cursor:
        return 0, None, None
    try:
        value = json.loads(cursor)
    except ValueError:
        return 0, None, None
    if isinstance(value, int):
        return max(0, value), None, None
    if not isinstance(value, dict):
        return 0, None, None
    try:
        lines = max(0, int(value.get("lines") or 0))
        size = int(value["size"]) if value.get("size") is not None else None
    except (TypeError, ValueError):
        return 0, None, None
    head = value.get("head")
    return lines, size, head if isinstance(head, str) else None
