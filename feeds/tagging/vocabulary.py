"""Compile the configured topics together with the imported MeSH vocabulary.

What it does: read a MeSH descriptor file into (descriptor, terms) rows for storage; expand
each topic's ``mesh:`` IDs (and, with ``narrower: true``, every descriptor below them in the
MeSH tree) into terms; check that those IDs exist once a vocabulary is imported.

What it does not do: match text (``matcher``) or define the rule language (``rules``).
An ID that is not in an imported vocabulary is a config error; when no vocabulary is
imported at all, topics work from their own terms and ``feeds check`` only warns.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from feeds.config import Settings
from feeds.errors import ConfigError
from feeds.storage import Storage
from feeds.tagging.mesh import Descriptor, MeshTree, descriptor_terms, read_descriptors
from feeds.tagging.rules import CompiledRules, compile_rules
from feeds.tagging.text import fold

Problem = tuple[tuple[Any, ...], str]


@dataclass(frozen=True, slots=True)
class MeshCheck:
    """What the imported vocabulary says about the configured MeSH IDs."""

    imported: int  # descriptors in the database (0: no vocabulary imported)
    errors: tuple[Problem, ...]  # IDs missing from an imported vocabulary
    warnings: tuple[Problem, ...]  # IDs that cannot be checked (nothing imported)


def mesh_rows(path: Path) -> Iterator[tuple[Descriptor, list[tuple[str, str]]]]:
    """Each descriptor of a MeSH ASCII file with its terms and their folded forms."""
    for descriptor in read_descriptors(path):
        yield descriptor, [(term, fold(term)) for term in descriptor_terms(descriptor)]


def check_mesh(settings: Settings, storage: Storage) -> MeshCheck:
    """Compare every topic's ``mesh:`` IDs with the imported vocabulary."""
    wanted = [
        (("topics", i, "mesh", j), ui)
        for i, topic in enumerate(settings.topics)
        for j, ui in enumerate(topic.mesh)
    ]
    imported = storage.mesh_count()
    if not wanted:
        return MeshCheck(imported, (), ())
    if not imported:
        warning = "MeSH is not imported; run `feeds mesh import FILE` (topic terms still work)"
        first_loc = wanted[0][0]
        return MeshCheck(0, (), (((*first_loc[:2], "mesh"), warning),))
    known = storage.mesh_known(sorted({ui for _, ui in wanted}))
    errors = tuple(
        (loc, f"unknown MeSH descriptor {ui} (not in the imported vocabulary)")
        for loc, ui in wanted
        if ui not in known
    )
    return MeshCheck(imported, errors, ())


def load_rules(settings: Settings, storage: Storage) -> CompiledRules:
    """The compiled topic rules, with MeSH terms when a vocabulary is imported.

    Raises ``ConfigError`` (with config lines) for MeSH IDs an imported vocabulary lacks.
    """
    check = check_mesh(settings, storage)
    if check.errors:
        raise ConfigError("topics name unknown MeSH descriptors", settings.problems(check.errors))
    if not check.imported:
        return compile_rules(settings.topics)
    needs_tree = any(t.narrower and t.mesh for t in settings.topics)
    tree = MeshTree(storage.mesh_tree() if needs_tree else ())
    by_topic: dict[str, set[str]] = {}
    for topic in settings.topics:
        if topic.mesh:
            uis = tree.narrower(topic.mesh) if topic.narrower else set(topic.mesh)
            by_topic[topic.slug] = set(uis) | set(topic.mesh)
    terms = storage.mesh_terms({ui for uis in by_topic.values() for ui in uis})
    mesh_terms = {
        slug: [(ui, term) for ui in sorted(uis) for term in terms.get(ui, ())]
        for slug, uis in by_topic.items()
    }
    return compile_rules(settings.topics, mesh_terms)
