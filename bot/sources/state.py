"""Small, non-secret values a source keeps across restarts (the `source_state` table).

X keeps the posts it read in the last hour (reads are paid, and a restart must not reset the
cap); Bluesky keeps the times of its recent logins (30 per 5 minutes are allowed). Tokens and
passwords are never stored here: DESIGN.md keeps credentials out of the database.

Without a database (a dry run before the first real poll, a unit test) the values live in
memory only. The database file is never created from here. With a read-only store (a dry run
on an existing database) they are read from it, and what changes stays in memory.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class SourceState:
    def __init__(self, source: str, store=None):
        self.source = source
        self.store = store
        self._memory: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        """The JSON value stored under `key`, read from the database once per process."""
        if key not in self._memory:
            value = default
            if self._usable():
                try:
                    raw = self.store.source_state_get(self.source, key)
                    value = json.loads(raw) if raw is not None else default
                except (sqlite3.Error, ValueError) as exc:
                    log.debug("%s: cannot read state %r: %s", self.source, key, exc)
            self._memory[key] = value
        return self._memory[key]

    def set(self, key: str, value: Any) -> None:
        self._memory[key] = value
        if self._usable() and not getattr(self.store, "readonly", False):
            try:
                self.store.source_state_set(self.source, key, json.dumps(value))
            except sqlite3.Error as exc:
                log.warning("%s: cannot save state %r: %s", self.source, key, exc)

    def _usable(self) -> bool:
        return self.store is not None and Path(self.store.path).exists()
