"""Fixtures shared by several test modules (helpers that are not fixtures: tests/support.py)."""

from __future__ import annotations

import pytest

from tests.support import SourceMaker


@pytest.fixture
def make_source():
    """``make_source(Cls, *args, **kwargs)`` builds a source with a 5 s HTTP client and a sleep
    recorder (``source.sleeps``); the clients are closed after the test."""
    maker = SourceMaker()
    yield maker
    maker.close()
