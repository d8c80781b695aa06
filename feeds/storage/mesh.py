"""MeSH vocabulary in the database: replace the imported vocabulary, look descriptors up, search.

The functions take an open SQLAlchemy connection and never commit; ``MeshStorage``, mixed
into ``feeds.storage.Storage``, runs each in its own transaction. Reading the MeSH file is
``feeds.tagging.mesh``; turning descriptors into topic terms is ``feeds.tagging.vocabulary``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select

from feeds.storage.common import translated
from feeds.storage.schema import mesh_descriptors, mesh_terms, meta
from feeds.tagging.mesh import Descriptor

_BATCH = 5000


@dataclass(frozen=True, slots=True)
class MeshHit:
    """A descriptor found by a search."""

    ui: str  # descriptor UI, e.g. D008180
    heading: str  # MeSH heading
    term: str  # the term that matched (the heading or an entry term)


def replace_vocabulary(
    connection: Connection, entries: Iterable[tuple[Descriptor, Sequence[tuple[str, str]]]]
) -> tuple[int, int]:
    """Replace every descriptor with ``entries`` (descriptor, [(term, folded)]); counts."""
    connection.execute(delete(mesh_terms))
    connection.execute(delete(mesh_descriptors))
    descriptors: list[dict[str, Any]] = []
    terms: list[dict[str, Any]] = []
    counts = [0, 0]

    def flush() -> None:
        if descriptors:
            connection.execute(insert(mesh_descriptors), descriptors)
        if terms:
            connection.execute(insert(mesh_terms), terms)
        counts[0] += len(descriptors)
        counts[1] += len(terms)
        descriptors.clear()
        terms.clear()

    for descriptor, descriptor_terms in entries:
        descriptors.append(
            {
                "ui": descriptor.ui,
                "heading": descriptor.heading,
                "tree_numbers": list(descriptor.tree_numbers),
            }
        )
        terms.extend({"ui": descriptor.ui, "term": t, "folded": f} for t, f in descriptor_terms)
        if len(terms) >= _BATCH:
            flush()
    flush()
    return counts[0], counts[1]


def count(connection: Connection) -> int:
    """How many descriptors are imported."""
    return int(connection.execute(select(func.count()).select_from(mesh_descriptors)).scalar_one())


def known(connection: Connection, uis: Sequence[str]) -> set[str]:
    """Which of ``uis`` are imported."""
    query = select(mesh_descriptors.c.ui).where(mesh_descriptors.c.ui.in_(list(uis)))
    return {row.ui for row in connection.execute(query)}


def tree(connection: Connection) -> list[Descriptor]:
    """Every descriptor with its tree numbers (no terms), for narrower-than lookups."""
    query = select(
        mesh_descriptors.c.ui, mesh_descriptors.c.heading, mesh_descriptors.c.tree_numbers
    )
    return [
        Descriptor(
            ui=row.ui, heading=row.heading, entry_terms=(), tree_numbers=tuple(row.tree_numbers)
        )
        for row in connection.execute(query)
    ]


def terms_for(connection: Connection, uis: Iterable[str]) -> dict[str, list[str]]:
    """Every stored term of each descriptor in ``uis``."""
    wanted = sorted(set(uis))
    found: dict[str, list[str]] = {}
    for start in range(0, len(wanted), 500):
        query = (
            select(mesh_terms.c.ui, mesh_terms.c.term)
            .where(mesh_terms.c.ui.in_(wanted[start : start + 500]))
            .order_by(mesh_terms.c.ui)
        )
        for row in connection.execute(query):
            found.setdefault(row.ui, []).append(row.term)
    return found


def search(connection: Connection, folded_text: str, limit: int) -> list[MeshHit]:
    """Descriptors whose heading or an entry term contains ``folded_text``; exact first."""
    pattern = "%" + folded_text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    exact = (mesh_terms.c.folded == folded_text).desc()
    prefix = mesh_terms.c.folded.like(pattern[1:], escape="\\").desc()  # "lupus…" first
    query = (
        select(mesh_terms.c.ui, mesh_descriptors.c.heading, mesh_terms.c.term)
        .join(mesh_descriptors, mesh_descriptors.c.ui == mesh_terms.c.ui)
        .where(mesh_terms.c.folded.like(pattern, escape="\\"))
        .order_by(exact, prefix, func.length(mesh_terms.c.term), mesh_terms.c.ui)
        .limit(limit * 5)
    )
    hits: dict[str, MeshHit] = {}
    for row in connection.execute(query):
        if row.ui not in hits:
            hits[row.ui] = MeshHit(row.ui, row.heading, row.term)
        if len(hits) == limit:
            break
    return list(hits.values())


def headings(connection: Connection, uis: Iterable[str]) -> dict[str, str]:
    """The heading of each imported descriptor among ``uis``."""
    wanted = sorted(set(uis))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        query = select(mesh_descriptors.c.ui, mesh_descriptors.c.heading).where(
            mesh_descriptors.c.ui.in_(wanted[start : start + 500])
        )
        found.update({row.ui: row.heading for row in connection.execute(query)})
    return found


class MeshStorage:
    """The MeSH vocabulary's ``Storage`` methods; mixed into ``Storage``."""

    engine: Engine

    @translated
    def import_mesh(
        self,
        entries: Iterable[tuple[Descriptor, Sequence[tuple[str, str]]]],
        origin: str,
        now: datetime,
    ) -> tuple[int, int]:
        """Replace the MeSH vocabulary in one transaction; (descriptors, terms) stored."""
        with self.engine.begin() as connection:
            counts = replace_vocabulary(connection, entries)
            for key, value in (("mesh_origin", origin), ("mesh_imported_at", now.isoformat())):
                connection.execute(delete(meta).where(meta.c.key == key))
                connection.execute(insert(meta).values(key=key, value=value))
        return counts

    @translated
    def mesh_count(self) -> int:
        """How many MeSH descriptors are imported (0: none)."""
        with self.engine.connect() as connection:
            return count(connection)

    @translated
    def mesh_known(self, uis: Sequence[str]) -> set[str]:
        """Which of ``uis`` are imported descriptors."""
        with self.engine.connect() as connection:
            return known(connection, uis)

    @translated
    def mesh_tree(self) -> list[Descriptor]:
        """Every descriptor with its tree numbers, for narrower-than lookups."""
        with self.engine.connect() as connection:
            return tree(connection)

    @translated
    def mesh_terms(self, uis: Iterable[str]) -> dict[str, list[str]]:
        """The stored terms of each descriptor."""
        with self.engine.connect() as connection:
            return terms_for(connection, uis)

    @translated
    def mesh_headings(self, uis: Iterable[str]) -> dict[str, str]:
        """Headings of the imported descriptors among ``uis``."""
        with self.engine.connect() as connection:
            return headings(connection, uis)

    @translated
    def search_mesh(self, folded_text: str, limit: int = 20) -> list[MeshHit]:
        """Descriptors whose heading or entry term contains the (folded) text."""
        with self.engine.connect() as connection:
            return search(connection, folded_text, limit)
