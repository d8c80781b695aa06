"""What the commands print: result values turned into text lines, JSON and rich tables.

What it does: word the outcome of each command (an update summary, the source list, topic
tags and why, a retag or prune report, MeSH hits, the config check) the one way the CLI
shows it, on a terminal (rich tables) and for programs (``--json``: one JSON document).

What it does not do: parse options, exit, or choose stdout or stderr (``feeds.cli`` and its
``feeds.cli_*`` modules do, as the only click modules), or compute any of the results it
formats.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from feeds.config import Settings
from feeds.models import Match, SourceHealth, SourceStatus, UpdateSummary, iso
from feeds.retag import RetagReport
from feeds.retention import PruneReport
from feeds.storage.engine import shown_url
from feeds.storage.mesh import MeshHit
from feeds.tagging.matcher import Explained, Held
from feeds.tagging.vocabulary import MeshCheck

# --- feeds check ------------------------------------------------------------------------


def check_line(path: Path, settings: Settings, mesh: MeshCheck) -> str:
    """The one line ``feeds check`` prints for a valid config."""
    enabled = sum(1 for s in settings.sources if s.enabled)
    return (
        f"{path}: OK: {len(settings.sources)} sources ({enabled} enabled), "
        f"{len(settings.topics)} topics, {mesh.imported} MeSH descriptors, "
        f"database {shown_url(settings.database)}"
    )


# --- feeds update / worker ----------------------------------------------------------------


def summary_json(summary: UpdateSummary) -> str:
    """An update's outcome as one JSON object (``--json``)."""
    return json.dumps(summary.to_json(), ensure_ascii=False)


def print_summary(summary: UpdateSummary, console: Console) -> None:
    """An update's outcome as a table of the sources checked and a line of totals."""
    totals = summary.to_json()
    table = Table(title="Update", title_justify="left")
    for column in ("source", "status", "new", "updated", "error"):
        table.add_column(column, justify="right" if column in ("new", "updated") else "left")
    for report in sorted(summary.sources, key=lambda r: r.source_id):
        style = "red" if report.status is SourceStatus.FAILING else None
        table.add_row(
            report.source_id,
            str(report.status),
            str(report.counts.new),
            str(report.counts.updated),
            f"{report.error_kind}: {report.error}" if report.error_kind else "",
            style=style,
        )
    if summary.sources:
        console.print(table)
    console.print(
        f"{totals['new']} new, {totals['updated']} updated, {totals['unchanged']} unchanged; "
        f"{len(summary.sources)} sources checked, {totals['failed']} failed"
    )


# --- feeds sources ------------------------------------------------------------------------


def sources_json(
    rows: Sequence[SourceHealth], counts: Mapping[str, int], recent: Mapping[str, int]
) -> str:
    """The source list as a JSON array, with all-time and recent article counts."""
    listing = [h.to_json(counts.get(h.source_id, 0), recent.get(h.source_id, 0)) for h in rows]
    return json.dumps(listing)


def sources_table(
    rows: Sequence[SourceHealth], counts: Mapping[str, int], recent: Mapping[str, int]
) -> Table:
    """The source list as a table; sources that need attention in red."""
    table = Table()
    for column in (
        "id",
        "status",
        "articles (7 d)",
        "last success",
        "errors",
        "next check",
        "error",
    ):
        table.add_column(column)
    for h in rows:
        table.add_row(
            h.source_id,
            str(h.shown_status),
            f"{counts.get(h.source_id, 0)} ({recent.get(h.source_id, 0)})",
            iso(h.last_success_at) or "never",
            str(h.error_count),
            iso(h.next_check_at) or "now",
            f"{h.error_kind}: {h.error_message}" if h.error_kind else "",
            style="red" if h.needs_attention else None,
        )
    return table


# --- feeds tag / retag --------------------------------------------------------------------


def tag_lines(explained: Sequence[Explained], held: Iterable[Held] = ()) -> Iterator[str]:
    """Each topic with its score, and under it each match: what it added to the score
    (marked when the text makes it an aside), rule, term, where. Then each topic ``held``
    back by a rule (``alone``, ``rivals``), why, and its matches."""
    if not explained:
        yield "no topic"
    for found in explained:
        yield f"{found.tag.topic}  score {found.tag.score:g}"
        for m, weight, aside in zip(found.tag.matches, found.weights, found.asides, strict=True):
            added = "" if weight is None else f"+{weight:g}"
            note = "  (aside)" if aside else ""
            yield f"  {added:<5}{m.rule:<10} {m.term!r} at {_where(m)}{note}"
    for tag, why in held:
        yield f"{tag.topic}  not tagged (score {tag.score:g}): {why}"
        for m in tag.matches:
            yield f"       {m.rule:<10} {m.term!r} at {_where(m)}"


def _where(m: Match) -> str:
    return f"{m.field} {m.start}-{m.end}" if m.end else m.field


def tags_json(item_id: object, explained: Sequence[Explained]) -> dict[str, Any]:
    """One ``--jsonl`` output object: the item's id, its topics, scores and matches, each
    match with its weight in the score and whether it was an aside."""
    return {
        "id": item_id,
        "topics": [e.tag.topic for e in explained],
        "scores": {e.tag.topic: e.tag.score for e in explained},
        "matches": [
            {
                "topic": m.topic,
                "term": m.term,
                "rule": m.rule,
                "field": m.field,
                "start": m.start,
                "end": m.end,
                "weight": weight,
                "aside": aside,
            }
            for e in explained
            for m, weight, aside in zip(e.tag.matches, e.weights, e.asides, strict=True)
        ],
    }


def retag_lines(report: RetagReport, dry_run: bool) -> Iterator[str]:
    """How many articles changed topics, then per topic the count and example titles."""
    verb = "would change" if dry_run else "changed"
    yield f"{report.articles} articles retagged; {report.changed} {verb} topics"
    for slug, change in sorted(report.topics.items()):
        yield f"{slug}: +{change.added} -{change.removed}"
        for title in change.added_examples:
            yield f"  + {title}"
        for title in change.removed_examples:
            yield f"  - {title}"


# --- feeds prune / export / import ------------------------------------------------------


def prune_line(report: PruneReport, dry_run: bool) -> str:
    """What a prune deleted (or would delete) and, when it deleted, the pages it freed."""
    verb = "would delete" if dry_run else "deleted"
    return (
        f"{verb} {report.articles} articles ({report.tags} topic tags) published before "
        f"{iso(report.cutoff)}" + ("" if dry_run else f"; freed {report.freed_pages} pages")
    )


def counted(counts: Mapping[str, int]) -> str:
    """Rows per table, in the order given: ``12 sources, 3400 articles``."""
    return ", ".join(f"{count} {table}" for table, count in counts.items())


# --- feeds mesh search --------------------------------------------------------------------


def mesh_hits_json(hits: Sequence[MeshHit]) -> str:
    """MeSH search hits as a JSON array of ``{ui, heading, term}``."""
    return json.dumps([{"ui": h.ui, "heading": h.heading, "term": h.term} for h in hits])


def mesh_hit_lines(hits: Sequence[MeshHit]) -> Iterator[str]:
    """One line per hit (with the entry term that matched, when not the heading)."""
    for hit in hits:
        via = "" if hit.term == hit.heading else f"  (via {hit.term!r})"
        yield f"{hit.ui}  {hit.heading}{via}"
    if not hits:
        yield "no descriptor found"
