"""Validate one candidate value per identifier scheme and give its canonical ``StudyId``.

Each ``make_*`` function takes the raw value a finder (or a user) supplied and returns the
canonical id, or ``None`` when the value breaks the scheme's rules. They do not search text
(``feeds.identifiers.finders`` does) and hold no state.

Canonical values, one per scheme (the key is ``scheme:value``):

- ``doi``: lower-case (DOIs are case-insensitive, DOI Handbook §2.4), ``10.`` + registrant
  (4–9 digits, optional dotted sub-elements, §2.2.2) + ``/`` + suffix. medRxiv/bioRxiv
  (``10.1101/2020.04.14.20062463``) lose their version (``v2``) and page (``.full.pdf``)
  suffixes and are flagged as preprints, as are the DOIs of other preprint servers.
- ``pmid``: the PubMed id's digits, no leading zero.
- ``pmcid``: ``PMC`` + digits, upper-case.
- ``nct``: ``NCT`` + exactly 8 digits (ClinicalTrials.gov).
- ``euct``: ``YYYY-NNNNNN-NN-NN``, the EU Clinical Trials Regulation number (CTIS, 2022 on).
- ``eudract``: ``YYYY-NNNNNN-NN``, the legacy EudraCT number (2004 on).
- ``isrctn``: ``ISRCTN`` + exactly 8 digits.
- ``arxiv``: ``YYMM.NNNNN`` (4 digits before 2015) or ``archive/YYMMNNN``, without the
  version: every version is the same study, and a feed should group them.

Some DOIs name another scheme's record with certainty and become that id instead:
``10.48550/arXiv.2301.01234`` (arXiv's DataCite DOIs) and ``10.1186/ISRCTN12345678``.
"""

from __future__ import annotations

import re
from typing import Final

from feeds.models import STUDY_DOMAINS, StudyId

MAX_LENGTH: Final = 300  # no real identifier is longer; a bound keeps garbage cheap

DOI_SHAPE = re.compile(r"10\.\d{4,9}(?:\.\d+)*/[^\s\x00-\x1f\x7f-\x9f]+")  # no control characters
# medRxiv/bioRxiv: dated (since December 2019) or six-digit legacy suffixes; other 10.1101
# DOIs are Cold Spring Harbor journals (gr., gad., cshperspect.), not preprints.
_RXIV = re.compile(
    r"10\.1101/(\d{4}\.\d\d\.\d\d\.\d{6,8}|\d{6})(?:v\d+)?"
    r"(?:\.(?:full|full\.pdf|full-text|abstract|article-info|article-metrics|"
    r"supplementary-material)|\+html)?"
)
PREPRINT_DOI_PREFIXES: Final = (
    "10.21203/rs.",  # Research Square
    "10.2139/ssrn.",  # SSRN
    "10.20944/preprints",  # Preprints.org
    "10.31219/osf.io/",  # OSF Preprints
    "10.31234/osf.io/",  # PsyArXiv
)
_ARXIV_DOI = re.compile(r"10\.48550/arxiv\.(.+)")
_ISRCTN_DOI = re.compile(r"10\.1186/(isrctn\d{8})")

_DIGITS = re.compile(r"[1-9]\d{0,8}")
_PMCID = re.compile(r"(?i)(?:pmc)?([1-9]\d{0,8})")
_NCT = re.compile(r"(?i)nct(\d{8})")
_EUCT = re.compile(r"(20\d\d)-(\d{6})-(\d\d)-(\d\d)")
_EUDRACT = re.compile(r"(20\d\d)-(\d{6})-(\d\d)")
_ISRCTN = re.compile(r"(?i)(?:isrctn)?(\d{8})")
_ARXIV_NEW = re.compile(r"(\d\d)(\d\d)\.(\d{4,5})(?:v\d+)?")
_ARXIV_OLD = re.compile(r"(?i)([a-z]+(?:-[a-z]+)?)(?:\.[a-z]{2})?/(\d\d)(\d\d)(\d{3})(?:v\d+)?")
# The archives of arXiv's identifiers before April 2007 (arxiv.org/help/arxiv_identifier).
ARXIV_ARCHIVES: Final = frozenset(
    {
        "acc-phys", "adap-org", "alg-geom", "ao-sci", "astro-ph", "atom-ph", "bayes-an",
        "chao-dyn", "chem-ph", "cmp-lg", "comp-gas", "cond-mat", "cs", "dg-ga", "funct-an",
        "gr-qc", "hep-ex", "hep-lat", "hep-ph", "hep-th", "math", "math-ph", "mtrl-th",
        "nlin", "nucl-ex", "nucl-th", "patt-sol", "physics", "plasm-ph", "q-alg", "q-bio",
        "quant-ph", "solv-int", "supr-con",
    }
)  # fmt: skip


def make_doi(raw: str) -> StudyId | None:
    """The id of DOI ``raw`` (already cut out of its text), or None."""
    doi = raw.strip().lower()
    if len(doi) > MAX_LENGTH or not DOI_SHAPE.fullmatch(doi):
        return None
    if arxiv := _ARXIV_DOI.fullmatch(doi):
        return make_arxiv(arxiv.group(1))
    if isrctn := _ISRCTN_DOI.fullmatch(doi):
        return make_isrctn(isrctn.group(1))
    if rxiv := _RXIV.fullmatch(doi):
        return StudyId("doi", f"10.1101/{rxiv.group(1)}", preprint=True)
    return StudyId("doi", doi, preprint=doi.startswith(PREPRINT_DOI_PREFIXES))


def make_pmid(raw: str) -> StudyId | None:
    """PubMed ids are positive integers (currently 8 digits at most; 9 allowed for growth)."""
    return StudyId("pmid", raw) if _DIGITS.fullmatch(raw) else None


def make_pmcid(raw: str) -> StudyId | None:
    """``PMC1234567`` or its digits."""
    match = _PMCID.fullmatch(raw)
    return StudyId("pmcid", f"PMC{match.group(1)}") if match else None


def make_nct(raw: str) -> StudyId | None:
    """``NCT`` + exactly 8 digits."""
    match = _NCT.fullmatch(raw)
    return StudyId("nct", f"NCT{match.group(1)}") if match else None


def make_euct(raw: str) -> StudyId | None:
    """An EU CT number; the CTIS register opened in 2022, so earlier years are not one."""
    match = _EUCT.fullmatch(raw)
    if not match or int(match.group(1)) < 2022:
        return None
    return StudyId("euct", match.group(0))


def make_eudract(raw: str) -> StudyId | None:
    """A EudraCT number; the database opened in 2004."""
    match = _EUDRACT.fullmatch(raw)
    if not match or not 2004 <= int(match.group(1)) <= 2039:
        return None
    return StudyId("eudract", match.group(0))


def make_isrctn(raw: str) -> StudyId | None:
    """``ISRCTN`` + exactly 8 digits (or the digits alone)."""
    match = _ISRCTN.fullmatch(raw.replace(" ", "", 1))
    return StudyId("isrctn", f"ISRCTN{match.group(1)}") if match else None


def make_arxiv(raw: str) -> StudyId | None:
    """A new-style (``2301.01234v2``) or old-style (``hep-th/9901001``) arXiv id."""
    if new := _ARXIV_NEW.fullmatch(raw):
        year, month, number = int(new.group(1)), int(new.group(2)), new.group(3)
        # Scheme started 0704; five-digit numbers from 1501 (arxiv.org/help/arxiv_identifier).
        if not 1 <= month <= 12 or (year, month) < (7, 4):
            return None
        if len(number) != (5 if year >= 15 else 4):
            return None
        return StudyId("arxiv", f"{new.group(1)}{new.group(2)}.{number}", preprint=True)
    if old := _ARXIV_OLD.fullmatch(raw):
        archive, year, month = old.group(1).lower(), int(old.group(2)), int(old.group(3))
        # Old-style ids ran from August 1991 to March 2007.
        if archive not in ARXIV_ARCHIVES or not 1 <= month <= 12:
            return None
        if not (year >= 91 or (year, month) <= (7, 3)):
            return None
        value = f"{archive}/{old.group(2)}{old.group(3)}{old.group(4)}"
        return StudyId("arxiv", value, preprint=True)
    return None


MAKERS: Final = {
    "doi": make_doi,
    "pmid": make_pmid,
    "pmcid": make_pmcid,
    "nct": make_nct,
    "euct": make_euct,
    "eudract": make_eudract,
    "isrctn": make_isrctn,
    "arxiv": make_arxiv,
}
assert MAKERS.keys() == STUDY_DOMAINS.keys()


def from_key(key: str) -> StudyId | None:
    """The id whose ``key`` is ``key`` ("doi:10.1038/…"), or None if it is not canonical."""
    scheme, _, value = key.partition(":")
    maker = MAKERS.get(scheme)
    study = maker(value) if maker else None
    return study if study is not None and study.key == key else None
