"""What every ``feeds`` command shares: the common options, exit codes, and opening the
config and the database so that a problem ends the command with one clear message.

What it does not do: define commands (``feeds.cli`` and its ``feeds.cli_*`` modules do) or
word any output (``feeds.reporting``).

Exit codes: 0 success, 1 database error, 2 configuration or usage error.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import click

from feeds.config import Settings, load_settings
from feeds.errors import ConfigError, StorageError
from feeds.storage import Storage

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


def fail(message: str, code: int) -> NoReturn:
    """End the command: ``message`` on stderr, exit ``code``."""
    click.echo(message, err=True)
    sys.exit(code)


def settings_from(config_path: Path | None) -> Settings:
    """The settings of ``config_path`` (default: $FEEDS_CONFIG, then ./config.yaml); a bad
    config ends the command with every problem on stderr and exit 2."""
    try:
        return load_settings(config_path)
    except ConfigError as exc:
        config_failure(exc)
        raise  # unreachable: config_failure exits


def config_failure(exc: ConfigError) -> None:
    """End the command with each of ``exc``'s problems on stderr and exit 2."""
    for problem in exc.problems:
        click.echo(problem, err=True)
    sys.exit(EXIT_CONFIG)


@contextmanager
def open_storage(settings: Settings) -> Iterator[Storage]:
    """Open and migrate the database; any database error ends the command with exit 1, a
    config problem found while it is open (say, MeSH IDs the vocabulary lacks) with exit 2."""
    storage = None
    try:
        storage = Storage.open(settings.database)
        storage.migrate()
        yield storage
    except StorageError as exc:
        fail(str(exc), EXIT_STORAGE)
    except ConfigError as exc:
        config_failure(exc)
    finally:
        if storage is not None:
            storage.close()
