"""Turn problem locations into ``FILE:LINE: location: message`` lines.

What it does: map every path of a YAML document to its line (``yaml.compose`` keeps the marks
that ``yaml.safe_load`` drops), write a location such as ``sources[3].url``, and word
pydantic's errors for people editing a YAML file.

What it does not do: find problems (pydantic, ``feeds.config.checks`` and the vocabulary
check do) or raise (``feeds.config.loader`` does).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

Problem = tuple[tuple[Any, ...], str]  # (location as pydantic gives it, message)


def format_problems(path: Path, text: str, problems: Sequence[Problem]) -> tuple[str, ...]:
    """``FILE:LINE: location: message`` for each problem, by line, from the config text."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        root = None
    return format_at_lines(str(path), document_lines(root), problems)


def document_lines(root: yaml.Node | None) -> dict[tuple[Any, ...], int]:
    """Every path in a composed YAML document (None: an empty one) with its 1-based line."""
    return dict(_node_lines(root, (), set())) if root is not None else {}


def format_at_lines(
    name: str,
    lines: Mapping[tuple[Any, ...], int],
    problems: Sequence[Problem],
) -> tuple[str, ...]:
    """``NAME:LINE: location: message`` for each problem, sorted by line."""
    return tuple(
        f"{name}:{_line_for(loc, lines)}: {format_loc(loc)}: {message}"
        for loc, message in sorted(problems, key=lambda p: _line_for(p[0], lines))
    )


def format_loc(loc: tuple[Any, ...]) -> str:
    """A location as a reader of the YAML writes it: ``sources[3].url``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def message(error: Mapping[str, Any]) -> str:
    """One pydantic error (an item of ``ValidationError.errors()``) in a YAML editor's words."""
    kind = error.get("type")
    loc = error.get("loc", ())
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required"
    if kind == "string_too_short" and (error.get("ctx") or {}).get("min_length") == 1:
        return "must not be empty"
    if kind == "string_pattern_mismatch":
        if "mesh" in loc:
            return f"{error.get('input')!r} is not a MeSH descriptor ID (D and 6 or 9 digits)"
        return f"{error.get('input')!r} is not a slug (lower-case letters, digits, hyphens)"
    text = str(error.get("msg", "invalid"))
    return text.removeprefix("Value error, ")


def _node_lines(
    node: yaml.Node, path: tuple[Any, ...], seen: set[int]
) -> Iterator[tuple[tuple[Any, ...], int]]:
    """Map every path in the YAML document to its 1-based line (a key's own line).

    A node reached again through an alias (``*name``) is not walked again: an alias inside
    its own anchor would recurse forever, and nested aliases multiply the paths (ten levels
    of ten are 10^10). Problems under an alias are reported at the alias's line."""
    yield path, node.start_mark.line + 1
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = (*path, key_node.value)
            yield from _node_lines(value_node, key, seen)
            yield key, key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _node_lines(item, (*path, index), seen)


def _line_for(loc: tuple[Any, ...], lines: Mapping[tuple[Any, ...], int]) -> int:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 1
