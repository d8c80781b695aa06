"""The ``feeds`` command line. It parses options and calls the library; nothing more.

This module holds the ``feeds`` group and the commands that set feeds up and run it
(``check``, ``migrate``, ``update``, ``sources``, ``serve``, ``get``, ``worker``). The others
live by what they work on: ``feeds.cli_rules`` (``tag``, ``retag``, ``cluster``),
``feeds.cli_maintenance`` (``prune``, ``export``, ``import``) and ``feeds.cli_mesh``
(``mesh``); ``feeds.cli_common`` has the options and helpers they share. These are the only
modules that import click. What they print is worded by ``feeds.reporting``; here they only
choose stdout or stderr and the exit code.

Exit codes: 0 success (an update whose sources failed still succeeded), 1 database error,
2 configuration or usage error.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
from rich.console import Console

from feeds import __version__, reporting
from feeds.cli_common import (
    EXIT_CONFIG,
    config_failure,
    config_option,
    fail,
    json_option,
    open_storage,
    settings_from,
)
from feeds.cli_maintenance import export_command, import_command, prune_command
from feeds.cli_mesh import mesh_group
from feeds.cli_rules import cluster_command, retag_command, tag_command
from feeds.config import default_config_path
from feeds.errors import ConfigError
from feeds.models import UpdateSummary
from feeds.progress import update_with_progress
from feeds.storage.engine import shown_url
from feeds.tagging.vocabulary import check_mesh
from feeds.update import update as run_update
from feeds.worker import run_until_stopped


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="feeds")
def cli() -> None:
    """feeds: health-news topic feeds from RSS/Atom sources."""


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="feeds")


# The commands that live in their own modules (see above).
for command in (
    tag_command,
    retag_command,
    cluster_command,
    prune_command,
    export_command,
    import_command,
    mesh_group,
):
    cli.add_command(command)


# --- commands ---------------------------------------------------------------------------


@cli.command()
@config_option
def check(config_path: Path | None) -> None:
    """Validate the config file; list every problem with its line."""
    path = config_path or default_config_path()
    settings = settings_from(path)
    with open_storage(settings) as storage:
        mesh = check_mesh(settings, storage)
    if mesh.errors:
        config_failure(ConfigError("unknown MeSH IDs", settings.problems(mesh.errors)))
    for warning in settings.problems(mesh.warnings):
        click.echo(f"warning: {warning}", err=True)
    click.echo(reporting.check_line(path, settings, mesh))


@cli.command()
@config_option
def migrate(config_path: Path | None) -> None:
    """Create or upgrade the database schema."""
    settings = settings_from(config_path)
    with open_storage(settings) as storage:
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
    settings = settings_from(config_path)
    console = Console(stderr=True)
    show_progress = console.is_terminal and not as_json
    with open_storage(settings) as storage:
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
    settings = settings_from(config_path)
    with open_storage(settings) as storage:
        storage.sync_sources(settings.source_models(), datetime.now(UTC))
        rows = [h for h in storage.source_health() if not failing or h.needs_attention]
        counts = storage.counts_by_source()
        recent = storage.counts_by_source(datetime.now(UTC) - timedelta(days=7))
    if as_json:
        click.echo(reporting.sources_json(rows, counts, recent))
        return
    Console().print(reporting.sources_table(rows, counts, recent))


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
    settings = settings_from(path)
    with open_storage(settings) as storage:
        if not no_update and storage.count_articles() == 0:
            # The first page a new user opens is never empty: fill the database first.
            click.echo("first start: fetching every source once…", err=True)
            try:
                summary = asyncio.run(run_update(settings, storage))
            except ConfigError as exc:
                config_failure(exc)
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
    import httpx

    from feeds.web.serve import get

    if not path.startswith("/"):
        fail("get: PATH must start with /", EXIT_CONFIG)
    settings = settings_from(config_path)
    with open_storage(settings) as storage:
        try:
            response = get(settings, storage, path)
        except httpx.InvalidURL as exc:
            fail(f"get: cannot request that PATH: {exc}", EXIT_CONFIG)
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
    settings = settings_from(config_path)
    with open_storage(settings) as storage:
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
