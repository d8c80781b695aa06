"""Find candidate study identifiers in one text (a link, a title, HTML): where, and what.

Every pattern needs the context that makes it certain: a bare ``36109639`` or ``2301.01234``
is a number, not an id, so PubMed ids need ``PMID`` or a PubMed URL and arXiv ids need
``arXiv:`` or an arxiv.org URL; registry numbers (``NCT…``, ``ISRCTN…``, EU CT) carry their own
prefix or shape. Every pattern is bounded on both sides so that no id is read out of a longer
token (``NCT012345678`` is not ``NCT01234567``). Validation and canonical form are left to
``feeds.identifiers.schemes``; this module only locates.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from feeds.identifiers import schemes
from feeds.models import StudyId

# Typographic quotes and guillemets end a DOI: registrants do not use them, prose does. So do
# control characters, as whitespace does ("%00" in a link decodes to NUL, which PostgreSQL
# refuses in text: one such link failed every update).
_DOI = re.compile(
    r"\b10\.\d{4,9}(?:\.\d+)*/"
    r"[^\s\x00-\x1f\x7f-\x9f\"'<>\u201c\u201d\u2018\u2019\u00ab\u00bb]+"
)
_TRAILING = ".,;:!?'\"*/\u201d\u2019\u00bb\u203a\u2026"  # incl. ” ’ » › … and a path's "/"
_PAIRS = {")": "(", "]": "[", "}": "{"}

# Publisher URLs whose path maps to a DOI with certainty (the rule is the publisher's own):
# Nature research articles are 10.1038/{article id}; The Lancet's PII is the DOI suffix.
_PUBLISHER = (
    (
        re.compile(
            r"(?i)\bnature\.com/articles/(s\d{5}-\d{3}-\d{5}-[0-9a-z]|nature\d{5}|ncomms\d{4,5})"
            r"(?![\w-])"
        ),
        "10.1038/",
    ),
    (
        # The path is bounded so that a text full of "thelancet.com/" cannot make it quadratic.
        re.compile(
            r"(?i)\bthelancet\.com/[\w/-]{0,200}?/PII(S\d{4}-\d{3}[\dX]\(\d\d\)\d{5}-[\dX])"
        ),
        "10.1016/",
    ),
)


def _isrctn(raw: str) -> StudyId | None:
    """ "ISRCTN 12345678" and "ISRCTN: 12345678" are written as well as "ISRCTN12345678"."""
    return schemes.make_isrctn(re.sub(r"[:\s]", "", raw))


_END = r"(?![0-9A-Za-z])"
_START = r"(?<![0-9A-Za-z])"
_PATTERNS: tuple[tuple[re.Pattern[str], Callable[[str], StudyId | None]], ...] = (
    (
        re.compile(
            r"(?i)(?:\bpubmed\.ncbi\.nlm\.nih\.gov/|\bncbi\.nlm\.nih\.gov/pubmed/"
            r"|\beuropepmc\.org/(?:abstract|article)/MED/|\bPMID:?\s?)(\d{1,12})" + _END
        ),
        schemes.make_pmid,
    ),
    (re.compile(_START + r"(PMC\d{1,12})" + _END, re.I), schemes.make_pmcid),
    (re.compile(_START + r"(NCT\d+)" + _END, re.I), schemes.make_nct),
    (re.compile(r"(?<![\w-])(\d{4}-\d{6}-\d\d-\d\d)(?![\w]|-\d)"), schemes.make_euct),
    (re.compile(r"(?<![\w-])(\d{4}-\d{6}-\d\d)(?![\w]|-\d)"), schemes.make_eudract),
    (re.compile(_START + r"(ISRCTN:?\s?\d+)" + _END, re.I), _isrctn),
    (
        re.compile(
            r"(?i)(?:\barxiv:\s?|\barxiv\.org/(?:abs|pdf|html)/)"
            r"(\d{4}\.\d{4,5}(?:v\d+)?|[a-z]+(?:-[a-z]+)?(?:\.[a-z]{2})?/\d{7}(?:v\d+)?)(?!\d)"
        ),
        schemes.make_arxiv,
    ),
)


@dataclass(frozen=True, slots=True)
class Hit:
    """An identifier found in a text, and where."""

    start: int  # offset of the match in the text searched
    end: int  # end offset (exclusive)
    study: StudyId  # the canonical id
    from_doi: bool  # found as a DOI (its suffix is opaque: ids inside it are not ids)


def hits(text: str) -> Iterator[Hit]:
    """Every identifier in ``text``, unordered; ids inside a DOI are left out."""
    dois: list[Hit] = []
    for match in _DOI.finditer(text):
        doi = trim(match.group(0))
        if (study := schemes.make_doi(doi)) is not None:
            dois.append(Hit(match.start(), match.start() + len(doi), study, True))
    for pattern, prefix in _PUBLISHER:
        for match in pattern.finditer(text):
            if (study := schemes.make_doi(prefix + match.group(1))) is not None:
                dois.append(Hit(match.start(), match.end(), study, True))
    yield from dois
    for pattern, make in _PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span(1)
            if any(d.start <= start and end <= d.end for d in dois):
                continue  # "10.1000/NCT01234567-x" is a DOI, not a trial
            if (study := make(match.group(1))) is not None:
                yield Hit(match.start(), end, study, False)


def trim(candidate: str) -> str:
    """Cut a DOI candidate at a URL query/fragment and drop punctuation that ends a sentence.

    A closing bracket is kept only when the suffix also opened one
    (``10.1016/S0140-6736(23)01234-5``).
    """
    for stop in ("?", "#", "&"):
        candidate = candidate.split(stop, 1)[0]
    # Counted once and updated as brackets are cut, so a run of ")" stays linear.
    count = {c: candidate.count(c) for c in (*_PAIRS, *_PAIRS.values())}
    end = len(candidate)
    while end:
        last = candidate[end - 1]
        if last in _PAIRS and count[_PAIRS[last]] < count[last]:
            count[last] -= 1
        elif last not in _TRAILING:
            break
        end -= 1
    return candidate[:end]
