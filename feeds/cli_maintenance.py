"""``feeds prune``, ``export`` and ``import``: the stored articles as a whole, deleting the
old ones or carrying everything to a file and into another (empty) database.

What it does not do: decide what is old (``feeds.retention``), read or write the export
format (``feeds.transfer``), or word the output (``feeds.reporting``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from feeds import reporting
from feeds.cli_common import (
    EXIT_CONFIG,
    config_option,
    fail,
    json_option,
    open_storage,
    settings_from,
)
from feeds.errors import TransferError
from feeds.retention import age_to_keep, prune
from feeds.transfer import export, import_, open_text


@click.command("prune")
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
    settings = settings_from(config_path)
    try:
        keep = age_to_keep(older_than, settings.retention_days)
    except ValueError as exc:
        fail(f"prune: {exc}", EXIT_CONFIG)
    with open_storage(settings) as storage:
        report = prune(storage, keep, datetime.now(UTC), dry_run=dry_run)
    if as_json:
        click.echo(json.dumps(report.to_json()))
        return
    click.echo(reporting.prune_line(report, dry_run))


@click.command("export")
@config_option
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False), default="-")
def export_command(config_path: Path | None, file: Path) -> None:
    """Write the whole database as JSON Lines to FILE (default stdout; .gz compresses)."""
    settings = settings_from(config_path)
    with open_storage(settings) as storage:
        try:
            with open_text(file, write=True) as out:
                counts = export(storage, out)
        except OSError as exc:  # a missing folder, a full disk
            fail(f"export: {exc}", EXIT_CONFIG)
    click.echo(f"exported {reporting.counted(counts)}", err=True)


@click.command("import")
@config_option
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
def import_command(config_path: Path | None, file: Path) -> None:
    """Load an export (FILE, or - for stdin) into the configured, empty database."""
    settings = settings_from(config_path)
    with open_storage(settings) as storage:
        try:
            with open_text(file, write=False) as lines:
                counts = import_(storage, lines, str(file))
        except (TransferError, OSError) as exc:
            fail(f"import: {exc}" if isinstance(exc, OSError) else str(exc), EXIT_CONFIG)
    click.echo(f"imported {reporting.counted(counts)} into {settings.database}", err=True)
