"""Tag an article with topics: one scan, explainable matches, a score per topic. Pure.

Each field is folded once and scanned once by the folded automaton (terms, exclusions,
context words of every topic) and once by the exact-case automaton (acronyms), so the cost
per article does not grow with the number of topics. A hit counts only as whole words.
The scan is ``feeds.tagging.scan``; this module weighs what it found and decides.

Why a score: a topic named in passing ("patients with lupus or diabetes were excluded")
is not the subject. Each distinct mention adds a weight by where it is
(``feeds.tagging.scoring``):

    title 3 · first sentence of the summary 2 · source category 2 · elsewhere 1
    (each further mention in the same place adds 0.5; the first sentence ends at a
    semicolon too, and not at an abbreviation's period: "U.S.", "Dr.")

Asides: a mention inside what the text itself marks as an aside (``feeds.tagging.asides``:
examples of a class, "such as" lists, exclusion and adjustment lists, comparisons such as
"unlike CAR-T") adds only 0.5 wherever it is, so a passing mention in the lead, where one
plain mention would be enough, does not tag the article on its own. So does an item of a
long enumeration in the summary or content (five or more items: "higher rates of vitiligo,
psoriasis, rheumatoid arthritis, lupus and type 1 diabetes"), marker or not; the matcher
looks for those only in the fields of a topic that would otherwise be tagged.

What the text is about: a mention in the body (after the lead) that English marks as its
subject weighs as one in the lead, 2 (``feeds.tagging.asides.subject_spans``): who the text
is about, named by what they have ("a registry of 1,100 pregnancies found that women with
lupus who kept taking hydroxychloroquine ...", "in 300 adults with lupus nephritis"), or
what a test found ("a kidney biopsy confirmed systemic lupus erythematosus"). A passing
mention names the disease as a drug's use, a person's history or one of a list ("women
with diabetes, lupus or obesity" does not count, nor "patients with no history of lupus").

Proper-noun guard: a one-word term written in lower case ("lupus") does not count where
the text capitalizes it in mid-sentence ("the Marco Lupus Pavilion", "the Lupus family",
"a star in Lupus"): there it is a name, not the disease; unless the word before says
someone has it ("a blogger who has Lupus", "living with Lupus") or its sentence speaks of a
disease ("Lupus is a diagnosed disorder", "beaten by Lupus, her flare ..."). Title-Case
headlines are exempt.

One broad name, once: a topic whose only evidence is one mention in the lead, by a term
its ``alone`` rule names ("lupus", "CAR-T"), is not tagged unless the article has one of
the rule's support words (``feeds.tagging.rules``) or marks that mention as its subject, as
above ("a blood test finally confirmed lupus"): "access to CAR-T" at the end of a sentence
about bispecifics is a passing mention; a story about CAR-T says "CAR-T cells", names the
product, or says it again.

Nested matches ("lupus" inside "systemic lupus erythematosus") are one mention. A topic is
tagged when its score reaches its threshold (default 2): one mention in the title or lead,
or repeated mentions in the body. A source's own ``topics:`` always apply, and parents
inherit their children's tags.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, NamedTuple

from feeds.frozen import constructor, making
from feeds.models import Article, Match, TopicTag
from feeds.normalize import plain_text
from feeds.tagging.asides import enumeration_spans
from feeds.tagging.rules import CompiledRules, TopicRule
from feeds.tagging.scan import Found, scan
from feeds.tagging.scan import TagInput as TagInput  # the public input, re-exported
from feeds.tagging.scoring import (
    WEIGHTS,
    Entry,
    Spans,
    asides_among,
    mention_weights,
    plain_score,
    score_with_asides,
)

# What a mention in the body adds when the sentence marks it as the subject ("in 300 adults
# with lupus nephritis", "a biopsy confirmed lupus"): it then weighs as one in the lead.
SUBJECT_WEIGHT = WEIGHTS["lead"] - WEIGHTS["summary"]
_FIELD_ORDER = {"title": 0, "lead": 1, "summary": 1, "content": 2, "category": 3}  # scan order

_TOPIC, _SCORE = attrgetter("topic"), attrgetter("score")
# A tagged topic's evidence, which of it are asides, and which entry the sentence marks as
# the subject (-1: none), for ``explain``
Scored = tuple[Sequence[Entry], Sequence[bool], int]
_LONE = "one mention, in the lead, and no word of its alone rule in the text"


class Held(NamedTuple):
    """A topic a rule held back though its score was enough, and why (``feeds tag``)."""

    tag: TopicTag  # the tag it would have had
    why: str  # which rule, in words


_new_match = constructor(Match)  # matches are most of what tagging builds (feeds.frozen)
_new_tag = constructor(TopicTag)


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


@dataclass(frozen=True, slots=True)
class Explained:
    """A topic tag and how its score came about."""

    tag: TopicTag
    # Per match of ``tag.matches``: what it added to the score (0 for a match inside a
    # longer one of the same mention; None for a source's topics and a child topic's tag,
    # which set the score rather than add to it) ...
    weights: tuple[float | None, ...]
    asides: tuple[bool, ...]  # ... and whether the text marks it as an aside


def explain(
    item: TagInput, rules: CompiledRules, held: dict[str, Held] | None = None
) -> tuple[Explained, ...]:
    """``tag(item, rules)``, with what each match added to each score and which were asides:
    the explanation ``feeds tag`` prints. ``held``, if given, receives the topics a rule
    held back, and why (see ``tag``)."""
    scored: dict[str, Scored] = {}
    explained = []
    for found in tag(item, rules, scored, held):
        entries, flags, named = scored.get(found.topic, ((), (), -1))
        weights = mention_weights(entries, flags)
        if named >= 0:  # to the match that carries its mention's weight
            place, instance, start, end, _group = entries[named]
            carrier = next(
                (
                    n
                    for n, (where, other, s, e, _g) in enumerate(entries)
                    if (where, other) == (place, instance) and s < end and start < e and weights[n]
                ),
                named,
            )
            weights[carrier] += SUBJECT_WEIGHT
        by_match: list[float | None] = []
        asides: list[bool] = []
        for n, entry in enumerate(entries):  # as ``_tagged`` lists them
            for k in range(len(entry[4].matches)):
                by_match.append(weights[n] if k == 0 else 0.0)
                asides.append(bool(flags) and flags[n])
        more = len(found.matches) - len(by_match)  # from a source or a child topic
        explained.append(Explained(found, (*by_match, *[None] * more), (*asides, *[False] * more)))
    return tuple(explained)


def tag(
    item: TagInput,
    rules: CompiledRules,
    scored: dict[str, Scored] | None = None,
    held: dict[str, Held] | None = None,
) -> tuple[TopicTag, ...]:
    """The topics ``item`` is about, highest score first. ``scored``, if given, receives
    each tagged topic's evidence and which of it is an aside (for ``explain``); ``held``,
    the topics a rule held back though their score was enough, and why (what ``feeds
    tag`` reports under "not tagged"): one mention, in the lead, of a term that needs a
    support word the article lacks (``alone``), or mentions under a headline that names a
    rival (``rivals``)."""
    evidence: defaultdict[str, list[Entry]] = defaultdict(list)
    found = scan(item, rules, evidence)
    reordered = bool(found.checks) and _check(evidence, found, rules.topics)

    tags: dict[str, TopicTag] = {}
    asides, subjects, named_topics = found.asides, found.subjects, found.named
    lowest = rules.lowest_threshold
    # What a mention may yet add where the sentence marks it as the subject
    reach = SUBJECT_WEIGHT if subjects else 0.0
    rivaled = found.rivaled
    for slug, entries in evidence.items():
        if rivaled and slug in rivaled and _background(entries):
            # the headline names a rival and not this topic: the rest is background
            if held is not None:
                score = score_with_asides(entries, ())
                if score >= rules.higher_thresholds.get(slug, lowest):
                    why = f"the title names {rivaled[slug]!r}, one of its rivals, and not it"
                    held[slug] = Held(_tagged(slug, score, entries), why)
            continue
        # Scored as if nothing were an aside first: that is never less, and most topics an
        # article names (named once, in the body) are below any threshold either way.
        score = WEIGHTS[entries[0][0]] if len(entries) == 1 else plain_score(entries)
        # Below any threshold, unless a body mention is marked as the subject
        if score < lowest and (slug not in named_topics or score + SUBJECT_WEIGHT < lowest):
            continue
        threshold = rules.higher_thresholds.get(slug, lowest)
        if score + reach < threshold:
            continue
        flags = asides_among(entries, asides) if asides else []
        if flags:
            score = score_with_asides(entries, flags)
        listed = []
        if found.texts and score + reach >= threshold:
            listed = _enumerated(entries, found, flags)
        if listed:
            score = score_with_asides(entries, listed)
        named = -1
        if slug in named_topics:
            named = _subject(entries, subjects, listed or flags)
        if named >= 0:
            score += SUBJECT_WEIGHT
        if score >= threshold and slug in rules.alone and _alone(entries, slug, rules, found):
            if held is not None:
                held[slug] = Held(_tagged(slug, score, entries), _LONE)
            continue
        if score >= threshold:
            tags[slug] = _tagged(slug, score, entries)
            if scored is not None:
                scored[slug] = (entries, listed or flags, named)
    if reordered:  # in the order of each topic's first match, as if never checked
        tags = {slug: tags[slug] for slug in sorted(tags, key=lambda t: _place(evidence[t][0]))}
    for slug in item.source_topics:
        if slug in rules.topics:
            floor = rules.topics[slug].threshold
            previous = tags.get(slug)
            source = _new_match(slug, slug, "source", "source", 0, 0)
            matches = (*previous.matches, source) if previous else (source,)
            tags[slug] = _new_tag(slug, max(floor, previous.score if previous else 0), matches)
    for child in list(tags.values()) if rules.ancestors else ():
        for parent in rules.ancestors.get(child.topic, ()):
            inherited = _new_match(parent, child.topic, "parent", "parent", 0, 0)
            previous = tags.get(parent)
            if previous is None:
                tags[parent] = _new_tag(parent, child.score, (inherited,))
            elif child.score > previous.score:
                tags[parent] = _new_tag(parent, child.score, (*previous.matches, inherited))
    # Highest score first, then by slug: two sorts on attributes are cheaper than one on a
    # (-score, topic) key built in Python for each tag, and the second keeps the first's order.
    by_topic = sorted(tags.values(), key=_TOPIC)
    return tuple(sorted(by_topic, key=_SCORE, reverse=True))


def _background(entries: Sequence[Entry]) -> bool:
    """Whether a topic's evidence is all in the summary and content: none in the title or
    a source category (for a topic whose ``rivals`` the title names)."""
    return all(entry[0] not in ("title", "category") for entry in entries)


def _check(evidence: dict[str, list[Entry]], found: Found, topics: Mapping[str, TopicRule]) -> bool:
    """Drop the matches that an exclusion overlaps or a context or unless rule holds back;
    whether a topic lost its first match (the order of topics then needs restoring)."""
    reordered = False
    for slug in found.checks:
        entries = evidence.get(slug)
        if not entries:
            continue
        kept = [entry for entry in entries if _counts(entry, topics[slug], found)]
        if len(kept) < len(entries):
            reordered = reordered or (bool(kept) and kept[0] is not entries[0])
            if kept:
                evidence[slug] = kept
            else:
                del evidence[slug]
    return reordered


def _counts(entry: Entry, rule: TopicRule, found: Found) -> bool:
    """Whether a match of a topic with conditions counts."""
    where, instance, start, end, group = entry
    if found.excluded:
        spans = found.excluded.get((rule.slug, where, instance), ())
        if any(s < end and start < e for s, e in spans):
            return False
    # Keyed by what matched, so a MeSH synonym spelled like a guarded term is guarded too.
    seen = found.context_seen
    needs = rule.context.get(group.lookup) if rule.context else None
    if needs and not any((rule.slug, word) in seen for word in needs):
        return False
    vetoes = rule.unless.get(group.lookup) if rule.unless else None
    return not (vetoes and any((rule.slug, word) in seen for word in vetoes))


def _place(entry: Entry) -> tuple[int, bool, int, int, int]:
    """Where the scan met ``entry``: by field, automaton, end and start, then group."""
    where, instance, start, end, group = entry
    return (_FIELD_ORDER[where] + instance, group.exact, end, start, group.order)


def _alone(entries: Sequence[Entry], slug: str, rules: CompiledRules, found: Found) -> bool:
    """Whether a topic's evidence is one mention in the lead, made only of terms its
    ``alone`` rule names, in an article with none of their support words and not marked
    as its subject: then it does not count (``feeds.tagging.rules``)."""
    if any(entry[0] != "lead" for entry in entries):
        return False
    spans = sorted((entry[2], entry[3]) for entry in entries)
    reach = spans[0][1]
    for start, end in spans[1:]:
        if start >= reach:  # a second mention
            return False
        reach = max(reach, end)
    if slug in found.lead_named:
        return False  # "women with lupus", "a blood test confirmed lupus": its subject
    alone = rules.alone[slug]
    words: set[str] = set()
    for entry in entries:
        needs = alone.get(entry[4].lookup)
        if needs is None:  # a term the rule does not name: a more precise name counts
            return False
        words.update(needs)
    seen = found.context_seen
    return not any((slug, word) in seen for word in words)


def _subject(
    entries: Sequence[Entry], subjects: Mapping[tuple[str, int], Spans], asides: Sequence[bool]
) -> int:
    """The first of ``entries`` (none an aside) that starts inside one of the subject spans
    of its body field ("adults with lupus nephritis", ``feeds.tagging.scan`` having said the
    topic is the first thing one names); -1 if none does."""
    for n, (place, instance, start, _end, _group) in enumerate(entries):
        spans = subjects.get((place, instance))
        if spans and not (asides and asides[n]) and any(s <= start < e for s, e in spans):
            return n
    return -1


def _enumerated(entries: Sequence[Entry], found: Found, flags: Sequence[bool]) -> list[bool]:
    """``flags`` with the entries inside a long enumeration of their field made asides too
    (``feeds.tagging.asides.enumeration_spans``); [] if that makes none an aside."""
    enumerations = found.enumerations
    if enumerations is None:  # the first topic to ask: every field's, once
        by_text = {id(text): enumeration_spans(text) for text in found.texts.values()}
        enumerations = {key: by_text[id(text)] for key, text in found.texts.items()}
        found.enumerations = enumerations = {k: v for k, v in enumerations.items() if v}
        if not enumerations:
            found.texts = {}  # none: the next topic need not ask
            return []
    more: list[bool] = []
    get = enumerations.get
    for n, entry in enumerate(entries):
        spans = get((entry[0], entry[1]))
        if spans is None or (flags and flags[n]):
            continue
        start, end = entry[2], entry[3]
        for s, e in spans:
            if s <= start and end <= e:
                more = more or (list(flags) if flags else [False] * len(entries))
                more[n] = True
                break
    return more


def _tagger() -> Callable[[str, float, Sequence[Entry]], TopicTag]:
    """``tagged(slug, score, entries)``: the ``TopicTag``, with one ``Match`` for each
    pattern of each piece of evidence, in order. Generated, each value's construction
    written out in the loop (``feeds.frozen.making``): with all of MeSH an article has some
    sixteen tags, and a call per ``Match`` was a tenth of tagging's own work."""
    scope: dict[str, Any] = {}
    match = making(
        Match, "match", ["slug", "phrase", "rule", "place", "start", "end"], scope, " " * 12
    )
    made = making(TopicTag, "tag", ["slug", "score", "tuple(matches)"], scope, " " * 4)
    exec(
        "def tagged(slug, score, entries):\n"
        "    matches = []\n"
        "    for place, _instance, start, end, group in entries:\n"
        "        for phrase, rule in group.matches:\n"
        f"{match}"
        "            matches.append(match)\n"
        f"{made}"
        "    return tag\n",
        scope,
    )
    tagged: Callable[[str, float, Sequence[Entry]], TopicTag] = scope["tagged"]
    return tagged


_tagged = _tagger()
