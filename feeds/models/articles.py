"""Articles: a normalized entry with the topics it is about and the studies it cites.

``Article`` is what normalize builds, tag completes (``topics``) and storage keeps and reads
back; ``StudyId`` is built only by ``feeds.identifiers``. Nothing here does I/O, and tags
and study ids are values, not rules: matching is ``feeds.tagging``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final
from urllib.parse import quote

from feeds.models.fetching import Enclosure


@dataclass(frozen=True, slots=True)
class Match:
    """One piece of evidence that an article is about a topic."""

    topic: str  # topic slug
    term: str  # the phrase as written in the rules (or the child topic, for "parent")
    rule: str  # "term", "acronym", "mesh:D…", "source" or "parent"
    field: str  # "title", "lead", "summary", "content", "category", "source" or "parent"
    start: int  # offset in the folded field text
    end: int  # end offset (exclusive)


@dataclass(frozen=True, slots=True)
class TopicTag:
    """A topic an article is about, with its score and the evidence."""

    topic: str  # topic slug
    score: float  # sum of mention weights (see feeds.tagging.matcher)
    matches: tuple[Match, ...]  # the evidence, in text order


# Where each study-identifier scheme resolves: the canonical URL of an id is this prefix
# followed by its value, so the prefix doubles as the RSS <category domain> (docs/design.md,
# "Identifiers of studies").
STUDY_DOMAINS: Final = {
    "doi": "https://doi.org/",
    "pmid": "https://pubmed.ncbi.nlm.nih.gov/",
    "pmcid": "https://pmc.ncbi.nlm.nih.gov/articles/",
    "nct": "https://clinicaltrials.gov/study/",
    "euct": "https://euclinicaltrials.eu/ctis-public/view/",
    "eudract": "https://www.clinicaltrialsregister.eu/ctr-search/search?query=",
    "isrctn": "https://www.isrctn.com/",
    "arxiv": "https://arxiv.org/abs/",
}
STUDY_LABELS: Final = {
    "doi": "DOI ",
    "pmid": "PMID ",
    "pmcid": "PMCID ",
    "nct": "ClinicalTrials.gov ",
    "euct": "EU CT ",
    "eudract": "EudraCT ",
    "isrctn": "",
    "arxiv": "arXiv:",
}
# Characters a value may keep literally in a URL path: "/" and the punctuation common in
# DOIs, so a link reads like the id; "%", "#", "?", space, quotes and "<>" are escaped (DOI
# Handbook §2.5.2.4).
URL_SAFE: Final = "/:;()[]!$&'*+,=@"


@dataclass(frozen=True, slots=True, order=True)
class StudyId:
    """An identifier of a study (paper, preprint or trial registration), in canonical form.

    ``feeds.identifiers`` finds, validates and builds these; nothing else should.
    """

    scheme: str  # one of STUDY_DOMAINS: doi, pmid, pmcid, nct, euct, eudract, isrctn, arxiv
    value: str  # canonical value: "10.1038/s41591-022-02017-5", "36109639", "NCT01234567"
    preprint: bool = False  # a preprint (arXiv, medRxiv/bioRxiv and other preprint DOIs)

    @property
    def key(self) -> str:
        """The one string form stored and matched: "doi:10.1038/…", "pmid:36109639"."""
        return f"{self.scheme}:{self.value}"

    @property
    def domain(self) -> str:
        """The resolver prefix of the scheme (RSS category domain)."""
        return STUDY_DOMAINS[self.scheme]

    @property
    def url(self) -> str:
        """Where the study can be read: the resolver prefix followed by the value."""
        return self.domain + quote(self.value, safe=URL_SAFE)

    @property
    def label(self) -> str:
        """The id as people write it: "DOI 10.1038/…", "PMID 36109639", "ISRCTN12345678"."""
        return STUDY_LABELS[self.scheme] + self.value

    @property
    def quoted_key(self) -> str:
        """``key`` escaped for a URL path (``/studies/{quoted_key}``)."""
        return quote(self.key, safe=URL_SAFE)


@dataclass(frozen=True, slots=True)
class Article:
    """A normalized entry, ready to store. Its ``id`` never changes for the same entry."""

    id: str  # stable id derived from (source id, entry id)
    source_id: str  # the source it came from
    entry_id: str  # the entry's id within that source
    url: str | None  # canonical absolute link
    title: str  # plain text, no markup
    summary: str  # plain text, at most 500 characters
    content_html: str  # sanitized HTML with absolute URLs
    published: datetime  # effective date: published, else updated, else first seen (UTC)
    updated: datetime | None  # the feed's update date, if any (UTC)
    first_seen: datetime  # when feeds first stored this entry
    authors: tuple[str, ...] = ()  # author names
    categories: tuple[str, ...] = ()  # the source's own categories
    enclosures: tuple[Enclosure, ...] = ()  # attached media
    dois: tuple[str, ...] = ()  # DOIs found in links and text, lower-case (doi studies' values)
    content_hash: str = ""  # digest of the stored fields, to tell an edit from a re-fetch
    topics: tuple[TopicTag, ...] = ()  # what the tag stage found; not part of content_hash
    studies: tuple[StudyId, ...] = ()  # every study id found in links and text, in order
