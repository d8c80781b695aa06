"""Identifiers of studies in links and text: DOIs, PubMed/PMC ids, trial registrations, arXiv.

- ``find_studies(texts)``: every identifier in some links/prose/HTML, canonical, in order of
  first appearance, without repeats (the normalize stage calls it).
- ``parse_study(text)``: exactly one identifier as a user writes it (``/studies/{id}``,
  ``study=``): a key (``doi:10.1038/…``, ``pmid:36109639``), a bare id (``10.1038/…``,
  ``NCT01234567``, ``PMID:36109639``, ``PMC9012345``, ``arXiv:2301.01234``) or a resolver URL.
- ``from_key(key)``: the id back from its stored key.

Schemes, canonical forms and URLs: ``feeds.identifiers.schemes`` and ``StudyId`` in
``feeds.models``; where ids are looked for: ``feeds.identifiers.finders``. This package does
no I/O and does not decide what an article is "about": an id cited is an id found.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from urllib.parse import unquote

from feeds.identifiers.finders import hits
from feeds.identifiers.schemes import MAKERS, MAX_LENGTH, from_key
from feeds.models import StudyId

__all__ = ["find_dois", "find_studies", "from_key", "parse_study"]

# Spellings of a scheme before ":" in user input ("pmc:PMC1", "PMCID:PMC1", "arXiv:…").
_SCHEME_ALIASES = {"pmc": "pmcid", "clinicaltrials": "nct", "eu-ct": "euct"}
_SCHEME = re.compile(r"([A-Za-z-]+):(?!//)(.+)", re.S)


def find_studies(texts: Iterable[str]) -> tuple[StudyId, ...]:
    """Every distinct study id in ``texts`` (links or prose, HTML allowed), in order."""
    found: dict[str, StudyId] = {}
    for text in texts:
        if not text:
            continue
        for hit in sorted(hits(_decoded(text)), key=lambda h: (h.start, -h.end)):
            found.setdefault(hit.study.key, hit.study)
    return tuple(found.values())


def find_dois(texts: Iterable[str]) -> tuple[str, ...]:
    """The DOIs among ``find_studies(texts)``, lower-case, without ``doi:``."""
    return tuple(s.value for s in find_studies(texts) if s.scheme == "doi")


def parse_study(text: str) -> StudyId | None:
    """The one identifier ``text`` names, or None when it names none or several."""
    candidate = re.sub(r":\s+", ":", text.strip())
    if not candidate or len(candidate) > MAX_LENGTH or any(c.isspace() for c in candidate):
        return None
    if candidate.lower().startswith(("http://", "https://")):
        found = find_studies([candidate])
        return found[0] if len(found) == 1 else None
    if match := _SCHEME.fullmatch(candidate):
        scheme = match.group(1).lower()
        scheme = _SCHEME_ALIASES.get(scheme, scheme)
        if scheme in MAKERS:
            return MAKERS[scheme](match.group(2))
        # Not a scheme we know: "PMID:123" (text prefix) is read below, anything else is not.
    found_hits = list(hits(candidate))
    if len(found_hits) != 1:
        return None
    hit = found_hits[0]
    # The whole input must be the id (a "doi:" in front is fine, nothing else).
    before, after = candidate[: hit.start], candidate[hit.end :]
    if after or before.lower() not in ("", "doi:"):
        return None
    return hit.study


def _decoded(text: str) -> str:
    """``text`` with percent-encoding (``10.1001%2Fjama``) and HTML entities decoded."""
    if "%" in text:
        text = unquote(text)
    if "&" in text:
        text = html.unescape(text)
    return text
