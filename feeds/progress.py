"""Run an update while a rich progress bar on the terminal counts the sources done.

What it does: call ``feeds.update.update`` with callbacks that size and advance a transient
progress bar (it disappears when the update ends, leaving only the summary).

What it does not do: decide whether to show it (``feeds.cli`` does: only on a terminal and
without ``--json``) or print the summary (``feeds.reporting``).
"""

from __future__ import annotations

import asyncio

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from feeds.config import Settings
from feeds.models import SourceReport, UpdateSummary
from feeds.storage import Storage
from feeds.update import update


def update_with_progress(
    settings: Settings, storage: Storage, only: tuple[str, ...], force: bool, console: Console
) -> UpdateSummary:
    """``update(settings, storage, only=only, force=force)`` with a progress bar on console."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("Updating sources", total=None)

        def started(count: int) -> None:
            progress.update(task, total=count)

        def done(report: SourceReport) -> None:
            progress.update(task, advance=1, description=f"Updated {report.source_id}")

        return asyncio.run(
            update(settings, storage, only=only, force=force, on_source_done=done, on_start=started)
        )
