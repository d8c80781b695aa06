"""Tag a stream of JSON Lines (``{"id", "title", "summary"}`` per line), one line at a time.

What it does: read each non-blank line as a JSON object, tag its title and summary, and
yield the result as it goes (a long stream is never held in memory). A line that is not a
JSON object (or is nested too deeply to read), or whose ``id``, ``title`` or ``summary`` is
not a string, is a ``BadLine`` result naming its line number, and ends the stream. ``null``
counts as absent.

What it does not do: read stdin or print (``feeds.cli_rules``), or format the output
(``feeds.reporting.tags_json``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from feeds.tagging.matcher import Explained, TagInput, explain
from feeds.tagging.rules import CompiledRules


@dataclass(frozen=True, slots=True)
class TaggedLine:
    """One input line's tags."""

    number: int  # 1-based line number in the input
    item_id: str | None  # the line's "id", None when absent or null
    # The topics the line's title and summary are about, with what each match weighed
    explained: tuple[Explained, ...]


@dataclass(frozen=True, slots=True)
class BadLine:
    """An input line that could not be read or has a field of the wrong type; the stream
    stops here."""

    number: int  # 1-based line number in the input
    reason: str  # what is wrong, e.g. 'not a JSON object (not an object)'


_FIELDS = ("id", "title", "summary")
# JSON's names for the types a field can wrongly have, for messages.
_JSON_TYPES = {bool: "boolean", int: "number", float: "number", list: "array", dict: "object"}


def tag_json_lines(lines: Iterable[str], rules: CompiledRules) -> Iterator[TaggedLine | BadLine]:
    """Each non-blank line's tags, in order; a ``BadLine`` (then nothing) at the first bad one."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            yield BadLine(number, f"not a JSON object ({exc})")
            return
        except RecursionError:
            # json recurses once per nesting level; a line of [[[[... would otherwise
            # crash the command instead of being reported like any other bad line.
            yield BadLine(number, "not a JSON object (nested too deeply)")
            return
        if not isinstance(item, dict):
            yield BadLine(number, "not a JSON object (not an object)")
            return
        fields, wrong = _string_fields(item)
        if wrong is not None:
            yield BadLine(number, wrong)
            return
        text = TagInput(title=fields["title"] or "", summary=fields["summary"] or "")
        yield TaggedLine(number, fields["id"], explain(text, rules))


def _string_fields(item: dict[str, object]) -> tuple[dict[str, str | None], str | None]:
    """The id, title and summary (None when absent or null), and what is wrong, if anything."""
    fields: dict[str, str | None] = {}
    for name in _FIELDS:
        value = item.get(name)
        if value is not None and not isinstance(value, str):
            return fields, f'"{name}" must be a string, not {_a(_JSON_TYPES[type(value)])}'
        fields[name] = value
    return fields, None


def _a(noun: str) -> str:
    return ("an " if noun[0] in "aeiou" else "a ") + noun
