"""The `mentionops` command: demo, check-config, score, fetch, status, db migrate."""

from __future__ import annotations

import json
import re
import time

import pytest
from click.testing import CliRunner

from bot.cli import main
from storage import Store
from tests.fakes.hn import FakeHN
from tests.fakes.slack import FakeSlack
from tests.support import ALERT_CHANNEL, BOT_TOKEN, write_config
from tests.test_storage import ALL_MIGRATIONS


@pytest.fixture
def runner(monkeypatch, tmp_path):
    for name in list(__import__("os").environ):
        if name.startswith(("SLACK_", "MENTIONOPS_", "X_", "BLUESKY_", "REDDIT_", "MASTODON_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return CliRunner()


def test_demo_runs_the_whole_loop_offline(runner, tmp_path):
    result = runner.invoke(main, ["demo", "--keep", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("mentionops demo: replaying 18 sample mentions of Acme.")
    closing = out.strip().splitlines()[-1]
    match = re.match(
        r"Done: 18 mentions read, 16 about Acme, 16 stored, (\d+) urgent, (\d+) alerts shown "
        r"\(threshold 60\)\. Database: ",
        closing,
    )
    assert match, closing
    urgent, shown = map(int, match.groups())
    assert urgent == shown and urgent >= 6
    assert out.count("[ Claim ]") == shown
    assert "Claimed by @U0DEMOAGENT" in out
    assert "Draft reply opens with a first draft to edit and send:\n  Hi @" in out
    store = Store(tmp_path / "demo" / "demo.db")
    counts = store.counts()
    assert (counts["stored"], counts["urgent"], counts["claimed"]) == (16, urgent, 1)
    # The brand's own post and the excluded "acme anvil sale" were never stored.
    texts = [m["text"] for m in store.open_urgent()] + [store.mention(1)["text"]]
    assert not any("winter update" in t or "anvil sale" in t for t in texts)


def test_check_config_names_every_problem(runner, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[brand]\nname = "Acme"\nterms = ["acme"]\ncolour = "red"\n'
        '[slack]\nalert_channel = "support-alerts"\n'
        "[triage]\nurgency_treshold = 70\n"
        "[sources.myspace]\nenabled = true\n",
        encoding="utf-8",
    )
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}  # the file's problems only
    result = runner.invoke(main, ["--config", str(bad), "check-config"], env=env)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "4 problem(s) to fix:",
        f"  - {bad}: [brand] unknown key 'colour'",
        f"  - {bad}: [slack] alert_channel must be a channel ID like C0123ABCD (in Slack: "
        "channel name > About > Channel ID), not 'support-alerts'",
        f"  - {bad}: [triage] unknown key 'urgency_treshold' (did you mean 'urgency_threshold'?)",
        f"  - {bad}: unknown source [sources.myspace]; known: hackernews, bluesky, mastodon, x, "
        "reddit, rss, replay",
    ]


def test_check_config_names_missing_variables(runner, tmp_path):
    config = write_config(tmp_path, extra="\n[sources.x]\nenabled = true\n")
    result = runner.invoke(main, ["--config", str(config), "check-config"])
    assert result.exit_code == 1
    assert "SLACK_BOT_TOKEN is not set" in result.output
    assert "Set SLACK_APP_TOKEN (xapp-..., Socket Mode) or SLACK_SIGNING_SECRET" in result.output
    assert "[sources.x] is enabled but X_BEARER_TOKEN is not set" in result.output
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1", "X_BEARER_TOKEN": "t"}
    ok = runner.invoke(main, ["--config", str(config), "check-config"], env=env)
    assert ok.exit_code == 0, ok.output
    assert ok.output.endswith("is valid. Sources: x. Environment: all set.\n")


def test_score_reads_json_lines_and_adds_fields(runner, tmp_path):
    lines = [
        {
            "source": "x",
            "id": "1",
            "text": "Acme charged me twice, refund please!",
            "followers": 12,
        },
        {"source": "x", "id": "2", "text": "Acme is lovely today"},
    ]
    stdin = "\n".join(json.dumps(x) for x in lines) + "\n{not json\n" + '{"source": "x"}\n'
    result = runner.invoke(main, ["score"], input=stdin)
    assert result.exit_code == 1  # two bad lines, named on stderr; the good ones still scored
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["1", "2"]
    for o in out:
        assert set(o) >= {"urgency", "urgent", "category", "sentiment", "reasons"}
    assert out[0]["urgent"] is True and out[0]["category"] == "billing"
    assert out[1]["urgent"] is False
    assert result.stderr.splitlines() == [
        "line 3: skipped: Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)",
        "line 4: skipped: missing required field 'id'",
    ]


def test_fetch_dry_run_prints_and_stores_nothing(runner, tmp_path):
    with FakeHN() as hn:
        hn.add_hit(
            object_id="7",
            author="dana",
            created_at_i=int(time.time()) - 60,
            comment_text="Acme billed me twice and support won&#x27;t answer. Refund!",
        )
        config = write_config(tmp_path, hn_url=hn.base_url)
        result = runner.invoke(main, ["--config", str(config), "fetch", "--once", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Acme billed me twice and support won't answer. Refund!" in result.output
    assert result.output.strip().endswith(
        "hackernews: 1 fetched, 1 about Acme, 1 urgent (dry run: nothing stored or posted)"
    )
    assert not (tmp_path / "mentionops.db").exists()


def test_fetch_once_posts_to_slack(runner, tmp_path):
    with FakeHN() as hn, FakeSlack(token=BOT_TOKEN) as slack:
        hn.add_hit(
            object_id="7",
            author="dana",
            created_at_i=int(time.time()) - 60,
            comment_text="Acme billed me twice and support won't answer. Refund!",
        )
        config = write_config(tmp_path, hn_url=hn.base_url)
        env = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": slack.base_url}
        result = runner.invoke(
            main, ["--config", str(config), "fetch", "--once", "--source", "hackernews"], env=env
        )
        assert result.exit_code == 0, result.output
        assert result.output.endswith(
            "hackernews: 1 fetched, 1 about Acme, 1 new, 1 urgent, 1 posted\n"
        )
        assert len(slack.messages(ALERT_CHANNEL)) == 1
        status = runner.invoke(main, ["--config", str(config), "status"])
    assert status.exit_code == 0
    assert "✅ 🟧 Hacker News: last good poll just now, 1 new mentions so far" in status.output


def test_fetch_without_token_says_what_to_do(runner, tmp_path):
    config = write_config(tmp_path, hn_url="http://127.0.0.1:9")
    result = runner.invoke(main, ["--config", str(config), "fetch", "--once"])
    assert result.exit_code == 2
    assert "SLACK_BOT_TOKEN is not set: set it to post alerts, or use --dry-run." in result.output


def test_missing_config_file_is_named(runner, tmp_path):
    result = runner.invoke(main, ["--config", str(tmp_path / "nope.toml"), "fetch", "--once"])
    assert result.exit_code == 2
    assert "nope.toml: config file not found" in result.output


def test_db_migrate_is_idempotent(runner, tmp_path):
    path = tmp_path / "x.db"
    first = runner.invoke(main, ["--db", str(path), "db", "migrate"])
    second = runner.invoke(main, ["--db", str(path), "db", "migrate"])
    assert (first.output, second.output) == (
        f"{path}: applied {', '.join(ALL_MIGRATIONS)}\n",
        f"{path}: up to date\n",
    )


def test_check_config_names_file_and_environment_problems_at_once(runner, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[brand]\nname = "Acme"\nterms = ["acme"]\n[slack]\nalert_channel = "C0ALERTS"\n'
        '[triage]\nsla_minutes = "20"\n[sources.x]\nenabled = true\n',
        encoding="utf-8",
    )
    result = runner.invoke(main, ["--config", str(bad), "check-config"])
    assert (result.exit_code, result.output.splitlines()) == (
        1,
        [
            "4 problem(s) to fix:",
            f"  - {bad}: [triage] sla_minutes must be a whole number",
            "  - SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-...) from "
            "your Slack app's OAuth & Permissions page.",
            "  - Set SLACK_APP_TOKEN (xapp-..., Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode): "
            "both are on your Slack app's Basic Information page.",
            "  - [sources.x] is enabled but X_BEARER_TOKEN is not set; that source will be "
            "skipped until it is.",
        ],
    )


def test_fetch_a_disabled_source_says_so(runner, tmp_path):
    config = write_config(tmp_path, extra="\n[sources.hackernews]\nenabled = false\n")
    result = runner.invoke(
        main, ["--config", str(config), "fetch", "--once", "--dry-run", "--source", "hackernews"]
    )
    assert (result.exit_code, result.output) == (
        2,
        f"[sources.hackernews] is disabled in {config}: set enabled = true to poll it.\n",
    )


def test_fetch_dry_run_leaves_no_temporary_database(runner, tmp_path, monkeypatch):
    import tempfile

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    with FakeHN() as hn:
        config = write_config(tmp_path, hn_url=hn.base_url)
        result = runner.invoke(main, ["--config", str(config), "fetch", "--once", "--dry-run"])
    assert (result.exit_code, list(scratch.iterdir())) == (0, [])


def test_score_names_a_line_that_is_not_utf8_and_scores_the_rest(runner, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_bytes(
        b'{"source": "x", "id": "1", "text": "Acme is lovely today"}\n'
        b"\xff\xfe not text\n"
        b'{"source": "x", "id": "2", "text": "Acme is lovely today"}\n'
    )
    result = runner.invoke(main, ["score", str(source)])
    assert (
        result.exit_code,
        [json.loads(line)["id"] for line in result.stdout.splitlines()],
        result.stderr,
    ) == (1, ["1", "2"], "line 2: skipped: not UTF-8 text\n")


def _dump(path) -> str:
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(path)) as db:
        return "\n".join(db.iterdump())


def test_fetch_dry_run_reads_the_database_without_writing_to_it(runner, tmp_path, monkeypatch):
    """Cursors and repeat authors come from the existing database, opened read-only."""
    cursor = int(time.time()) - 600
    store = Store(tmp_path / "mentionops.db")
    store.migrate()
    store.save_batch("hackernews", [], cursors={"acme": str(cursor)})
    store.close()
    before = _dump(tmp_path / "mentionops.db")

    def no_migrate(self):
        raise AssertionError("a dry run must not migrate the database")

    monkeypatch.setattr(Store, "migrate", no_migrate)
    with FakeHN() as hn:
        hn.add_hit(
            object_id="7",
            author="dana",
            created_at_i=int(time.time()) - 60,
            comment_text="Acme billed me twice and support won't answer. Refund!",
        )
        config = write_config(tmp_path, hn_url=hn.base_url)
        result = runner.invoke(main, ["--config", str(config), "fetch", "--once", "--dry-run"])
        asked = {r["query"]: r["numericFilters"] for r in hn.requests}
    assert result.exit_code == 0, result.output
    assert "1 urgent (dry run: nothing stored or posted)" in result.output
    assert asked["acme"] == f"created_at_i>{cursor - 120}"  # the stored cursor was used
    assert _dump(tmp_path / "mentionops.db") == before


def test_fetch_dry_run_on_an_older_schema_says_so_and_leaves_it_alone(runner, tmp_path):
    from sqlite_utils import Database

    from storage.migrations import migrations

    old = Database(str(tmp_path / "mentionops.db"))
    migrations.apply(old, stop_before=ALL_MIGRATIONS[-2])
    old.close()
    before = _dump(tmp_path / "mentionops.db")
    with FakeHN() as hn:
        config = write_config(tmp_path, hn_url=hn.base_url)
        result = runner.invoke(main, ["--config", str(config), "fetch", "--once", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "is older than this version of mentionops (2 schema update(s) pending" in (result.output)
    assert _dump(tmp_path / "mentionops.db") == before
    assert Store(tmp_path / "mentionops.db").pending_migrations() == ALL_MIGRATIONS[-2:]
