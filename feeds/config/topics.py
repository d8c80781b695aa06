"""One entry of the config's ``topics:`` list: a topic's rules as written.

What it does: declare a topic's keys and their shapes (slugs, phrases, MeSH descriptor IDs).

What it does not do: compile or interpret the rules (``feeds.tagging.rules`` specifies the
rule language), or check slugs, parents and context/unless/alone terms across topics
(``feeds.config.checks``).
"""

from __future__ import annotations

from pydantic import Field

from feeds.config.values import Acronym, Frozen, MeshUI, Phrase, Slug, Term

RESERVED_SLUGS = frozenset({"all"})  # topic slugs the web routes use for themselves


class TopicSettings(Frozen):
    """One entry of ``topics:``; the rule language is specified in ``feeds.tagging.rules``."""

    slug: Slug
    title: str = Field(min_length=1)
    description: str = ""
    terms: tuple[Term, ...] = ()  # case-insensitive phrases; "-stem": a word ending
    acronyms: tuple[Acronym, ...] = ()  # exact-case words
    exclude: tuple[Phrase, ...] = ()  # phrases that veto matches they overlap
    rivals: tuple[Phrase, ...] = ()  # a title naming one, and not the topic: the rest is background
    context: dict[Phrase, tuple[Phrase, ...]] = Field(default_factory=dict)  # term: needs one of
    unless: dict[Phrase, tuple[Phrase, ...]] = Field(default_factory=dict)  # term: vetoed by any of
    alone: dict[Phrase, tuple[Phrase, ...]] = Field(default_factory=dict)  # term: if lone, needs
    mesh: tuple[MeshUI, ...] = ()  # MeSH descriptor UIs
    narrower: bool = False  # include descriptors below ``mesh`` in the MeSH tree
    parents: tuple[Slug, ...] = ()  # broader topics this one belongs to
    threshold: float | None = Field(None, gt=0)  # score needed; default tagging.threshold
