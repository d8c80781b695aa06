"""Checks that span several config entries: unique ids and slugs, known topics and sources,
no cycles among topic parents, context, unless and alone terms that belong to their topic, no
exclusion that is one of its topic's terms; and keys given twice in one mapping.

What it does: read the raw YAML data (not the validated models), so these problems are
reported in the same pass as pydantic's, even when other entries failed validation. Keys
given twice are found in the composed document (``yaml.safe_load`` keeps the last silently).

What it does not do: check single values (the models in ``feeds.config`` do) or format
locations (``feeds.config.problems``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import yaml

from feeds.config.problems import Problem
from feeds.config.topics import RESERVED_SLUGS


def cross_checks(data: Mapping[str, Any]) -> Iterator[Problem]:
    """Checks that span entries; tolerant of entries that already failed validation."""
    topic_slugs: set[str] = set()
    parents: dict[str, list[str]] = {}
    for i, topic in enumerate(_mappings(data.get("topics"))):
        slug = topic.get("slug")
        if isinstance(slug, str):
            if slug in RESERVED_SLUGS:
                yield (
                    ("topics", i, "slug"),
                    f"{slug!r} is reserved (/feeds/{slug}.rss is every topic)",
                )
            if slug in topic_slugs:
                yield ("topics", i, "slug"), f"duplicate topic slug {slug!r}"
            topic_slugs.add(slug)
            listed = topic.get("parents")
            parents[slug] = (
                [p for p in listed if isinstance(p, str)] if isinstance(listed, list) else []
            )
        known = {str(t).casefold() for t in _list(topic.get("terms"))}
        for j, phrase in enumerate(_list(topic.get("exclude"))):
            if str(phrase).casefold() in known:
                yield (
                    ("topics", i, "exclude", j),
                    f"{phrase!r} is also a term of this topic: it would veto every match of it",
                )
        known |= {str(a).casefold() for a in _list(topic.get("acronyms"))}
        for key in ("context", "unless", "alone"):
            conditions = topic.get(key)
            if isinstance(conditions, dict):
                for term in conditions:
                    if str(term).casefold() not in known:
                        yield (
                            ("topics", i, key, term),
                            "not one of this topic's terms or acronyms",
                        )
    for i, topic in enumerate(_mappings(data.get("topics"))):
        for j, parent in enumerate(_list(topic.get("parents"))):
            if isinstance(parent, str) and parent not in topic_slugs:
                yield ("topics", i, "parents", j), f"unknown topic {parent!r}"
        slug = topic.get("slug")
        if isinstance(slug, str) and _reaches(parents, slug, slug):
            yield ("topics", i, "parents"), f"topic {slug!r} is its own ancestor (a cycle)"
    source_ids: set[str] = set()
    for i, source in enumerate(_mappings(data.get("sources"))):
        source_id = source.get("id")
        if isinstance(source_id, str):
            if source_id in source_ids:
                yield ("sources", i, "id"), f"duplicate source id {source_id!r}"
            source_ids.add(source_id)
        topics = source.get("topics")
        if isinstance(topics, list):
            for j, slug in enumerate(topics):
                if isinstance(slug, str) and slug not in topic_slugs:
                    yield ("sources", i, "topics", j), f"unknown topic {slug!r}"
    stories = data.get("stories")
    priority = stories.get("source_priority") if isinstance(stories, dict) else None
    for j, source_id in enumerate(_list(priority)):
        if isinstance(source_id, str) and source_id not in source_ids:
            yield ("stories", "source_priority", j), f"unknown source {source_id!r}"


def duplicate_keys(root: yaml.Node | None) -> Iterator[Problem]:
    """A key written twice in one mapping: YAML keeps the last value, so a second
    ``topics:`` list would silently replace the whole first one."""
    stack: list[tuple[yaml.Node, tuple[Any, ...]]] = [(root, ())] if root is not None else []
    seen: set[int] = set()  # an aliased node is checked once (and may contain itself)
    while stack:
        node, path = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            lines: dict[str, list[int]] = {}
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    lines.setdefault(key_node.value, []).append(key_node.start_mark.line + 1)
                    stack.append((value_node, (*path, key_node.value)))
            for key, found in lines.items():
                if len(found) > 1:
                    times = "twice" if len(found) == 2 else f"{len(found)} times"
                    others = ", ".join(str(n) for n in found[:-1])
                    also = f"line {others}" if len(found) == 2 else f"lines {others}"
                    yield (*path, key), f"given {times} in one mapping (also on {also})"
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, (*path, i)) for i, item in enumerate(node.value))


def _reaches(parents: Mapping[str, list[str]], start: str, target: str) -> bool:
    """Whether ``target`` is an ancestor of ``start`` through ``parents``."""
    seen: set[str] = set()
    stack = list(parents.get(start, ()))
    while stack:
        slug = stack.pop()
        if slug == target:
            return True
        if slug not in seen:
            seen.add(slug)
            stack.extend(parents.get(slug, ()))
    return False


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _mappings(value: object) -> Iterator[Mapping[str, Any]]:
    items: Sequence[object] = value if isinstance(value, list) else ()
    for item in items:
        yield item if isinstance(item, dict) else {}
