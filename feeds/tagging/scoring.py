"""A topic's score from its evidence: weights by place, repeats, asides. Pure.

What it does: sum what each distinct mention of a topic weighs, by where it is

    title 3 · first sentence of the summary 2 · source category 2 · elsewhere 1
    (each further mention in the same place adds 0.5; an aside adds 0.5 wherever it is;
    the matcher adds 1 for a body mention the text marks as its subject)

and say which mention added what (``mention_weights``, for ``feeds tag``'s explanation).
Nested or overlapping matches in one place ("lupus" inside "systemic lupus
erythematosus") are one mention, an aside only if all of its matches are.

What it does not do: find the matches or the asides (``feeds.tagging.matcher`` and
``feeds.tagging.asides``), or decide a tag (the matcher compares the score with the
topic's threshold).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import itemgetter

from feeds.tagging.automaton import Key, TermGroup

WEIGHTS = {"title": 3.0, "lead": 2.0, "category": 2.0, "summary": 1.0, "content": 1.0}
REPEAT_WEIGHT = 0.5
ASIDE_WEIGHT = 0.5  # a mention the text marks as an aside, wherever it is

# One piece of evidence: a topic's terms matched at one place, (place, instance, start,
# end, group). The place is "title", "lead", "summary", "content" or "category"; instance
# says which category; offsets are in the folded field; the group is a TermGroup, or the
# Key of a topic's plain terms. A plain tuple: the matcher makes one for every hit, and
# with all of MeSH that is a hundred an article.
Entry = tuple[str, int, int, int, Key | TermGroup]
Spans = Sequence[tuple[int, int]]

# An entry's place, instance, start and end: never its group, which does not order (a term
# and an acronym of one topic can match the same span, "LUPUS" as "lupus" and as "LUPUS").
_MENTION = itemgetter(0, 1, 2, 3)


def plain_score(entries: Sequence[Entry]) -> float:
    """The score of two or more entries when none is in an aside (the score is then never
    less): the sum of ``mention_weights`` without building it, the commonest case first. (One
    entry is one weight: the matcher reads that from ``WEIGHTS`` itself.)"""
    if len(entries) == 2:  # the commonest case after one match, in short
        (place, instance, start, end, _), (other, instance2, start2, end2, _) = entries
        if place != other:
            return WEIGHTS[place] + WEIGHTS[other]
        one = instance == instance2 and start < end2 and start2 < end  # nested: one mention
        return WEIGHTS[place] if one else WEIGHTS[place] + REPEAT_WEIGHT
    ordered = sorted(entries, key=_MENTION)  # as mentions are counted
    place, instance, _start, reach, _group = ordered[0]
    score = WEIGHTS[place]
    for other, instance2, start, end, _group in ordered[1:]:
        if other == place and instance2 == instance and start < reach:
            reach = max(reach, end)  # nested or overlapping: the same mention
            continue
        score += REPEAT_WEIGHT if other == place else WEIGHTS[other]
        place, instance, reach = other, instance2, end
    return score


def asides_among(entries: Sequence[Entry], asides: Mapping[tuple[str, int], Spans]) -> list[bool]:
    """Which of ``entries`` are inside an aside of their field; [] if none is."""
    flags: list[bool] = []
    get = asides.get
    for n, entry in enumerate(entries):
        spans = get((entry[0], entry[1]))
        if not spans:
            continue
        start, end = entry[2], entry[3]
        for s, e in spans:  # a loop, not any(): this runs for every tagged topic's entries
            if s < end and start < e:
                flags = flags or [False] * len(entries)
                flags[n] = True
                break
    return flags


def score_with_asides(entries: Sequence[Entry], asides: Sequence[bool]) -> float:
    """The sum of the weights of distinct mentions (``asides``: which entries are)."""
    return sum(mention_weights(entries, asides))


def mention_weights(entries: Sequence[Entry], asides: Sequence[bool]) -> list[float]:
    """What each of ``entries`` adds to the score (``asides``: which entries are; [] for
    none). A mention's weight goes to its longest, first match; the other matches of the
    same mention add 0."""
    weights = [0.0] * len(entries)
    order = sorted(range(len(entries)), key=lambda n: (*_MENTION(entries[n])[:3], -entries[n][3]))
    mentions: list[list[int]] = []  # entry indexes, by mention
    place, instance, reach = "", -1, -1
    for n in order:
        other, instance2, start, end, _group = entries[n]
        if mentions and other == place and instance2 == instance and start < reach:
            mentions[-1].append(n)  # nested or overlapping: the same mention
            reach = max(reach, end)
        else:
            mentions.append([n])
            place, instance, reach = other, instance2, end
    seen: set[str] = set()
    for members in mentions:
        where = entries[members[0]][0]
        if asides and all(asides[n] for n in members):
            weights[members[0]] = ASIDE_WEIGHT
            continue
        weights[members[0]] = REPEAT_WEIGHT if where in seen else WEIGHTS[where]
        seen.add(where)
    return weights
