"""What an update did: per source and for a whole run, as ``feeds update`` reports it.

Built by ``feeds.update`` from what storage wrote; worded by ``feeds.reporting``. Nothing
here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from feeds.errors import ErrorKind
from feeds.models.sources import SourceStatus


@dataclass(frozen=True, slots=True)
class StoreCounts:
    """How an upsert of one source's articles went."""

    new: int = 0  # articles seen for the first time
    updated: int = 0  # known articles whose content changed
    unchanged: int = 0  # known articles fetched again unchanged


@dataclass(frozen=True, slots=True)
class SourceReport:
    """The outcome of updating one source, as reported by ``feeds update``."""

    source_id: str  # which source
    status: SourceStatus  # ok, not_modified or failing
    counts: StoreCounts = field(default_factory=StoreCounts)  # articles new/updated/unchanged
    error_kind: ErrorKind | None = None  # why it failed
    error: str | None = None  # the failure message
    warnings: tuple[str, ...] = ()  # survivable parse problems

    def to_json(self) -> dict[str, object]:
        """The per-source object of ``feeds update --json``."""
        return {
            "id": self.source_id,
            "status": str(self.status),
            "new": self.counts.new,
            "updated": self.counts.updated,
            "error_kind": str(self.error_kind) if self.error_kind else None,
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class UpdateSummary:
    """The outcome of one update run over several sources."""

    sources: tuple[SourceReport, ...]  # one report per source processed

    def to_json(self) -> dict[str, object]:
        """The object ``feeds update --json`` prints."""
        return {
            "new": sum(r.counts.new for r in self.sources),
            "updated": sum(r.counts.updated for r in self.sources),
            "unchanged": sum(r.counts.unchanged for r in self.sources),
            "failed": sum(1 for r in self.sources if r.error_kind is not None),
            "sources": [r.to_json() for r in self.sources],
        }
