"""Story clusters: which stored story a new article joins, or whether it founds one. Pure.

Two articles are the same story when, in this order of precedence:

1. they have the same canonical URL (the same page from two sources: one article with two
   outlets), whatever their dates;
2. they are within ``window`` of each other and share a study identifier (DOI, PMID, NCT
   number, …: ``StudyId.key``, see ``study_ids``);
3. they are within ``window``, do not both name studies that differ (two papers on the same
   drug are two stories, however alike their wording), their headlines do not each name
   something the other article never mentions (two drugs, two companies), and their
   normalized title + lead are near-duplicates by rapidfuzz (syndicated copies, light
   rewrites, a press release and its coverage) — where headlines count only when they
   share something beyond the topics' vocabulary (``StoryPolicy.subject``: two lupus
   articles share "systemic lupus erythematosus" whatever news they report).

A story takes members only within ``window`` of its first article (except by URL), so a
chain of near-duplicates cannot stretch one story over months.

Clustering is incremental: an article is compared only with the *candidates* storage
retrieves through the keys of ``keys`` (canonical URL, study ids, the lead's opening, a few
title words) within the window, so its cost depends on how much news arrives per window,
not on how much is stored. The first article of a story gives the story its id, which
never changes as the story grows.

This module decides; it reads and writes nothing (``feeds.storage.stories`` does), and it
does not choose which article a feed shows for a story (``lead_article`` below does, for the
web layer).
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from rapidfuzz import fuzz

from feeds.models import Article
from feeds.tagging.text import fold, word_form

LEAD_CHARS = 300  # how much of the summary counts as the lead
TITLE_KEYS = 4  # title words used as retrieval keys
LEAD_KEY_WORDS = 12  # opening words of the lead that make one key (syndicated copies)
COPY = 90.0  # rapidfuzz ratio of two leads from which one is a copy of the other

# Words that say nothing about which story it is. Short on purpose: rarer words are kept
# and the longest title words become keys, so a list of every English function word is
# not needed.
_STOPWORD_TEXT = (
    "a an and are as at be by for from has have in into is it its of on or that the their "
    "this to was were will with about over new more than study says said finds may could "
    "people patients report reports reported"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


@dataclass(frozen=True, slots=True)
class StoryPolicy:
    """How close two articles must be to be one story."""

    window: timedelta = timedelta(days=7)  # farthest apart two articles of one story are
    threshold: float = 62.0  # rapidfuzz score (0-100) at or above which texts are one story
    subject: frozenset[str] = frozenset()  # topic vocabulary, ``normalized``: no evidence


DEFAULT_POLICY = StoryPolicy()


@dataclass(frozen=True, slots=True)
class Sighting:
    """An article as clustering sees it."""

    article_id: str  # the article's id
    source_id: str  # the outlet that published it
    url: str | None  # canonical link
    published: datetime  # effective publication date (UTC)
    title: str  # plain-text title
    lead: str  # the opening of the plain-text summary
    studies: tuple[str, ...]  # StudyId keys of the studies it cites (``doi:10.…``)


@dataclass(frozen=True, slots=True)
class Member:
    """A stored (or just planned) article and the story it belongs to."""

    sighting: Sighting  # the article
    story_id: str  # its story
    story_first: datetime | None = None  # its story's earliest article (None: this one)


@dataclass(frozen=True, slots=True)
class Assignment:
    """The decision for one new article."""

    article_id: str  # the article
    story_id: str  # the story it joins, or founds (then equal to article_id)
    reason: str  # "url", "study", "text" when joining; "new" when founding
    score: float  # the text similarity that decided it (100 for url/study, 0 for new)


def study_ids(article: Article) -> tuple[str, ...]:
    """The study identifiers clustering compares: the keys of the article's studies
    (``doi:10.…``, ``nct:NCT…``), or its DOIs when it carries no parsed studies."""
    return tuple(s.key for s in article.studies) or tuple(f"doi:{d}" for d in article.dois)


def sighting(article: Article) -> Sighting:
    """What clustering needs of ``article``."""
    return Sighting(
        article_id=article.id,
        source_id=article.source_id,
        url=article.url,
        published=article.published,
        title=article.title,
        lead=article.summary[:LEAD_CHARS],
        studies=study_ids(article),
    )


def normalized(text: str) -> str:
    """Folded text as words separated by single spaces: case, dashes, punctuation gone."""
    return " ".join(word_form(fold(text)).split())


def _words(text: str) -> list[str]:
    return [w for w in normalized(text).split() if w not in _STOPWORDS and len(w) > 2]


def keys(item: Sighting) -> tuple[str, ...]:
    """The retrieval keys of ``item``: any shared key makes two articles candidates.

    ``url:`` and ``study:`` keys decide on their own; ``lead:`` catches syndicated copies
    under a new headline; ``w:`` (the longest title words, which are the rarest in
    practice) catches rewrites. Keys are short so the index stays small.
    """
    found: list[str] = []
    if item.url:
        found.append("url:" + hashlib.sha1(item.url.encode()).hexdigest()[:20])
    found += [f"study:{s}"[:200] for s in item.studies]
    lead = normalized(item.lead).split()[:LEAD_KEY_WORDS]
    if len(lead) >= 6:  # a short lead is too common an opening to mean "the same copy"
        found.append("lead:" + hashlib.sha1(" ".join(lead).encode()).hexdigest()[:20])
    title = sorted(set(_words(item.title)), key=lambda w: (-len(w), w))[:TITLE_KEYS]
    found += [f"w:{w}"[:200] for w in title]
    return tuple(dict.fromkeys(found))


@dataclass(frozen=True, slots=True)
class _Text:
    """An article's text as similarity compares it: words, stopwords left out."""

    title: str  # the title's words, in order, one space apart
    lead: str  # the lead's words, likewise
    text: str  # title and lead
    title_words: frozenset[str]  # the title's words
    words: frozenset[str]  # the words of title and lead


@functools.lru_cache(maxsize=65_536)
def _prepared(title: str, lead: str) -> _Text:
    """The words of a text. Cached: one stored article is compared with every new article
    of its window."""
    title_words, lead_words = _words(title), _words(lead)
    title_text, lead_text = " ".join(title_words), " ".join(lead_words)
    return _Text(
        title=title_text,
        lead=lead_text,
        text=f"{title_text} {lead_text}".strip(),
        title_words=frozenset(title_words),
        words=frozenset(title_words + lead_words),
    )


def similarity(
    a: Sighting, b: Sighting, cutoff: float = 0.0, subject: frozenset[str] = frozenset()
) -> float:
    """How alike two articles' texts are, 0-100 (rapidfuzz), stopwords left out.

    The best of: the titles as sorted word lists (a rewritten headline keeps the story's
    words in another order); each title against the other's title + lead as word sets (a
    press release's headline whose words the coverage uses in its opening); and the leads
    as they stand, counted only when they are near-identical (``COPY``): a syndicated copy
    keeps the lead under a new headline, while two leads written from one template (as
    agency notices are) score high without being one story. Scores under ``cutoff`` may
    be reported as 0 (rapidfuzz then stops early).

    The headline comparisons count only when a headline shares with the other article at
    least one word outside ``subject`` (the topics' vocabulary, ``StoryPolicy.subject``):
    "systemic lupus erythematosus" is a long run of characters that every lupus article
    shares, and alone it scored two different lupus stories as one.
    """
    text_a, text_b = _prepared(a.title, a.lead), _prepared(b.title, b.lead)
    scores = [0.0]
    if text_a.title and text_b.title and _specific(text_a, text_b, subject):
        scores.append(fuzz.token_sort_ratio(text_a.title, text_b.title, score_cutoff=cutoff))
        scores.append(fuzz.token_set_ratio(text_a.title, text_b.text, score_cutoff=cutoff))
        scores.append(fuzz.token_set_ratio(text_a.text, text_b.title, score_cutoff=cutoff))
    if text_a.lead and text_b.lead:
        scores.append(fuzz.ratio(text_a.lead, text_b.lead, score_cutoff=COPY))
    return float(max(scores))


def _specific(a: _Text, b: _Text, subject: frozenset[str]) -> bool:
    """Whether a headline shares a word that is not topic vocabulary with the other text."""
    if not subject:
        return True
    return any(w not in subject for w in (a.title_words & b.words) | (b.title_words & a.words))


def same_story(a: Sighting, b: Sighting, policy: StoryPolicy) -> tuple[str, float] | None:
    """Why ``a`` and ``b`` are one story (reason, score), or None when they are not."""
    if a.url and a.url == b.url:
        return "url", 100.0
    if abs(a.published - b.published) > policy.window:
        return None
    if set(a.studies) & set(b.studies):
        return "study", 100.0
    if a.studies and b.studies:
        return None  # two named studies that differ: never one story by wording alone
    if _names_conflict(a, b):
        return None  # "FDA approves X for Y" and "FDA approves Z for Y" are two stories
    score = similarity(a, b, policy.threshold, policy.subject)
    return ("text", score) if score >= policy.threshold else None


_NAME = re.compile(r"(?<![.!?:]\s)(?<!^)\b([A-Z][\w'-]{3,})")


@functools.lru_cache(maxsize=65_536)
def _names(lead: str) -> frozenset[str]:
    """Words the lead capitalizes mid-sentence (drugs, companies, places), folded. The lead,
    not the title: headlines are often in title case, where every word is capitalized."""
    return frozenset(normalized(m.group(1)) for m in _NAME.finditer(lead))


def _names_conflict(a: Sighting, b: Sighting) -> bool:
    """Whether each headline names something (a name its own lead capitalizes) that the
    other article never mentions: two different drugs, outlets' subjects or places."""

    def own(x: Sighting, other: Sighting) -> bool:
        title = _prepared(x.title, "").title_words
        text = _prepared(other.title, other.lead).words
        return any(name in title and name not in text for name in _names(x.lead))

    return own(a, b) and own(b, a)


_RANK = {"url": 3, "study": 2, "text": 1}


def choose(item: Sighting, candidates: Iterable[Member], policy: StoryPolicy) -> Assignment:
    """The story ``item`` joins (the strongest reason, then the highest score, then the
    smallest story id, so the choice does not depend on candidate order), or a new story
    of its own."""
    best: Assignment | None = None
    for member in candidates:
        if member.sighting.article_id == item.article_id:
            continue
        verdict = same_story(item, member.sighting, policy)
        if verdict is None:
            continue
        first = member.story_first or member.sighting.published
        if verdict[0] != "url" and abs(item.published - first) > policy.window:
            # A story spans at most one window from its first article: without this bound
            # a chain of near-duplicates, each within the window of the last, would let
            # one story drift on for months.
            continue
        found = Assignment(item.article_id, member.story_id, *verdict)
        if best is None or _better(found, best):
            best = found
    return best or Assignment(item.article_id, item.article_id, "new", 0.0)


def _better(a: Assignment, b: Assignment) -> bool:
    if (_RANK[a.reason], a.score) != (_RANK[b.reason], b.score):
        return (_RANK[a.reason], a.score) > (_RANK[b.reason], b.score)
    return a.story_id < b.story_id


def plan(
    items: Sequence[Sighting],
    candidates: Mapping[str, Sequence[Member]],
    policy: StoryPolicy,
) -> tuple[Assignment, ...]:
    """Assign each new item, oldest first, to a story. ``candidates`` maps an article id
    to the stored members its keys found; items of the same batch are candidates of each
    other too, so two outlets fetched in one run still meet."""
    planned: dict[str, list[Member]] = {}
    firsts: dict[str, datetime] = {}
    results: list[Assignment] = []
    for item in sorted(items, key=lambda i: (i.published, i.article_id)):
        own = [m for key in keys(item) for m in planned.get(key, ())]
        decision = choose(item, [*candidates.get(item.article_id, ()), *own], policy)
        results.append(decision)
        founder = firsts.setdefault(decision.story_id, _first_of(decision, candidates, item))
        member = Member(item, decision.story_id, founder)
        for key in keys(item):
            planned.setdefault(key, []).append(member)
    return tuple(results)


def _first_of(
    decision: Assignment, candidates: Mapping[str, Sequence[Member]], item: Sighting
) -> datetime:
    """The first publication of the story ``decision`` put ``item`` in."""
    if decision.reason == "new":
        return item.published
    firsts = [
        m.story_first or m.sighting.published
        for m in candidates.get(item.article_id, ())
        if m.story_id == decision.story_id
    ]
    return min(firsts, default=item.published)


def lead_article(
    members: Sequence[Article], priority: Sequence[str], eligible: Iterable[str] = ()
) -> Article:
    """The article a feed shows for a story: from the first source in ``priority`` that
    has one, else the earliest; only ``eligible`` articles (those the feed's filters
    selected) can lead when any is given."""
    allowed = set(eligible)
    pool = [a for a in members if a.id in allowed] or list(members)
    rank = {source: i for i, source in enumerate(priority)}
    return min(pool, key=lambda a: (rank.get(a.source_id, len(rank)), a.published, a.id))
