"""Frozen, typed values that cross the boundaries between pipeline stages.

Nothing here does I/O. Collections are tuples so a value can be shared freely; every
datetime is timezone-aware UTC.

The package's modules, one per stage, each importable on its own:

- ``sources``: a source as configured (``Source``) and its fetch health (``SourceHealth``)
- ``fetching``: fetch results (``Fetched | NotModified | Failed``) and the parsed feed
- ``articles``: ``Article`` with its topic tags (``TopicTag``, ``Match``) and ``StudyId``s
- ``reports``: what an update did, per source and per run
- ``reading``: what a feed page asks for (``ArticleQuery``) and the ``Story``s it shows

Everything callers use is re-exported here: ``from feeds.models import Article``.
"""

from __future__ import annotations

from feeds.models.articles import (
    STUDY_DOMAINS,
    STUDY_LABELS,
    URL_SAFE,
    Article,
    Match,
    StudyId,
    TopicTag,
)
from feeds.models.fetching import (
    NO_HINTS,
    CacheHints,
    Enclosure,
    Failed,
    Fetched,
    FetchResult,
    NotModified,
    ParsedEntry,
    ParsedFeed,
    ParseResult,
    Validators,
)
from feeds.models.reading import ArticleQuery, Story, StoryMember
from feeds.models.reports import SourceReport, StoreCounts, UpdateSummary
from feeds.models.sources import Source, SourceHealth, SourceStatus, iso

__all__ = [
    "NO_HINTS",
    "STUDY_DOMAINS",
    "STUDY_LABELS",
    "URL_SAFE",
    "Article",
    "ArticleQuery",
    "CacheHints",
    "Enclosure",
    "Failed",
    "FetchResult",
    "Fetched",
    "Match",
    "NotModified",
    "ParseResult",
    "ParsedEntry",
    "ParsedFeed",
    "Source",
    "SourceHealth",
    "SourceReport",
    "SourceStatus",
    "StoreCounts",
    "Story",
    "StoryMember",
    "StudyId",
    "TopicTag",
    "UpdateSummary",
    "Validators",
    "iso",
]
