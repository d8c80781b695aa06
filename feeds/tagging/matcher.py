"""Tag an article with topics: one scan, explainable matches, a score per topic. Pure.

Each field is folded once and scanned once by the folded automaton (terms, exclusions,
context words of every topic) and once by the exact-case automaton (acronyms), so the cost
per article does not grow with the number of topics. A hit counts only as whole words.

Why a score: a topic named in passing ("patients with lupus or diabetes were excluded")
is not the subject. Each distinct mention adds a weight by where it is:

    title 3 · first sentence of the summary 2 · source category 2 · elsewhere 1
    (each further mention in the same place adds 0.5)

Asides: a mention inside what the text itself marks as an aside (``feeds.tagging.asides``:
examples of a class, "such as" lists, exclusion and adjustment lists, comparisons such as
"unlike CAR-T") adds only 0.5 wherever it is, so a passing mention in the lead, where one
plain mention would be enough, does not tag the article on its own.

Proper-noun guard: a one-word term written in lower case ("lupus") does not count where
the text capitalizes it in mid-sentence ("the Marco Lupus Pavilion", "the Lupus family",
"a star in Lupus"): there it is a name, not the disease. Title-Case headlines, where every
word is capitalized, are exempt.

Nested matches ("lupus" inside "systemic lupus erythematosus") are one mention. A topic is
tagged when its score reaches its threshold (default 2): one mention in the title or lead,
or repeated mentions in the body. A source's own ``topics:`` always apply, and parents
inherit their children's tags.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from feeds.models import Article, Match, TopicTag
from feeds.normalize import plain_text
from feeds.tagging.asides import aside_spans
from feeds.tagging.rules import CompiledRules, Pattern
from feeds.tagging.text import fold_exact, word_form

WEIGHTS = {"title": 3.0, "lead": 2.0, "category": 2.0, "summary": 1.0, "content": 1.0}
REPEAT_WEIGHT = 0.5
ASIDE_WEIGHT = 0.5  # a mention the text marks as an aside, wherever it is
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")
_SENTENCE_BREAK = ".!?:;\"'(\u201c\u2018[—–-"


@dataclass(frozen=True, slots=True)
class TagInput:
    """The text of an article that tagging reads."""

    title: str  # plain-text title
    summary: str = ""  # plain-text summary
    content: str = ""  # plain-text content
    categories: tuple[str, ...] = ()  # the source's categories for this article
    source_topics: tuple[str, ...] = ()  # topics the source always applies


class _Hit:
    """One raw automaton hit (a plain slotted class: cheaper to create than a dataclass)."""

    __slots__ = ("aside", "end", "field", "instance", "lookup", "pattern", "start")

    def __init__(
        self, pattern: Pattern, field: str, instance: int, start: int, end: int, lookup: str
    ) -> None:
        self.pattern = pattern
        self.aside = False  # inside an aside of its field (see ``feeds.tagging.asides``)
        self.field = field  # "title", "lead", "summary", "content" or "category"
        self.instance = instance  # which category, for the category field
        self.start = start
        self.end = end
        self.lookup = lookup  # the folded key that matched, for context rules


def article_input(article: Article, source_topics: tuple[str, ...] = ()) -> TagInput:
    """What tagging reads of a stored or freshly normalized article.

    The summary is usually the start of the content (or all of it), so only the rest of the
    content is read: one mention must not count twice.
    """
    content = plain_text(article.content_html)
    shown = article.summary.removesuffix("…")
    if shown and content.startswith(shown):
        content = content[len(shown) :]
    return TagInput(
        title=article.title,
        summary=article.summary,
        content=content,
        categories=article.categories,
        source_topics=source_topics,
    )


def tag(item: TagInput, rules: CompiledRules) -> tuple[TopicTag, ...]:
    """The topics ``item`` is about, highest score first."""
    excluded: dict[tuple[str, str, int], list[tuple[int, int]]] = defaultdict(list)
    context_seen: set[tuple[str, str]] = set()
    hits = _scan(item, rules, excluded, context_seen)

    evidence: dict[str, list[_Hit]] = defaultdict(list)
    for hit in hits:
        pattern = hit.pattern
        if excluded:
            spans = excluded.get((pattern.topic, hit.field, hit.instance), ())
            if any(s < hit.end and hit.start < e for s, e in spans):
                continue
        # Keyed by what matched, so a MeSH synonym spelled like a guarded term is guarded too.
        rule = rules.topics[pattern.topic]
        needs = rule.context.get(hit.lookup) if rule.context else None
        if needs and not any((pattern.topic, word) in context_seen for word in needs):
            continue
        vetoes = rule.unless.get(hit.lookup) if rule.unless else None
        if vetoes and any((pattern.topic, word) in context_seen for word in vetoes):
            continue
        evidence[pattern.topic].append(hit)

    tags: dict[str, TopicTag] = {}
    for slug, found in evidence.items():
        score = _score(found)
        if score >= rules.topics[slug].threshold:
            tags[slug] = TopicTag(slug, score, tuple(_match(h) for h in found))
    for slug in item.source_topics:
        if slug in rules.topics:
            floor = rules.topics[slug].threshold
            previous = tags.get(slug)
            source = Match(slug, slug, "source", "source", 0, 0)
            matches = (*previous.matches, source) if previous else (source,)
            tags[slug] = TopicTag(slug, max(floor, previous.score if previous else 0), matches)
    for child in list(tags.values()):
        for parent in rules.topics[child.topic].ancestors:
            inherited = Match(parent, child.topic, "parent", "parent", 0, 0)
            previous = tags.get(parent)
            if previous is None:
                tags[parent] = TopicTag(parent, child.score, (inherited,))
            elif child.score > previous.score:
                tags[parent] = TopicTag(parent, child.score, (*previous.matches, inherited))
    return tuple(sorted(tags.values(), key=lambda t: (-t.score, t.topic)))


def _scan(
    item: TagInput,
    rules: CompiledRules,
    excluded: dict[tuple[str, str, int], list[tuple[int, int]]],
    context_seen: set[tuple[str, str]],
) -> list[_Hit]:
    """The hits of terms in ``item``; the spans of exclusions go to ``excluded`` (by topic,
    field and instance) and the context words seen to ``context_seen`` (by topic)."""
    terms: list[_Hit] = []
    fields: list[tuple[str, int, str]] = [("title", 0, item.title), ("summary", 0, item.summary)]
    fields += [("content", 0, item.content)]
    fields += [("category", i, c) for i, c in enumerate(item.categories)]
    for name, instance, text in fields:
        if not text:
            continue
        exact = fold_exact(text)
        folded = exact.casefold()  # = fold(text), without folding the text twice
        lead_end = _lead_end(folded) if name == "summary" else 0
        cased: str | bool | None = False  # the case-kept text for the proper-noun guard, lazily
        found: list[_Hit] = []
        markers: list[tuple[str, int, int]] = []  # aside markers: (kind, start, end)
        scans = [(rules.folded, folded, True)]
        if len(rules.exact):
            scans.append((rules.exact, exact, False))
        for automaton, haystack, is_folded in scans:
            if not len(automaton):
                continue
            padded = f" {word_form(haystack)} "
            for last, (lookup, strict, patterns, length, closed) in automaton.iter(padded):
                start = last - length - closed  # offsets in ``haystack`` (see text.word_form)
                end = start + length
                if strict is not None and haystack[start:end] != strict:
                    continue  # the key's own punctuation differs ("disease. graves")
                where = "lead" if start < lead_end else name
                for pattern in patterns:
                    role = pattern.role
                    if role == "aside":
                        markers.append((pattern.rule, start, end))
                        continue
                    if is_folded and pattern.guard:
                        if cased is False:
                            cased = _case_kept(exact, folded)
                        if isinstance(cased, str) and _proper_noun(cased, start):
                            continue
                    if role == "term":
                        found.append(_Hit(pattern, where, instance, start, end, lookup))
                    elif role == "exclude":
                        excluded[(pattern.topic, where, instance)].append((start, end))
                    else:  # context
                        context_seen.add((pattern.topic, lookup))
        if markers and len(exact) == len(folded):  # offsets agree unless folding changed a length
            spans = aside_spans(folded, markers)
            for hit in found:
                hit.aside = any(s < hit.end and hit.start < e for s, e in spans)
        terms += found
    return terms


def _case_kept(exact: str, folded: str) -> str | None:
    """The case-kept form of a field (``exact``), when its offsets agree with the folded form
    (they do unless case folding changed a length, as with ß) and it is not a Title-Case
    headline."""
    return exact if len(exact) == len(folded) and not _title_case(exact) else None


def _proper_noun(cased: str, start: int) -> bool:
    """Whether the word at ``start`` is capitalized mid-sentence (a name, not the term)."""
    if not cased[start].isupper():
        return False
    before = cased[:start].rstrip()
    return bool(before) and before[-1] not in _SENTENCE_BREAK


def _title_case(text: str) -> bool:
    """Most longer words capitalized: a headline style where capitals say nothing."""
    words = [w for w in text.split() if len(w) > 3 and w[0].isalpha()]
    return len(words) >= 3 and sum(w[0].isupper() for w in words) >= 0.7 * len(words)


def _lead_end(folded_summary: str) -> int:
    """End of the summary's first sentence (at most 300 characters in)."""
    found = _SENTENCE_END.search(folded_summary, 20)
    return min(found.end() if found else len(folded_summary), 300)


def _score(hits: Sequence[_Hit]) -> float:
    """Sum the weights of distinct mentions; nested or overlapping hits are one mention,
    an aside only if all of them are."""
    if len(hits) == 1:  # most topics an article names, named once (all of MeSH: 2 in 3)
        hit = hits[0]
        return ASIDE_WEIGHT if hit.aside else WEIGHTS[hit.field]
    mentions: list[tuple[str, int, int, int, bool]] = []
    for hit in sorted(hits, key=lambda h: (h.field, h.instance, h.start, -h.end)):
        last = mentions[-1] if mentions else None
        same_place = last and last[0] == hit.field and last[1] == hit.instance
        if last and same_place and hit.start < last[3]:
            mentions[-1] = (*last[:3], max(last[3], hit.end), last[4] and hit.aside)
        else:
            mentions.append((hit.field, hit.instance, hit.start, hit.end, hit.aside))
    score = 0.0
    seen_fields: set[str] = set()
    for field, _instance, _start, _end, aside in mentions:
        if aside:
            score += ASIDE_WEIGHT
            continue
        score += REPEAT_WEIGHT if field in seen_fields else WEIGHTS[field]
        seen_fields.add(field)
    return score


def _match(hit: _Hit) -> Match:
    return Match(
        topic=hit.pattern.topic,
        term=hit.pattern.phrase,
        rule=hit.pattern.rule,
        field=hit.field,
        start=hit.start,
        end=hit.end,
    )
