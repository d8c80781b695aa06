"""The scan stage of tagging: one pass of the automatons over an article's fields. Pure.

What it does: fold each field once (title, summary, content, source categories), run the
folded and exact-case automatons over it once, and collect what the hits say: the
evidence by topic (``feeds.tagging.scoring.Entry``: where, offsets, which terms), and, in
``Found``, the rest the same hits saw — aside markers and their spans, the spans a body
field marks as its subject and which topics are named first inside them, exclusion spans,
context words, topics whose rivals the headline names, the fields a long enumeration may
be an aside of. It decides the places ("lead" is the summary's first sentence) and the
proper-noun guard, because both are about where a hit is.

What it does not do: weigh anything, or decide whether a topic is tagged
(``feeds.tagging.matcher``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from feeds.tagging.asides import ENUMERATION_COMMAS, aside_spans, subject_spans
from feeds.tagging.markers import AFTER, SUBJECT
from feeds.tagging.rules import CompiledRules
from feeds.tagging.scoring import Entry, Spans
from feeds.tagging.text import fold_exact, word_form

# The lead ends with the first sentence or at its first semicolon: a semicolon joins
# clauses of their own, and newsletters and digests string their stories together with it
# ("Today: measles passes 700 cases; ...; and a lupus clinic ...").
# A period after an abbreviation ends no sentence: "u.s.", "e.g." (a letter after a dot),
# "dr.", "st.", "vs." ("the U.S. Food and Drug Administration approved ..."), "et al.", and
# a month before its day, as AP style writes dates ("on Aug. 28, but investors ...").
# (The mark first, then the look-behinds, which include it: tried at every position before
# the mark, they made the search three times slower.)
_MONTHS = ("jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec")
_LEAD_END = re.compile(
    r"[.!?](?<!\.[a-z]\.)(?<!\bdr\.)(?<!\bmr\.)(?<!\bms\.)(?<!\bmrs\.)(?<!\bst\.)(?<!\bvs\.)"
    r"(?<!\bprof\.)(?<!\bet al\.)(?:\s|$)(?<!"
    + r")(?<!".join(rf"\b{month}\.\s(?=\d)" for month in _MONTHS)
    + r")|;"
)
LEAD_MAX = 300  # characters: the lead of a run-on summary ends near here
_TITLE_CASE_WORDS = 40  # words of a field read to tell a Title-Case headline
_SENTENCE_BREAK = ".!?:;\"'(\u201c\u2018[—–-"
_LISTING = frozenset({"summary", "content"})  # fields whose long enumerations are asides
_BODY = _LISTING  # fields where a mention marked as the subject weighs more (SUBJECT_WEIGHT)
_NOT_ASIDES, _NOT_ASIDES_IN_TITLE = frozenset({SUBJECT}), frozenset({SUBJECT, AFTER})
# Words after which a capitalized disease name is the disease someone has, not a name
_HAVE_IT = frozenset({"with", "has", "have", "had", "having", "her", "his", "my", "their", "your"})
# A sentence that says one of these speaks of a disease: a capitalized term in it is the
# disease, not a name ("the Lupus family" and "a star in Lupus" say none of them)
_DISEASE_CUE = re.compile(r"flare|disease|disorder|diagnos|symptom|autoimmun", re.IGNORECASE)
_ENDS = ".!?;"  # what ends the sentence a capital is read in
_SENTENCE_ENDS = tuple(f"{mark} " for mark in _ENDS)
_SENTENCE_END = re.compile(f"[{re.escape(_ENDS)}]\\s")


@dataclass(frozen=True, slots=True)
class TagInput:
    """The text of an article that tagging reads."""

    title: str  # plain-text title
    summary: str = ""  # plain-text summary
    content: str = ""  # plain-text content
    categories: tuple[str, ...] = ()  # the source's categories for this article
    source_topics: tuple[str, ...] = ()  # topics the source always applies


class Found:
    """What one scan of an article found, besides the evidence."""

    __slots__ = (
        "asides",
        "checks",
        "context_seen",
        "enumerations",
        "excluded",
        "lead_named",
        "named",
        "rivaled",
        "subjects",
        "texts",
    )

    def __init__(self) -> None:
        # (place, instance) -> the spans of the asides of its field (``feeds.tagging.asides``)
        self.asides: dict[tuple[str, int], Spans] = {}
        # (place, instance) -> the spans a body field marks as its subject ("adults with
        # lupus nephritis": ``feeds.tagging.asides.subject_spans``)
        self.subjects: dict[tuple[str, int], Spans] = {}
        self.named: set[str] = set()  # topics with a body mention inside one of them
        self.lead_named: set[str] = set()  # ... with a mention in the lead inside one
        # (place, instance) -> the folded text of a field where a long enumeration is an
        # aside (summary and content); then the spans of those of them that have one, once
        # a topic asks
        self.texts: dict[tuple[str, int], str] = {}
        self.enumerations: dict[tuple[str, int], Spans] | None = None
        self.checks: set[str] = set()  # topics named whose matches have conditions to check
        self.context_seen: set[tuple[str, str]] = set()  # (topic, context word) seen
        self.rivaled: dict[str, str] = {}  # topic -> the first of its rivals the title names
        # (topic, place, instance) -> spans of the topic's exclusion phrases
        self.excluded: defaultdict[tuple[str, str, int], list[tuple[int, int]]] = defaultdict(list)


def scan(item: TagInput, rules: CompiledRules, evidence: defaultdict[str, list[Entry]]) -> Found:
    """Add the terms matched in ``item`` to ``evidence`` (by topic, in text order per field);
    the rest of what the scan saw is returned."""
    found = Found()
    fields: list[tuple[str, int, str]] = [("title", 0, item.title), ("summary", 0, item.summary)]
    fields += [("content", 0, item.content)]
    fields += [("category", i, c) for i, c in enumerate(item.categories)]
    for name, instance, text in fields:
        if not text:
            continue
        exact = fold_exact(text)
        folded = exact.casefold()  # = fold(text), without folding the text twice
        lead_end = first_sentence_end(folded) if name == "summary" else 0
        cased: str | bool | None = False  # the case-kept text for the proper-noun guard, lazily
        markers: list[tuple[str, int, int]] = []  # aside markers: (kind, start, end)
        scans = [(rules.folded, folded)]
        if len(rules.exact):
            scans.append((rules.exact, exact))
        for automaton, haystack in scans:
            if not len(automaton):
                continue
            # A Key's fields by index (see automaton.Key): back, length, extra, topic.
            for last, key in automaton.iter(f" {word_form(haystack)} "):
                start = last - key[0]  # offsets in ``haystack`` (see text.word_form)
                extra = key[2]
                if extra is None:  # the plain terms of one topic: the key is its own group
                    where = "lead" if start < lead_end else name
                    evidence[key[3]].append((where, instance, start, start + key[1], key))
                    continue
                end = start + key[1]
                if extra.strict is not None and haystack[start:end] != extra.strict:
                    continue  # the key's own punctuation differs ("disease. graves")
                where = "lead" if start < lead_end else name
                # Each part tested before it is spent: most such keys are a context word.
                if extra.asides:
                    markers += [(kind, start, end) for kind in extra.asides]
                for topic in extra.excludes:
                    found.excluded[(topic, where, instance)].append((start, end))
                for topic in extra.contexts:
                    found.context_seen.add((topic, key.lookup))
                if extra.rivals and name == "title":
                    for topic in extra.rivals:
                        found.rivaled.setdefault(topic, haystack[start:end])
                terms = extra.terms
                if not terms:
                    continue
                if extra.guarded:
                    if cased is False:
                        cased = _case_kept(exact, folded)
                    if isinstance(cased, str) and _proper_noun(cased, start):
                        terms = extra.named_terms
                if extra.checked:
                    found.checks.update(extra.checked)
                for group in terms:
                    evidence[group.topic].append((where, instance, start, end, group))
        # Kept for enumerations if it has the commas one needs and its offsets agree (as
        # for asides, below).
        listing = name in _LISTING and folded.count(", ") >= ENUMERATION_COMMAS
        if listing and len(exact) == len(folded):
            for place in ("lead", name) if name == "summary" else (name,):
                found.texts[(place, instance)] = folded
        # Not "and other" in a headline: "... across lupus and other diseases" puts lupus
        # first, where in a sentence "lupus and other diseases" is a list of examples.
        skip = _NOT_ASIDES_IN_TITLE if name == "title" else _NOT_ASIDES
        asides = [marker for marker in markers if marker[0] not in skip]
        if asides and len(exact) == len(folded):  # offsets agree unless folding changed a length
            spans = aside_spans(folded, asides)
            if spans:  # kept by place: a summary's lead is a place of its own
                for place in ("lead", name) if name == "summary" else (name,):
                    found.asides[(place, instance)] = spans
        if markers and name in _BODY and len(exact) == len(folded):
            spans = subject_spans(folded, markers)
            if spans:
                found.subjects[(name, instance)] = spans
                aside = found.asides.get((name, instance), ())
                for start, end in spans:
                    named = found.named if start >= lead_end else found.lead_named
                    named.update(_first_named(rules, exact, folded, start, end, aside))
    return found


def _case_kept(exact: str, folded: str) -> str | None:
    """The case-kept form of a field (``exact``), when its offsets agree with the folded form
    (they do unless case folding changed a length, as with ß) and it is not a Title-Case
    headline."""
    return exact if len(exact) == len(folded) and not _title_case(exact) else None


def _proper_noun(cased: str, start: int) -> bool:
    """Whether the word at ``start`` is capitalized mid-sentence (a name, not the term),
    unless what comes before says someone has it ("a blogger who has Lupus", "living with
    Lupus", "her Lupus") or its sentence speaks of a disease ("Lupus is not laziness but a
    diagnosed disorder", "beaten by Lupus, her flare ..."): the disease written with a
    capital, as patients often write it."""
    if not cased[start].isupper():
        return False
    before = cased[:start].rstrip()
    if not before or before[-1] in _SENTENCE_BREAK:
        return False
    if before[before.rfind(" ") + 1 :] in _HAVE_IT:
        return False
    opened = max(cased.rfind(mark, 0, start) for mark in _SENTENCE_ENDS)
    closed = _SENTENCE_END.search(cased, start)
    return _DISEASE_CUE.search(cased, opened + 1, closed.start() if closed else len(cased)) is None


def _title_case(text: str) -> bool:
    """Most longer words capitalized: a headline style where capitals say nothing. (Judged
    by the first words: a long content field would otherwise cost more than its scan.)"""
    words = [w for w in text.split(None, _TITLE_CASE_WORDS)[:_TITLE_CASE_WORDS] if w[0].isalpha()]
    longer = [w for w in words if len(w) > 3]
    if len(longer) >= 3:
        return sum(w[0].isupper() for w in longer) >= 0.7 * len(longer)
    # A short headline ("How Lupus Is Diagnosed"): every word after the first capitalized,
    # the short ones too, where sentence case would write "is", "of", "in" in lower case
    rest = words[1:]
    return len(rest) >= 2 and all(w[0].isupper() for w in rest)


def first_sentence_end(folded_summary: str) -> int:
    """End of the summary's first sentence or clause: at most ``LEAD_MAX`` characters in, or
    the end of the word there (a cap inside "systemic lupus erythematosus" would leave the
    word after it out of the lead, a mention of its own)."""
    found = _LEAD_END.search(folded_summary, 20)
    end = found.end() if found else len(folded_summary)
    if end <= LEAD_MAX:
        return end
    space = folded_summary.find(" ", LEAD_MAX)
    return min(end, space if space >= 0 else len(folded_summary))


def _first_named(
    rules: CompiledRules,
    exact: str,
    folded: str,
    start: int,
    end: int,
    asides: Spans,
) -> set[str]:
    """The topics of the first thing a subject span (``start``-``end`` of the summary or
    content) names: the terms that start before the first of its terms ends ("adults with lupus
    nephritis at 12 hospitals": "lupus" and "lupus nephritis", not "hospitals"), none an
    aside ("mice with an MS-like autoimmune disease": "autoimmune disease"). The span is
    scanned again, on its own: a few words, where checking every hit of the article
    against the spans would cost more. The topics are candidates: ``_subject`` then asks
    whether a match that counted is there."""
    hits: list[tuple[int, int, str]] = []
    for automaton, text in ((rules.folded, folded), (rules.exact, exact)):
        piece = text[start:end]
        if not len(automaton) or (text is exact and piece == folded[start:end]):
            continue  # no acronym in words without a capital letter
        for last, key in automaton.iter(f" {word_form(piece)} "):
            first = start + last - key[0]
            extra = key[2]
            if extra is None:
                hits.append((first, first + key[1], key[3]))
            else:
                hits += [(first, first + key[1], group.topic) for group in extra.terms]
    if asides:
        hits = [hit for hit in hits if not any(s < hit[1] and hit[0] < e for s, e in asides)]
    if not hits:
        return set()
    cut = min(hit[1] for hit in hits)
    return {topic for first, _last, topic in hits if first < cut}
