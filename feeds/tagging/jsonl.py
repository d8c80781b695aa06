"""Tag a stream of JSON Lines (``{"id", "title", "summary"}`` per line), one line at a time.

What it does: read each non-blank line as a JSON object, tag its title and summary, and
yield the result as it goes (a long stream is never held in memory); a line that is not a
JSON object is a ``BadLine`` result naming its line number, and ends the stream.

What it does not do: read stdin or print (``feeds.cli_rules``), or format the output
(``feeds.reporting.tags_json``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from feeds.models import TopicTag
from feeds.tagging.matcher import TagInput, tag
from feeds.tagging.rules import CompiledRules


@dataclass(frozen=True, slots=True)
class TaggedLine:
    """One input line's tags."""

    number: int  # 1-based line number in the input
    item_id: object  # the line's "id" as given (any JSON value, None when absent)
    tags: tuple[TopicTag, ...]  # the topics the line's title and summary are about


@dataclass(frozen=True, slots=True)
class BadLine:
    """An input line that is not a JSON object; the stream stops here."""

    number: int  # 1-based line number in the input
    reason: str  # why it could not be read, e.g. "not an object"


def tag_json_lines(lines: Iterable[str], rules: CompiledRules) -> Iterator[TaggedLine | BadLine]:
    """Each non-blank line's tags, in order; a ``BadLine`` (then nothing) at the first bad one."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict):
                raise TypeError("not an object")
            title, summary = str(item.get("title") or ""), str(item.get("summary") or "")
        except (ValueError, TypeError) as exc:
            yield BadLine(number, str(exc))
            return
        yield TaggedLine(number, item.get("id"), tag(TagInput(title=title, summary=summary), rules))
