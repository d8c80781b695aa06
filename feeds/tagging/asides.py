"""Where a text names things only in passing: examples of a class, exclusions, comparisons.

What it does: find, in one field of an article, the spans that English marks as asides,
so the matcher can count a topic mentioned there as a passing mention (a small weight)
rather than as a subject:

- examples of a class, marked after the list: "active cancer, lupus or other autoimmune
  disease", "lupus nephritis and other immune diseases";
- examples, exclusions and adjustments marked before the list: "conditions such as
  rosacea or lupus", "excluding patients with lupus", "adjusted for diabetes, lupus and
  cancer";
- exclusions marked after the list: "patients with lupus, psoriasis or diabetes were
  excluded";
- comparisons and negations, for the few words that follow: "unlike CAR-T therapies",
  "a rash unrelated to systemic lupus", "mistaken for psoriasis".

A list is followed item by item (items end at a comma, "and" or "or") while each item is
short (at most ``ITEM_WORDS`` words); a long item ends the list after its nearest words.
A list never crosses a sentence or clause break (``. ; : ( )``).

What it does not do: parse grammar, scan for the markers (the matcher's automaton finds
them with the terms), or decide what is a subject (``feeds.tagging.matcher`` weighs the
spans). The markers are English news phrasing, not configuration: they say how
text is built, not what a topic is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from feeds.tagging.text import word_form

ITEM_WORDS = 4  # longest list item, in words, that a list is followed across
COMPARISON_WORDS = 4  # words after a comparison marker that are an aside
_EXCLUDED = ("excluded", "ineligible", "not eligible")

_AFTER, _BEFORE, _COMPARISON = "after", "before", "comparison"
# Folded marker phrases -> kind. after: a list of examples (or exclusions) ends just
# before the marker; before: a list of examples, exclusions or adjustments starts just
# after it; comparison: the next few words are not what the text is about. The matcher
# finds them as whole words in the scan that finds the terms (``feeds.tagging.rules``).
MARKERS: Mapping[str, str] = {
    **dict.fromkeys(("and other", "or other", "and another", "or another"), _AFTER),
    **dict.fromkeys((f"{verb} {state}" for verb in ("were", "was") for state in _EXCLUDED), _AFTER),
    **dict.fromkeys(
        ("such as", "excluding", "adjusted for", "adjusting for", "controlling for"), _BEFORE
    ),
    **dict.fromkeys(
        (
            "unlike",
            "unrelated to",
            "not related to",
            "distinct from",
            "rather than",
            "instead of",
            "mistaken for",
            "misdiagnosed as",
            "confused with",
            "mimic",
            "mimics",
            "mimicking",
        ),
        _COMPARISON,
    ),
}
_CLAUSE_BREAK = re.compile(r"[.;:()!?]\s|[;:()]")
_WORD = re.compile(r"\S+")
_CONJUNCTIONS = frozenset({"and", "or"})


def aside_spans(text: str, markers: Iterable[tuple[str, int, int]]) -> list[tuple[int, int]]:
    """The (start, end) offsets of the asides in ``text``, which is folded
    (``feeds.tagging.text.fold``), given its markers as (kind, start, end)."""
    spans: list[tuple[int, int]] = []
    for kind, start, end in markers:
        if kind == _AFTER:
            first = _list_start(text, start)
            if first < start:
                spans.append((first, start))
        elif kind == _BEFORE:
            last = _list_end(text, end)
            if last > end:
                spans.append((end, last))
        else:
            stop = _clause_end(text, end)
            comma = text.find(",", end, stop)  # a comparison does not run on past a comma
            words = list(_WORD.finditer(text, end, stop if comma < 0 else comma))
            if words:
                spans.append((end, words[:COMPARISON_WORDS][-1].end()))
    return [_trimmed(text, start, end) for start, end in spans]


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without white space at either end."""
    piece = text[start:end]
    return start + len(piece) - len(piece.lstrip()), end - len(piece) + len(piece.rstrip())


def markers_in(text: str) -> list[tuple[str, int, int]]:
    """The markers in folded ``text`` as (kind, start, end), in order: what the matcher's
    automaton finds, for callers without one."""
    padded = f" {word_form(text)} "
    found = []
    for marker, kind in MARKERS.items():
        at = padded.find(f" {marker} ")
        while at >= 0:
            found.append((kind, at, at + len(marker)))  # padded offset + 1 - 1
            at = padded.find(f" {marker} ", at + 1)
    return sorted(found, key=lambda m: m[1])


def _clause_start(text: str, end: int) -> int:
    found = [m.end() for m in _CLAUSE_BREAK.finditer(text, 0, end)]
    return found[-1] if found else 0


def _clause_end(text: str, start: int) -> int:
    found = _CLAUSE_BREAK.search(text, start)
    return found.start() if found else len(text)


def _items(text: str, start: int, end: int) -> list[list[re.Match[str]]]:
    """The words of ``text[start:end]`` grouped into list items: a comma ends an item, and
    "and" / "or" separate items without belonging to either."""
    items: list[list[re.Match[str]]] = [[]]
    for word in _WORD.finditer(text, start, end):
        if word.group() in _CONJUNCTIONS:
            items.append([])
            continue
        items[-1].append(word)
        if word.group().endswith(","):
            items.append([])
    return [item for item in items if item]


def _list_start(text: str, end: int) -> int:
    """Where a list that ends at ``end`` starts: back across short items."""
    start = end
    for item in reversed(_items(text, _clause_start(text, end), end)):
        start = item[-ITEM_WORDS].start() if len(item) > ITEM_WORDS else item[0].start()
        if len(item) > ITEM_WORDS:  # only its nearest words belong to the list
            break
    return start


def _list_end(text: str, start: int) -> int:
    """Where a list that starts at ``start`` ends: on across short items."""
    end = start
    for item in _items(text, start, _clause_end(text, start)):
        end = item[ITEM_WORDS - 1].end() if len(item) > ITEM_WORDS else item[-1].end()
        if len(item) > ITEM_WORDS:
            break
    return end
