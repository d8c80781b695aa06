"""The ``feeds`` command line. It parses options and calls the library; nothing more.

It is the only module that imports click. What it prints is worded by ``feeds.reporting``;
here it only chooses stdout or stderr and the exit code.

Exit codes: 0 success (an update whose sources failed still succeeded), 1 database error,
2 configuration or usage error.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
from rich.console import Console

from feeds import __version__, reporting
from feeds.config import Settings, default_config_path, load_settings
from feeds.errors import ConfigError, StorageError, TransferError
from feeds.models import UpdateSummary
from feeds.progress import update_with_progress
from feeds.recluster import cluster_stored
from feeds.retag import retag
from feeds.retention import age_to_keep, prune
from feeds.storage import Storage
from feeds.storage.engine import shown_url
from feeds.tagging.jsonl import BadLine, tag_json_lines
from feeds.tagging.matcher import TagInput, tag
from feeds.tagging.mesh import MeshFormatError
from feeds.tagging.text import fold
from feeds.tagging.vocabulary import check_mesh, load_rules, mesh_rows
from feeds.transfer import export, import_, open_text
from feeds.update import update as run_update
from feeds.worker import run_until_stopped

EXIT_STORAGE = 1
EXIT_CONFIG = 2

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Config file. Default: $FEEDS_CONFIG, then ./config.yaml.",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="feeds")
def cli() -> None:
    """feeds: health-news topic feeds from RSS/Atom sources."""


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="feeds")


# --- helpers ----------------------------------------------------------------------------


def _fail(message: str, code: int) -> None:
    click.echo(message, err=True)
    sys.exit(code)


def _settings(config_path: Path | None) -> Settings:
    try:
        return load_settings(config_path)
    except ConfigError as exc:
        _config_failure(exc)
        raise  # unreachable: _config_failure exits


def _config_failure(exc: ConfigError) -> None:
    for problem in exc.problems:
        click.echo(problem, err=True)
    sys.exit(EXIT_CONFIG)


@contextmanager
def _storage(settings: Settings) -> Iterator[Storage]:
    """Open and migrate the database; any database error ends the command with exit 1, a
    config problem found while it is open (say, MeSH IDs the vocabulary lacks) with exit 2."""
    storage = None
    try:
        storage = Storage.open(settings.database)
        storage.migrate()
        yield storage
    except StorageError as exc:
        _fail(str(exc), EXIT_STORAGE)
    except ConfigError as exc:
        _config_failure(exc)
    finally:
        if storage is not None:
            storage.close()


# --- commands ---------------------------------------------------------------------------


@cli.command()
@config_option
def check(config_path: Path | None) -> None:
    """Validate the config file; list every problem with its line."""
    path = config_path or default_config_path()
    settings = _settings(path)
    with _storage(settings) as storage:
        mesh = check_mesh(settings, storage)
    if mesh.errors:
        _config_failure(ConfigError("unknown MeSH IDs", settings.problems(mesh.errors)))
    for warning in settings.problems(mesh.warnings):
        click.echo(f"warning: {warning}", err=True)
    click.echo(reporting.check_line(path, settings, mesh))


@cli.command()
@config_option
def migrate(config_path: Path | None) -> None:
    """Create or upgrade the database schema."""
    settings = _settings(config_path)
    with _storage(settings) as storage:
        click.echo(f"database {shown_url(settings.database)} is at revision {storage.revision()}")


@cli.command("update")
@config_option
@click.option("--source", "only", multiple=True, metavar="ID", help="Fetch this source now.")
@click.option("--all", "force", is_flag=True, help="Fetch every enabled source now.")
@json_option
def update_command(
    config_path: Path | None, only: tuple[str, ...], force: bool, as_json: bool
) -> None:
    """Fetch the sources that are due and store their new articles."""
    settings = _settings(config_path)
    console = Console(stderr=True)
    show_progress = console.is_terminal and not as_json
    with _storage(settings) as storage:
        if show_progress:
            summary = update_with_progress(settings, storage, only, force, console)
        else:
            summary = asyncio.run(run_update(settings, storage, only=only, force=force))
    _report(summary, as_json)


@cli.command("sources")
@config_option
@click.option("--failing", is_flag=True, help="Only sources that are failing or gone.")
@json_option
def sources_command(config_path: Path | None, failing: bool, as_json: bool) -> None:
    """List every source with its fetch health."""
    settings = _settings(config_path)
    with _storage(settings) as storage:
        storage.sync_sources(settings.source_models(), datetime.now(UTC))
        rows = [h for h in storage.source_health() if not failing or h.needs_attention]
        counts = storage.counts_by_source()
        recent = storage.counts_by_source(datetime.now(UTC) - timedelta(days=7))
    if as_json:
        click.echo(reporting.sources_json(rows, counts, recent))
        return
    Console().print(reporting.sources_table(rows, counts, recent))


@cli.command("tag")
@config_option
@click.option("--jsonl", is_flag=True, help="Read JSON Lines {id, title, summary} on stdin.")
@click.argument("text", required=False)
def tag_command(config_path: Path | None, jsonl: bool, text: str | None) -> None:
    """Show the topics TEXT is about, and why (or tag JSON Lines from stdin)."""
    settings = _settings(config_path)
    with _storage(settings) as storage:
        rules = load_rules(settings, storage)
    if not jsonl:
        if text is None:
            _fail("tag: give a TEXT to tag, or --jsonl to read JSON Lines on stdin", EXIT_CONFIG)
            return
        for line in reporting.tag_lines(tag(TagInput(title=text), rules)):
            click.echo(line)
        return
    for result in tag_json_lines(sys.stdin, rules):
        if isinstance(result, BadLine):
            _fail(
                f"tag: stdin line {result.number}: not a JSON object ({result.reason})",
                EXIT_CONFIG,
            )
            return
        tagged = reporting.tags_json(result.item_id, result.tags)
        click.echo(json.dumps(tagged, ensure_ascii=False))


@cli.command("retag")
@config_option
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@json_option
def retag_command(config_path: Path | None, dry_run: bool, as_json: bool) -> None:
    """Re-apply the current topic rules to every stored article."""
    settings = _settings(config_path)
    with _storage(settings) as storage:
        report = retag(settings, storage, dry_run=dry_run)
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False))
        return
    for line in reporting.retag_lines(report, dry_run):
        click.echo(line)


@cli.command("cluster")
@config_option
@json_option
@click.option(
    "--rebuild",
    is_flag=True,
    help="Cluster every stored article again under the current rules (stories the rules "
    "leave whole keep their ids).",
)
def cluster_command(config_path: Path | None, as_json: bool, rebuild: bool) -> None:
    """Put every stored article that has no story yet into a story cluster (the backfill
    after upgrading; new articles are clustered by ``feeds update``)."""
    settings = _settings(config_path)
    with _storage(settings) as storage:
        vocabulary = load_rules(settings, storage).vocabulary
        policy = settings.stories.policy(vocabulary)
        clustered = cluster_stored(storage, policy, rebuild=rebuild)
    if as_json:
        click.echo(json.dumps({"clustered": clustered}))
        return
    click.echo(f"{clustered} articles clustered into stories")


@cli.command("prune")
@config_option
@click.option(
    "--older-than", "older_than", metavar="AGE", help="e.g. 365d; default: retention_days."
)
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
@json_option
def prune_command(
    config_path: Path | None, older_than: str | None, dry_run: bool, as_json: bool
) -> None:
    """Delete articles older than AGE (and their tags), in short batches; vacuum SQLite."""
    settings = _settings(config_path)
    try:
        keep = age_to_keep(older_than, settings.retention_days)
    except ValueError as exc:
        _fail(f"prune: {exc}", EXIT_CONFIG)
        return
    with _storage(settings) as storage:
        report = prune(storage, keep, datetime.now(UTC), dry_run=dry_run)
    if as_json:
        click.echo(json.dumps(report.to_json()))
        return
    click.echo(reporting.prune_line(report, dry_run))


@cli.command("export")
@config_option
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False), default="-")
def export_command(config_path: Path | None, file: Path) -> None:
    """Write the whole database as JSON Lines to FILE (default stdout; .gz compresses)."""
    settings = _settings(config_path)
    with _storage(settings) as storage, open_text(file, write=True) as out:
        counts = export(storage, out)
    click.echo(f"exported {reporting.counted(counts)}", err=True)


@cli.command("import")
@config_option
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
def import_command(config_path: Path | None, file: Path) -> None:
    """Load an export (FILE, or - for stdin) into the configured, empty database."""
    settings = _settings(config_path)
    with _storage(settings) as storage:
        try:
            with open_text(file, write=False) as lines:
                counts = import_(storage, lines, str(file))
        except (TransferError, OSError) as exc:
            _fail(f"import: {exc}" if isinstance(exc, OSError) else str(exc), EXIT_CONFIG)
            return
    click.echo(f"imported {reporting.counted(counts)} into {settings.database}", err=True)


@cli.group("mesh")
def mesh_group() -> None:
    """Import and search the MeSH vocabulary (NLM's ASCII descriptor file)."""


@mesh_group.command("import")
@config_option
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
def mesh_import(config_path: Path | None, file: Path) -> None:
    """Import NLM's MeSH descriptor file (d20XX.bin, optionally gzipped)."""
    settings = _settings(config_path)
    with _storage(settings) as storage:
        try:
            descriptors, terms = storage.import_mesh(mesh_rows(file), str(file), datetime.now(UTC))
        except MeshFormatError as exc:
            _fail(str(exc), EXIT_CONFIG)
            return
    click.echo(f"imported {descriptors} MeSH descriptors ({terms} terms) from {file}")


@mesh_group.command("search")
@config_option
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 500))
@json_option
@click.argument("text")
def mesh_search(config_path: Path | None, limit: int, as_json: bool, text: str) -> None:
    """Find descriptors by heading or entry term (to write topics' mesh: lists)."""
    settings = _settings(config_path)
    with _storage(settings) as storage:
        if not storage.mesh_count():
            _fail("mesh: no vocabulary imported; run `feeds mesh import FILE` first", EXIT_CONFIG)
        hits = storage.search_mesh(fold(text), limit)
    if as_json:
        click.echo(reporting.mesh_hits_json(hits))
        return
    for line in reporting.mesh_hit_lines(hits):
        click.echo(line)


@cli.command()
@config_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--no-update", is_flag=True, help="Serve only; another process updates.")
@click.option("--access-log", is_flag=True, help="Log every request.")
def serve(
    config_path: Path | None,
    host: str,
    port: int,
    workers: int,
    no_update: bool,
    access_log: bool,
) -> None:
    """Serve the feeds, pages and API (and update sources in the background)."""
    from feeds.web.serve import serve as run_server  # uvicorn is only needed here

    path = config_path or default_config_path()
    settings = _settings(path)
    with _storage(settings) as storage:
        if not no_update and storage.count_articles() == 0:
            # The first page a new user opens is never empty: fill the database first.
            click.echo("first start: fetching every source once…", err=True)
            try:
                summary = asyncio.run(run_update(settings, storage))
            except ConfigError as exc:
                _config_failure(exc)
                return
            totals = summary.to_json()
            click.echo(
                f"{totals['new']} articles stored, {totals['failed']} sources failing", err=True
            )
        run_server(
            settings,
            path,
            storage,
            host=host,
            port=port,
            workers=workers,
            run_updater=not no_update,
            access_log=access_log,
        )


@cli.command("get")
@config_option
@click.argument("path")
def get_command(config_path: Path | None, path: str) -> None:
    """Run one GET request in-process and print the body; exit 1 unless it is a 2xx."""
    from feeds.web.serve import get

    if not path.startswith("/"):
        _fail("get: PATH must start with /", EXIT_CONFIG)
    settings = _settings(config_path)
    with _storage(settings) as storage:
        response = get(settings, storage, path)
    sys.stdout.buffer.write(response.content)
    sys.stdout.flush()
    if not response.is_success:
        click.echo(f"get: {path}: HTTP {response.status_code}", err=True)
        sys.exit(1)


@cli.command()
@config_option
@click.option("--once", is_flag=True, help="One pass over the due sources, then exit.")
@click.option(
    "--name",
    help="Name for this worker's leases (default HOST:PID:RANDOM, which lets a worker on "
    "the same host take back a killed one's sources at once instead of when its lease ends).",
)
@json_option
def worker(config_path: Path | None, once: bool, name: str | None, as_json: bool) -> None:
    """Fetch sources on their schedule, without the web server (for cron or scale-out).

    SIGTERM or Ctrl-C lets the sources being written finish, then stops.
    """
    settings = _settings(config_path)
    with _storage(settings) as storage:
        if once:
            summary = asyncio.run(run_update(settings, storage, worker=name))
            _report(summary, as_json)
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda _number, _frame: stop.set())
        click.echo("feeds worker: updating sources on their schedule", err=True)
        run_until_stopped(
            settings,
            storage,
            stop,
            on_pass=lambda s: _report(s, as_json) if s.sources else None,
            name=name,
        )


def _report(summary: UpdateSummary, as_json: bool) -> None:
    if as_json:
        click.echo(reporting.summary_json(summary))
    else:
        reporting.print_summary(summary, Console())
