"""Frozen, typed values that cross the boundaries between pipeline stages.

Nothing here does I/O. Collections are tuples so a value can be shared freely; every
datetime is timezone-aware UTC.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final
from urllib.parse import quote

from feeds.errors import ErrorKind


class SourceStatus(enum.StrEnum):
    """What a source's last fetch amounted to, as shown to operators."""

    NEW = "new"  # configured, never fetched
    OK = "ok"  # the last fetch brought a feed
    NOT_MODIFIED = "not_modified"  # the last fetch was answered 304 Not Modified
    FAILING = "failing"  # the last fetch failed; see error_kind / error_message
    GONE = "gone"  # the server answered 410 Gone: never fetched again until reconfigured
    DISABLED = "disabled"  # enabled: false in the config, or removed from it


@dataclass(frozen=True, slots=True)
class Source:
    """A source as configured: what to fetch and how often."""

    id: str  # slug, unique across sources
    name: str  # display name
    url: str  # absolute http(s) URL, or a file: URL for a local file
    interval: timedelta  # how long to wait between two successful checks
    topics: tuple[str, ...] = ()  # topic slugs every article of this source gets
    enabled: bool = True  # disabled sources are kept but never fetched
    allow_private: bool = False  # may connect to loopback/private/link-local addresses


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """What the database knows about a source's fetching, one row per source."""

    source_id: str  # the Source.id this row belongs to
    name: str  # display name at the last sync
    url: str  # URL fetched (the configured one, or where a permanent redirect led)
    enabled: bool  # copy of Source.enabled at the last sync
    status: SourceStatus  # summary of the last fetch
    etag: str | None  # ETag exactly as last received, sent back as If-None-Match
    last_modified: str | None  # Last-Modified exactly as received, sent as If-Modified-Since
    last_fetch_at: datetime | None  # when the last fetch ended, whatever its outcome
    last_success_at: datetime | None  # when a fetch last brought a feed or a 304
    error_kind: ErrorKind | None  # why the last fetch failed; None after a success
    error_message: str | None  # human-readable detail of that failure
    error_count: int  # consecutive failures; 0 after a success
    failing_since: datetime | None  # first failure of the current run of failures
    next_check_at: datetime | None  # when the source is due again; None means now
    last_bytes: int | None  # size of the last body received (decompressed)
    last_duration_ms: int | None  # wall time of the last fetch
    body_hash: str | None = None  # sha256 of the last body parsed, to skip an unchanged one
    config_url: str | None = None  # the configured URL, when a permanent redirect moved us
    refresh_minutes: float | None = None  # the feed's <ttl> / sy:updatePeriod, kept over 304s

    @property
    def shown_status(self) -> SourceStatus:
        """The status to show: ``disabled`` wins over the last fetch's outcome."""
        return self.status if self.enabled else SourceStatus.DISABLED

    def to_json(
        self, articles: int | None = None, articles_7d: int | None = None
    ) -> dict[str, object]:
        """The source as ``feeds sources --json`` and ``/sources.json`` show it."""
        return {
            "id": self.source_id,
            "name": self.name,
            "url": self.url,
            "moved_from": self.config_url if self.config_url != self.url else None,
            "status": str(self.shown_status),
            "last_fetch": iso(self.last_fetch_at),
            "last_success": iso(self.last_success_at),
            "error_kind": str(self.error_kind) if self.error_kind else None,
            "error": self.error_message,
            "error_count": self.error_count,
            "failing_since": iso(self.failing_since),
            "next_check": iso(self.next_check_at),
            "articles": articles,
            "articles_7d": articles_7d,
            "last_bytes": self.last_bytes,
            "last_duration_ms": self.last_duration_ms,
        }

    @property
    def needs_attention(self) -> bool:
        """Failing or gone: what ``--failing`` and the failing-sources feed list."""
        return self.enabled and self.status in (SourceStatus.FAILING, SourceStatus.GONE)

    @property
    def gone(self) -> bool:
        """The server said 410 Gone; the source is not fetched until its URL changes."""
        return self.status is SourceStatus.GONE


def iso(value: datetime | None) -> str | None:
    """RFC 3339 in UTC with a ``Z`` (RFC 3339 §5.6), or None."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


@dataclass(frozen=True, slots=True)
class Validators:
    """The opaque values a conditional GET sends back (RFC 9110 §13.1)."""

    etag: str | None = None  # sent as If-None-Match
    last_modified: str | None = None  # sent as If-Modified-Since


@dataclass(frozen=True, slots=True)
class CacheHints:
    """What a response says about when to ask again (RFC 9111 §5.2, §5.3; RFC 9110 §10.2.3).

    Durations are relative to the response, computed against its Date header when it has
    one, so a server's clock skew does not matter.
    """

    max_age: float | None = None  # Cache-Control max-age, seconds (None with no-cache/no-store)
    expires_in: float | None = None  # Expires minus Date, seconds
    retry_after: float | None = None  # Retry-After (seconds or HTTP-date), seconds


NO_HINTS = CacheHints()


@dataclass(frozen=True, slots=True)
class Fetched:
    """A fetch that brought a body."""

    url: str  # final URL, after redirects
    body: bytes  # decompressed body, at most fetch.max_bytes long
    content_type: str | None  # Content-Type header, for the charset
    validators: Validators  # ETag / Last-Modified to store for the next fetch
    elapsed: float  # seconds from request to last byte
    status: int = 200  # HTTP status (200 for local files)
    hints: CacheHints = NO_HINTS  # caching headers, for the next check time
    moved_to: str | None = None  # new URL after only permanent redirects (301/308)


@dataclass(frozen=True, slots=True)
class NotModified:
    """A conditional fetch answered 304: nothing to parse."""

    url: str  # URL that answered
    validators: Validators  # validators to keep (refreshed when the 304 carries new ones)
    elapsed: float  # seconds the request took
    hints: CacheHints = NO_HINTS  # caching headers, for the next check time


@dataclass(frozen=True, slots=True)
class Failed:
    """A fetch or parse that could not produce entries."""

    kind: ErrorKind  # one of the closed set of error kinds
    message: str  # what happened, for people; starts with the stage
    status_code: int | None = None  # the HTTP status, for kind http_status
    elapsed: float = 0.0  # seconds spent before failing
    hints: CacheHints = NO_HINTS  # Retry-After on 429/503, for the next check time


FetchResult = Fetched | NotModified | Failed


@dataclass(frozen=True, slots=True)
class Enclosure:
    """A media file attached to an entry (RSS <enclosure>, Atom rel="enclosure")."""

    url: str  # absolute URL
    type: str | None = None  # MIME type as declared
    length: int | None = None  # size in bytes as declared


@dataclass(frozen=True, slots=True)
class ParsedEntry:
    """One feed entry as the feed states it, before any cleaning."""

    entry_id: str  # guid / atom:id, else link, else a hash of title + link
    title: str  # as HTML (a plain-text title is escaped), like summary_html
    link: str | None  # the entry's main link, resolved against xml:base / feed URL
    links: tuple[str, ...]  # every other link of the entry (related, via, ...)
    summary_html: str  # description / summary as HTML
    content_html: str  # full content as HTML, or ""
    published: datetime | None  # publication date from the feed, UTC
    updated: datetime | None  # last-update date from the feed, UTC
    authors: tuple[str, ...]  # author names (or e-mails when no name is given)
    categories: tuple[str, ...]  # the feed's own category terms
    enclosures: tuple[Enclosure, ...]  # attached media
    html_base: str | None = None  # base URI (xml:base, else the feed URL) of the HTML fields


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A feed document that yielded entries (or was validly empty)."""

    url: str  # the URL the document came from, for resolving relative links
    title: str  # channel / feed title
    link: str | None  # the site the feed belongs to
    version: str  # feedparser's format name (rss20, atom10, rss10, ...)
    entries: tuple[ParsedEntry, ...]  # entries that could be read
    ttl_minutes: int | None = None  # RSS <ttl>, for scheduling
    update_minutes: float | None = None  # sy:updatePeriod / sy:updateFrequency, in minutes
    warnings: tuple[str, ...] = ()  # survivable problems (bozo, skipped entries)


ParseResult = ParsedFeed | Failed


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


@dataclass(frozen=True, slots=True)
class StoreCounts:
    """How an upsert of one source's articles went."""

    new: int = 0  # articles seen for the first time
    updated: int = 0  # known articles whose content changed
    unchanged: int = 0  # known articles fetched again unchanged


@dataclass(frozen=True, slots=True)
class SourceReport:
    """The outcome of updating one source, as reported by ``feeds update``."""

    source_id: str  # which source
    status: SourceStatus  # ok, not_modified or failing
    counts: StoreCounts = field(default_factory=StoreCounts)  # articles new/updated/unchanged
    error_kind: ErrorKind | None = None  # why it failed
    error: str | None = None  # the failure message
    warnings: tuple[str, ...] = ()  # survivable parse problems

    def to_json(self) -> dict[str, object]:
        """The per-source object of ``feeds update --json``."""
        return {
            "id": self.source_id,
            "status": str(self.status),
            "new": self.counts.new,
            "updated": self.counts.updated,
            "error_kind": str(self.error_kind) if self.error_kind else None,
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class UpdateSummary:
    """The outcome of one update run over several sources."""

    sources: tuple[SourceReport, ...]  # one report per source processed

    def to_json(self) -> dict[str, object]:
        """The object ``feeds update --json`` prints."""
        return {
            "new": sum(r.counts.new for r in self.sources),
            "updated": sum(r.counts.updated for r in self.sources),
            "unchanged": sum(r.counts.unchanged for r in self.sources),
            "failed": sum(1 for r in self.sources if r.error_kind is not None),
            "sources": [r.to_json() for r in self.sources],
        }


@dataclass(frozen=True, slots=True)
class ArticleQuery:
    """Which articles a feed or API page shows: the same filters everywhere."""

    topics: tuple[str, ...] = ()  # articles in any of these topics (all of them: match_all)
    match_all: bool = False  # require every topic in ``topics``
    exclude: tuple[str, ...] = ()  # leave out articles in any of these topics
    text: str | None = None  # full-text query (words, all required)
    sources: tuple[str, ...] = ()  # only these source ids
    since: datetime | None = None  # published at or after (UTC)
    until: datetime | None = None  # published before (UTC, exclusive)
    min_score: float | None = None  # topic tags at least this confident
    limit: int = 50  # page size
    before: tuple[datetime, str] | None = None  # cursor: after this (published, id) position
    studies: tuple[str, ...] = ()  # only articles citing one of these StudyId keys
    stories: bool = False  # one result per story cluster (collapse=stories), not per article


@dataclass(frozen=True, slots=True)
class StoryMember:
    """An article of a story as the story lists it beside its lead: what an "also reported
    by" line and the story's DOIs need, not the article's text, tags or study ids."""

    id: str  # the article's id
    source_id: str  # the outlet that published it
    url: str | None  # canonical absolute link
    title: str  # plain text, no markup
    published: datetime  # effective date (UTC), as Article.published
    dois: tuple[str, ...]  # DOIs found in it, lower-case, as Article.dois


@dataclass(frozen=True, slots=True)
class Story:
    """A story cluster as a feed shows it: every article reporting the same story, and in
    full the ones that may stand for it (``feeds.stories.lead_article`` picks among them)."""

    id: str  # stable story id: the founding article's id
    first_published: datetime  # the story's first publication: its position in a feed
    updated: datetime | None  # when the last new outlet joined; None while it has one outlet
    articles: tuple[StoryMember, ...]  # every member, oldest first
    # The members the query's filters selected (every member if none was), oldest first,
    # in full with topics and study ids: only these may lead the story.
    leads: tuple[Article, ...]
