"""``feeds mesh import`` and ``feeds mesh search``: NLM's MeSH vocabulary, imported so that
topics can name descriptors (``mesh:`` lists), and searched to find their IDs.

What it does not do: read the MeSH file (``feeds.tagging.vocabulary.mesh_rows``), store or
search it (``feeds.storage.mesh``), or word the output (``feeds.reporting``).
"""

from __future__ import annotations

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
from feeds.tagging.mesh import MeshFormatError
from feeds.tagging.text import fold
from feeds.tagging.vocabulary import mesh_rows


@click.group("mesh")
def mesh_group() -> None:
    """Import and search the MeSH vocabulary (NLM's ASCII descriptor file)."""


@mesh_group.command("import")
@config_option
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
def mesh_import(config_path: Path | None, file: Path) -> None:
    """Import NLM's MeSH descriptor file (d20XX.bin, optionally gzipped)."""
    settings = settings_from(config_path)
    with open_storage(settings) as storage:
        try:
            descriptors, terms = storage.import_mesh(mesh_rows(file), str(file), datetime.now(UTC))
        except MeshFormatError as exc:
            fail(str(exc), EXIT_CONFIG)
    click.echo(f"imported {descriptors} MeSH descriptors ({terms} terms) from {file}")


@mesh_group.command("search")
@config_option
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 500))
@json_option
@click.argument("text")
def mesh_search(config_path: Path | None, limit: int, as_json: bool, text: str) -> None:
    """Find descriptors by heading or entry term (to write topics' mesh: lists)."""
    settings = settings_from(config_path)
    with open_storage(settings) as storage:
        if not storage.mesh_count():
            fail("mesh: no vocabulary imported; run `feeds mesh import FILE` first", EXIT_CONFIG)
        hits = storage.search_mesh(fold(text), limit)
    if as_json:
        click.echo(reporting.mesh_hits_json(hits))
        return
    for line in reporting.mesh_hit_lines(hits):
        click.echo(line)
