"""Find study identifiers in links and text. Currently: DOIs.

A DOI is ``10.`` + a registrant code of 4–9 digits + ``/`` + a suffix (DOI Handbook §2.2).
Suffixes may contain almost anything, so the hard part is where one *ends* in running text:
trailing sentence punctuation is not part of it, and a closing bracket is only part of it
when the suffix also opened one (``10.1016/S0140-6736(23)01234-5``). DOIs are
case-insensitive (DOI Handbook §2.4), so they are returned lower-cased.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote

# Typographic quotes and guillemets end a DOI: registrants do not use them, prose does.
_DOI = re.compile(r"\b10\.\d{4,9}/[^\s\"'<>\u201c\u201d\u2018\u2019\u00ab\u00bb]+")
_TRAILING = ".,;:!?'\"*\u201d\u2019\u00bb\u203a\u2026"  # incl. ” ’ » › …
_PAIRS = {")": "(", "]": "[", "}": "{"}


def find_dois(texts: Iterable[str]) -> tuple[str, ...]:
    """Every distinct DOI in ``texts`` (links or prose), lower-cased, in order of appearance."""
    found: dict[str, None] = {}
    for text in texts:
        if not text:
            continue
        decoded = unquote(text) if "%" in text else text
        for match in _DOI.finditer(decoded):
            doi = _trim(match.group(0))
            if "/" in doi and not doi.endswith("/"):
                found.setdefault(doi.lower(), None)
    return tuple(found)


def _trim(candidate: str) -> str:
    """Cut a DOI candidate at a URL query/fragment and drop punctuation that ends a sentence."""
    for stop in ("?", "#", "&"):
        candidate = candidate.split(stop, 1)[0]
    while candidate:
        last = candidate[-1]
        if last in _TRAILING or (
            last in _PAIRS and candidate.count(_PAIRS[last]) < candidate.count(last)
        ):
            candidate = candidate[:-1]
        else:
            break
    return candidate
