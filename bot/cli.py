"""The `mentionops` command. Logging is configured here, once."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import sys
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import click

from bot import __version__

log = logging.getLogger("mentionops")


class Shutdown(SystemExit):
    """Raised in the main thread by SIGTERM/SIGINT; waitress stops its loop on SystemExit."""


def setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # slack_sdk logs request bodies at DEBUG; keep tokens and payloads out of the log.
    for noisy in ("slack_sdk", "slack_bolt", "urllib3", "httpx", "httpcore", "apscheduler"):
        logging.getLogger(noisy).setLevel(
            logging.INFO if noisy == "apscheduler" else logging.WARNING
        )
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)


def load_settings(ctx: click.Context, *, required: bool = True):
    from bot.config import ConfigError, Settings

    try:
        return Settings.load(path=ctx.obj["config"], db_path=ctx.obj["db"])
    except ConfigError as exc:
        if not required:
            return None
        click.echo("The configuration needs fixing:", err=True)
        for problem in exc.problems:
            click.echo(f"  - {problem}", err=True)
        ctx.exit(2)


@click.group()
@click.version_option(__version__, prog_name="mentionops")
@click.option(
    "--config",
    type=click.Path(dir_okay=False),
    help="Config file (default: $MENTIONOPS_CONFIG, else ./mentionops.toml).",
)
@click.option(
    "--db",
    type=click.Path(dir_okay=False),
    help="SQLite file (default: $MENTIONOPS_DB, else ./mentionops.db).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail.")
@click.pass_context
def main(ctx: click.Context, config: str | None, db: str | None, verbose: bool) -> None:
    """mentionops: urgent public complaints about your brand, routed to your team in Slack."""
    setup_logging(verbose)
    ctx.ensure_object(dict)
    ctx.obj.update(config=config, db=db)


# --- run ------------------------------------------------------------------------------------


@main.command()
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on.")
@click.option("--port", default=3000, show_default=True, type=int, help="Port to listen on.")
@click.pass_context
def run(ctx: click.Context, host: str, port: int) -> None:
    """Poll the sources and serve Slack: Socket Mode when SLACK_APP_TOKEN is set, else HTTP
    (POST /slack/events) on --port. GET /healthz is served in both modes."""

    # First thing: SIGTERM or SIGINT during start-up (migrating, settling interrupted alerts,
    # connecting to Slack) stops it cleanly as well, undoing what was started, with exit 0.
    def stop(signum, frame):
        raise Shutdown(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    undo = contextlib.ExitStack()  # what start-up has opened, closed again on an early stop
    try:
        server, scheduler, lease, socket_handler, sources, socket_mode = _start(
            ctx, host, port, undo
        )
    except Shutdown:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        log.info("Stopping during start-up")
        undo.close()
        log.info("Stopped")
        return
    undo.pop_all()  # from here on the shutdown below closes everything
    finished = True
    try:
        lease.step(scheduler)  # starts the scheduler if the lease is ours, else says who has it
        lease.run_forever(scheduler)
        log.info(
            "mentionops %s listening on http://%s:%s (%s); polling %s",
            __version__,
            host,
            server.effective_port,
            "health only, Socket Mode" if socket_mode else "POST /slack/events, GET /healthz",
            ", ".join(sources) or "nothing",
        )
        server.run()
    except Shutdown:
        pass  # a normal stop: exit 0 below
    finally:
        log.info("Stopping: no new polls; finishing what is in flight")
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        lease.stop()  # no more renewals, so the keeper cannot restart the scheduler
        # The SDK's Socket Mode client needs about 3 s to close (its reader waits that long
        # for data): close it while the scheduler winds down, not after.
        closing = None
        if socket_handler is not None:
            closing = threading.Thread(target=socket_handler.close, daemon=True)
            closing.start()
        finished = _stop_scheduler(scheduler, timeout=6.0)
        lease.release()
        if closing is not None:
            closing.join(timeout=3.0)
        server.close()
        log.info("Stopped")
    if not finished:
        # The interpreter joins the scheduler's worker threads on exit, so a poll still
        # waiting on its platform (read timeouts, retries) would hold the exit for minutes.
        # Its cursor has not moved, and an alert left half-sent is settled by the outbox
        # at the next start, so leaving it loses nothing.
        logging.shutdown()
        os._exit(0)


def _start(ctx: click.Context, host: str, port: int, undo: contextlib.ExitStack):
    """Everything `run` sets up before it serves; each thing opened is pushed onto `undo`.
    Returns (server, scheduler, lease, socket handler or None, sources, socket_mode)."""
    from slack_bolt.error import BoltError

    from bot.app import Services, build_app
    from bot.config import missing_environment
    from bot.escalation import Escalator, LeaseKeeper
    from bot.pipeline import Pipeline
    from bot.poster import SlackPoster
    from bot.scheduler import build_scheduler, job_states
    from bot.server import make_server, wsgi_app
    from bot.slack import make_client
    from bot.sources import build_sources
    from storage import Store

    settings = load_settings(ctx)
    problems = [p for p in missing_environment(settings, serving=True) if "SLACK" in p]
    if problems:
        for problem in problems:
            click.echo(f"Cannot start: {problem}", err=True)
        ctx.exit(2)
    store = Store(settings.db_path)
    undo.callback(store.close)
    store.migrate()
    client = make_client(settings)
    poster = SlackPoster(client, store, settings)
    sources, skipped = build_sources(settings)
    for line in skipped:
        log.warning("Source %s", line)
    if not sources:
        log.warning(
            "No source can run: enable one under [sources.NAME] in %s", settings.config_path
        )
    pipeline = Pipeline(settings, store, sources, poster)
    escalator = Escalator(settings, store, client, poster=poster)
    digest = None
    if settings.digest.enabled:
        from bot.digest import DigestJob

        digest = DigestJob(store, settings, client)
    scheduler = build_scheduler(pipeline, poster, escalator=escalator, digest=digest)
    socket_mode = bool(settings.secrets.get("SLACK_APP_TOKEN"))
    # One process polls and pings per database: the other waits as standby (bot/escalation.py).
    lease = LeaseKeeper(store)
    undo.callback(lease.release)

    def health() -> tuple[bool, dict]:
        if not lease.held:
            return True, {
                "status": "standby",
                "mode": "socket" if socket_mode else "http",
                "scheduler": "standby",
                **lease.health(),
            }
        running = scheduler.running
        rows = {h["source"]: h for h in store.health()}
        return running, {
            "status": "ok" if running else "stopped",
            "mode": "socket" if socket_mode else "http",
            "scheduler": "running" if running else "stopped",
            "jobs": job_states(scheduler) if running else {},
            "sources": {
                name: {
                    k: rows.get(name, {}).get(k)
                    for k in ("last_success", "last_error", "consecutive_failures", "next_run")
                }
                for name in sources
            },
            "skipped": skipped,
        }

    services = Services(
        settings=settings, store=store, poster=poster, health=health, escalator=escalator
    )
    try:
        app = build_app(services, client)
    except BoltError as exc:
        click.echo(
            f"Slack did not accept SLACK_BOT_TOKEN ({exc}). Copy the Bot User OAuth Token "
            "(xoxb-...) from your app's OAuth & Permissions page"
            + (
                f" and check SLACK_API_URL={settings.slack_api_url}"
                if settings.slack_api_url
                else ""
            )
            + ".",
            err=True,
        )
        ctx.exit(2)

    # Only the lease holder settles interrupted posts: a standby must not touch the outbox the
    # running process is sending from.
    if lease.acquire():
        try:
            poster.reconcile()
        except Exception as exc:  # noqa: BLE001 - a failed reconcile must not block start-up
            log.error("Could not check Slack for interrupted alerts (%s); they stay queued.", exc)

    server = make_server(wsgi_app(None if socket_mode else app, health), host, port)
    undo.callback(server.close)
    socket_handler = None
    if socket_mode:
        from slack_sdk.errors import SlackApiError

        try:
            socket_handler = _connect_socket_mode(app, settings.secrets.get("SLACK_APP_TOKEN"))
        except SlackApiError as exc:
            lease.release()
            server.close()
            store.close()
            click.echo(
                f"Slack did not accept SLACK_APP_TOKEN ({exc.response.get('error')}). Create an "
                "app-level token with the connections:write scope on your app's Basic "
                "Information page (App-Level Tokens); it starts with xapp-.",
                err=True,
            )
            ctx.exit(2)

    return server, scheduler, lease, socket_handler, sources, socket_mode


def _connect_socket_mode(app, app_token: str):
    """Open the Socket Mode connection; a started SocketModeHandler. Raises SlackApiError when
    Slack refuses the app token (nothing is left running then)."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    # Ask for the WebSocket URL here rather than inside handler.connect(): the SDK would log
    # Slack's refusal as an ERROR with the whole response before raising it, and its client
    # starts threads as soon as it is built.
    url = app.client.apps_connections_open(app_token=app_token)["url"]
    handler = SocketModeHandler(app, app_token)
    handler.client.wss_uri = url  # connect() uses it instead of asking for another
    try:
        handler.connect()
    except BaseException:
        handler.close()
        raise
    if handler.client.is_connected():
        log.info("Connected to Slack in Socket Mode")
    else:
        # The SDK logs why and does not raise; its monitor retries with a new URL.
        log.warning(
            "Could not open the Socket Mode connection yet; retrying every %s s",
            handler.client.ping_interval,
        )
    return handler


def _stop_scheduler(scheduler, timeout: float) -> bool:
    """Stop scheduling at once, then give running jobs up to `timeout` seconds. False when
    a job was still running after that."""
    if not scheduler.running:
        return True
    scheduler.shutdown(wait=False)
    executor = scheduler._lookup_executor("default")
    pool = getattr(executor, "_pool", None)
    if pool is None:
        return True
    done = threading.Event()

    def wait() -> None:
        pool.shutdown(wait=True)
        done.set()

    threading.Thread(target=wait, daemon=True).start()
    if not done.wait(timeout):
        log.warning(
            "A poll was still running after %.0f s; leaving it (its cursor did not move)", timeout
        )
        return False
    return True


# --- fetch ----------------------------------------------------------------------------------


@main.command()
@click.option("--once", is_flag=True, required=True, help="Poll each source once and exit.")
@click.option("--dry-run", is_flag=True, help="Print what would be posted; store and post nothing.")
@click.option("--source", "only", help="Poll only this source (e.g. hackernews).")
@click.pass_context
def fetch(ctx: click.Context, once: bool, dry_run: bool, only: str | None) -> None:
    """Poll the enabled sources once, for real. With --dry-run, print the alerts instead."""
    from bot import blocks
    from bot.pipeline import Pipeline
    from bot.poster import SlackPoster, TerminalPoster
    from bot.slack import make_client
    from bot.sources import build_sources
    from storage import Store

    settings = load_settings(ctx)
    if only and only not in settings.sources:
        click.echo(
            f"There is no [sources.{only}] in {settings.config_path}. "
            f"Configured: {', '.join(settings.sources) or 'none'}.",
            err=True,
        )
        ctx.exit(2)
    if only and not settings.sources[only].enabled:
        click.echo(
            f"[sources.{only}] is disabled in {settings.config_path}: set enabled = true to "
            "poll it.",
            err=True,
        )
        ctx.exit(2)
    # A dry run writes nothing: cursors, the repeat-author check and the sources' own state
    # are read from the database opened read-only; else from a scratch one, removed at the end.
    store = _dry_run_store(ctx, settings) if dry_run else None
    sources, skipped = build_sources(settings, only=only, store=store)
    for line in skipped:
        click.echo(f"Source {line}", err=True)
    if not sources:
        click.echo("No source to poll.", err=True)
        ctx.exit(1)
    if dry_run:
        poster = TerminalPoster(store, settings)
    else:
        if not settings.secrets.get("SLACK_BOT_TOKEN"):
            click.echo(
                "SLACK_BOT_TOKEN is not set: set it to post alerts, or use --dry-run.", err=True
            )
            ctx.exit(2)
        store = Store(settings.db_path)
        store.migrate()
        poster = SlackPoster(make_client(settings), store, settings)
    pipeline = Pipeline(settings, store, sources, poster)
    failed = 0
    now = datetime.now(UTC)
    for name in sources:
        report = pipeline.run_once(name, dry_run=dry_run)
        if report.error:
            failed += 1
            click.echo(f"{name}: failed: {report.error}", err=True)
            continue
        if dry_run:
            for mention, score in report.scored:
                if score.urgent:
                    click.echo(
                        blocks.render_text(
                            blocks.alert_message(
                                blocks.preview_row(mention, score),
                                now,
                                sla_minutes=settings.triage.sla_minutes,
                            )
                        )
                    )
        click.echo(
            f"{name}: {report.fetched} fetched, "
            f"{report.matched} about {settings.brand.name or 'the brand'}, "
            + (
                f"{report.urgent} urgent (dry run: nothing stored or posted)"
                if dry_run
                else f"{report.new} new, {report.urgent} urgent, {report.posted} posted"
            )
        )
    ctx.exit(1 if failed else 0)


def _dry_run_store(ctx: click.Context, settings):
    """The database read-only when it is there and its schema is current; else a scratch
    database (said why, when there is one), removed when the command ends."""
    import sqlite3

    from storage import Store

    path = Path(settings.db_path)
    if path.exists():
        store = Store(path, readonly=True)
        try:
            pending = store.pending_migrations()
        except sqlite3.Error as exc:
            click.echo(
                f"{path}: cannot read it ({exc}); this dry run uses an empty scratch database "
                "(no cursors: each source looks back lookback_minutes).",
                err=True,
            )
        else:
            if not pending:
                return store
            click.echo(
                f"{path} is older than this version of mentionops ({len(pending)} schema "
                "update(s) pending; `mentionops db migrate` or `run` applies them). A dry run "
                "changes nothing, so it uses an empty scratch database instead (no cursors: "
                "each source looks back lookback_minutes).",
                err=True,
            )
    scratch = ctx.with_resource(tempfile.TemporaryDirectory())
    store = Store(Path(scratch) / "dry-run.db")
    ctx.call_on_close(store.close)
    store.migrate()
    return store


# --- demo -----------------------------------------------------------------------------------


@main.command()
@click.option(
    "--keep", type=click.Path(file_okay=False), help="Keep the demo database in this folder."
)
@click.pass_context
def demo(ctx: click.Context, keep: str | None) -> None:
    """The whole loop offline on bundled sample mentions: fetch, store, score, alert."""
    from bot import replies
    from bot.config import Settings
    from bot.pipeline import Pipeline
    from bot.poster import TerminalPoster
    from bot.sources import build_sources
    from storage import Store

    logging.getLogger("bot").setLevel(logging.WARNING)  # the cards are the output here
    folder = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="mentionops-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    data = resources.files("bot") / "data"
    # The samples are timed as if posted over the last few hours, ending a minute ago.
    lines = (data / "sample_mentions.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    newest = max(datetime.fromisoformat(r["created_at"].replace("Z", "+00:00")) for r in rows)
    shift = datetime.now(UTC) - timedelta(minutes=1) - newest
    with (folder / "sample_mentions.jsonl").open("w", encoding="utf-8") as fh:
        for r in rows:
            moment = datetime.fromisoformat(r["created_at"].replace("Z", "+00:00")) + shift
            r["created_at"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    (folder / "mentionops.toml").write_text(
        (data / "demo.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )

    settings = Settings.load(
        environ={}, path=folder / "mentionops.toml", db_path=str(folder / "demo.db")
    )
    store = Store(settings.db_path)
    store.migrate()
    poster = TerminalPoster(store, settings, echo=click.echo)
    sources, _ = build_sources(settings)
    pipeline = Pipeline(settings, store, sources, poster)
    click.echo(
        f"mentionops demo: replaying {len(rows)} sample mentions of {settings.brand.name}.\n"
    )
    report = pipeline.run_once("replay")
    first = next((m for m in store.open_urgent()), None)
    if first:
        click.echo("\nAn agent clicks Claim on the first alert; the card is updated in place:")
        result = store.claim(first["id"], "U0DEMOAGENT")
        click.echo(poster.render(result.mention))
        draft = replies.first_draft(
            result.mention, agent="Sam", brand=settings.brand.name, voice=settings.replies
        )
        click.echo(f"\nDraft reply opens with a first draft to edit and send:\n  {draft}")
    click.echo(
        f"\nDone: {report.fetched} mentions read, {report.matched} about {settings.brand.name}, "
        f"{report.new} stored, {report.urgent} urgent, {report.posted} alerts shown "
        f"(threshold {settings.triage.urgency_threshold}). Database: {settings.db_path}"
    )


# --- check-config, score, status, db --------------------------------------------------------


@main.command("check-config")
@click.pass_context
def check_config(ctx: click.Context) -> None:
    """Validate the config file and the environment; name everything to fix."""
    from bot.config import ConfigError, Settings, missing_environment

    try:
        settings = Settings.load(path=ctx.obj["config"], db_path=ctx.obj["db"])
    except ConfigError as exc:
        partial = exc.settings
        problems = exc.problems + (missing_environment(partial, serving=True) if partial else [])
        click.echo(f"{len(problems)} problem(s) to fix:")
        for problem in problems:
            click.echo(f"  - {problem}")
        ctx.exit(1)
    env = missing_environment(settings, serving=True)
    enabled = ", ".join(s.name for s in settings.enabled_sources()) or "none"
    if env:
        click.echo(
            f"{settings.config_path} is valid (sources: {enabled}), but the environment is not:"
        )
        for problem in env:
            click.echo(f"  - {problem}")
        ctx.exit(1)
    click.echo(f"{settings.config_path} is valid. Sources: {enabled}. Environment: all set.")


@main.command()
@click.argument("file", type=click.File("rb"), default="-")
@click.pass_context
def score(ctx: click.Context, file) -> None:
    """Score mentions (JSON Lines from FILE or stdin); each is written back with urgency,
    urgent, category, sentiment and reasons added."""
    from bot.config import Brand, Settings, Triage
    from bot.models import MentionFormatError
    from bot.scoring import Scorer

    path = ctx.obj["config"] or os.environ.get("MENTIONOPS_CONFIG")
    if path or Path("mentionops.toml").exists():
        settings: Settings = load_settings(ctx)
        scorer = Scorer(settings.brand, settings.triage)
    else:
        scorer = Scorer(Brand(name="", terms=()), Triage())
    from bot.models import Mention

    bad = 0
    for number, raw in enumerate(file, start=1):  # bytes: a line that is not UTF-8 is named
        if not raw.strip():
            continue
        try:
            data = json.loads(raw.decode("utf-8"))
            mention = Mention.from_json(data)
        except UnicodeDecodeError:
            bad += 1
            click.echo(f"line {number}: skipped: not UTF-8 text", err=True)
            continue
        except (json.JSONDecodeError, MentionFormatError) as exc:
            bad += 1
            click.echo(f"line {number}: skipped: {exc}", err=True)
            continue
        result = scorer.score(mention)
        click.echo(json.dumps({**data, **result.to_json()}, ensure_ascii=False))
    if bad:
        ctx.exit(1)


@main.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """Each source's health: last good poll, failures, next poll."""
    from bot import blocks
    from bot.sources import build_sources, status_extras
    from storage import Store

    settings = load_settings(ctx)
    store = Store(settings.db_path)
    store.migrate()
    _, skipped = build_sources(settings)
    lines = blocks.status_lines(
        store.health(),
        [s.name for s in settings.enabled_sources()],
        skipped,
        datetime.now(UTC),
        status_extras(settings, store),
    )
    click.echo(
        "\n".join(blocks.mrkdwn_to_terminal(line) for line in lines) or "No sources enabled."
    )
    counts = store.counts()
    click.echo(
        f"Mentions: {counts['stored']} stored, {counts['urgent']} urgent, "
        f"{counts.get('posted', 0)} waiting for a claim, {counts.get('claimed', 0)} claimed, "
        f"{counts['unsent']} alerts not yet in Slack."
    )


# --- summary, export (issue 7) ---------------------------------------------------------------


def _reporting(ctx: click.Context):
    """(settings or None, Store, time zone) for the read-only report commands: they work on a
    database alone, with defaults, when there is no usable config file."""
    from bot.config import DEFAULT_CONFIG
    from storage import Store

    settings = None
    if ctx.obj["config"] or os.environ.get("MENTIONOPS_CONFIG") or Path(DEFAULT_CONFIG).exists():
        settings = load_settings(ctx)
    path = ctx.obj["db"] or (
        settings.db_path if settings else os.environ.get("MENTIONOPS_DB", "mentionops.db")
    )
    if not Path(path).exists():
        click.echo(
            f"{path}: no database here yet (run `mentionops run` or `fetch` first).", err=True
        )
        ctx.exit(2)
    store = Store(path)
    store.migrate()
    return settings, store, (settings.digest.timezone if settings else "UTC")


@main.command()
@click.option(
    "--since",
    type=click.Choice(["today", "24h", "7d", "30d"]),
    default="24h",
    show_default=True,
    help="The period: today (local), the last 24 hours, or the last 7 or 30 local days.",
)
@click.option(
    "--chart",
    type=click.Path(dir_okay=False, writable=True),
    help="Also draw the per-day chart into this PNG file.",
)
@click.pass_context
def summary(ctx: click.Context, since: str, chart: str | None) -> None:
    """The manager summary in the terminal: volumes, time to claim and resolve, SLA, by source,
    category and agent, and what urgent mentions talk about."""
    from bot import blocks
    from bot.config import Triage
    from bot.summary import compute, for_settings, period_for

    settings, store, tz = _reporting(ctx)
    now = datetime.now(UTC)
    period = period_for(since, now, tz)
    if settings is not None:
        result = for_settings(store, settings, period, now=now, series=bool(chart))
    else:
        result = compute(
            store, period, sla_minutes=Triage().sla_minutes, now=now, series=bool(chart)
        )
    click.echo(blocks.render_text(blocks.summary_message(result, viewer=None, manager=True)))
    if chart:
        from bot.chart import summary_chart

        Path(chart).write_bytes(
            summary_chart(result.days, f"Mentions: {blocks.period_title(period)}")
        )
        click.echo(f"Chart written to {chart}")


@main.command()
@click.option(
    "--since",
    default="30d",
    show_default=True,
    help="today, 24h, 7d, 30d (local days), any Nd or Nh (rolling), or all.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True
)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, writable=True), help="File (default: stdout)."
)
@click.pass_context
def export(ctx: click.Context, since: str, fmt: str, output: str | None) -> None:
    """Mentions posted in the period, oldest first, as CSV or JSON Lines for BI tools. One row
    a mention, with its claim and resolution times (`first_claim_at` is the first claim)."""
    import csv
    import re

    from bot.summary import PERIODS, period_for
    from storage.reports import EXPORT_COLUMNS, csv_row, export_rows

    _, store, tz = _reporting(ctx)
    now = datetime.now(UTC).replace(microsecond=0)
    rolling = re.fullmatch(r"(\d+)([dh])", since.strip().lower())
    if since in PERIODS:
        start, end = (p := period_for(since, now, tz)).start, p.end
    elif rolling:
        unit = "days" if rolling.group(2) == "d" else "hours"
        start, end = now - timedelta(**{unit: int(rolling.group(1))}), now
    elif since == "all":
        start, end = datetime(1970, 1, 1, tzinfo=UTC), now + timedelta(days=1)
    else:
        raise click.BadParameter(
            f"{since!r}: use today, 24h, 7d, 30d, a number of days or hours (90d, 12h) or all",
            param_hint="--since",
        )
    out = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout  # noqa: SIM115
    count = 0
    try:
        if fmt == "csv":
            writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
            writer.writeheader()
        for row in export_rows(store, start, end):
            count += 1
            if fmt == "csv":
                writer.writerow(csv_row(row))  # formula-looking text stays text
            else:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
    finally:
        if output:
            out.close()
    if output:
        click.echo(f"{count} mentions written to {output}", err=True)


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("migrate")
@click.pass_context
def db_migrate(ctx: click.Context) -> None:
    """Create the database or bring its schema up to date."""
    from bot.config import ConfigError, Settings
    from storage import Store

    path = ctx.obj["db"]
    if not path:
        try:
            path = Settings.load(path=ctx.obj["config"]).db_path
        except ConfigError:
            path = os.environ.get("MENTIONOPS_DB", "mentionops.db")
    applied = Store(path).migrate()
    click.echo(f"{path}: applied {', '.join(applied)}" if applied else f"{path}: up to date")
