"""The automatons of compiled rules: their keys, what a hit of each key means, their layout.

What it does: turn the tables that ``feeds.tagging.rules`` compiles (folded key -> the
patterns that use it) into Aho-Corasick automatons over padded word forms (see
``text.word_form``) and ``Key`` payloads, one per automaton key, grouped the way
``feeds.tagging.matcher`` spends a hit:

- a key's terms are grouped by topic (``TermGroup``), so one hit costs the matcher one
  piece of evidence per topic it names, not one per pattern (with all of MeSH, half the
  hits are of keys with two patterns of one topic, such as "99mTc-MAG3" and "99mTc MAG3",
  which MeSH lists both and which fold to one key);
- what is rarer — aside markers, exclusions, context words, terms under the proper-noun
  guard, terms of topics with conditions (``exclude``, ``context``, ``unless``) — is in
  ``KeyExtras``, which is ``None`` for most keys: a plain term's hit skips those checks.

Why the layout: pyahocorasick allocates each trie node on its own, in the order keys are
added, and finds a child by a linear search of the node's children, so a scan of a large
automaton is mostly waiting for memory. Keys are added in sorted order, with space and
English's commoner letters first (nodes that share a prefix are allocated close together,
and a node's likelier children come first in its list), and the automaton is then copied
by a pickle round trip, which allocates the nodes again in traversal order. With all of
MeSH (2.7 M nodes) a scan of the benchmark's articles takes about 0.6 of the time it took
with keys added as they came (docs/performance.md, "Tagging"); the keys, and so the hits,
are the same. The copy costs about a second at that size.

What it does not do: decide which keys a topic has (``rules``), or score hits (``matcher``).
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import ahocorasick

from feeds.tagging.text import fold, word_form

if TYPE_CHECKING:
    from feeds.tagging.rules import Pattern

# Keys are added in this order of their characters: space (a word's end) and the letters
# of English by frequency first, so that a node's likelier children come first in its list.
_BY_FREQUENCY = {ord(c): i for i, c in enumerate(" etaoinsrhldcumfpgwybvkxjqz0123456789")}


class TermGroup(NamedTuple):
    """The terms of one topic that one key matches: one piece of evidence per hit."""

    topic: str  # topic slug
    matches: tuple[tuple[str, str], ...]  # (phrase, rule) of each pattern: one Match each
    lookup: str  # the folded key that matched, for the topic's context and unless rules
    exact: bool  # from the exact-case automaton, which scans a field after the folded one
    order: int  # place among the key's groups, to order topics that one hit names


@dataclass(frozen=True, slots=True)
class KeyExtras:
    """What a key means beyond plain terms of one topic; most keys have none of it."""

    strict: str | None  # the key if it has punctuation the text must repeat ("st. louis")
    terms: tuple[TermGroup, ...]  # its terms, by topic, in pattern order
    named_terms: tuple[TermGroup, ...]  # the terms that still count where the word is a name
    guarded: bool  # some term is a one-word lower-case term (the proper-noun guard)
    checked: tuple[str, ...]  # topics of its terms whose matches are checked after the scan
    asides: tuple[str, ...]  # kinds of the aside markers this key is
    excludes: tuple[str, ...]  # topics this key is an exclusion phrase of
    contexts: tuple[str, ...]  # topics this key is a context or unless word of
    rivals: tuple[str, ...]  # topics this key names a rival of (their ``rivals`` rule)


class Key(NamedTuple):
    """What a hit of one automaton key means.

    A key that is only terms of one topic without conditions (nearly every key of a large
    vocabulary) is its own ``TermGroup``: the last five fields are that group's. The matcher
    reads the fields by index, in this order: a hundred hits an article add up.
    """

    back: int  # the hit's start is the automaton's end index minus this
    length: int  # of the key's word form (and of its match in the text)
    extra: KeyExtras | None  # None for a plain key: then the fields below are its terms
    topic: str  # topic slug ("" unless plain)
    matches: tuple[tuple[str, str], ...]  # (phrase, rule) of each pattern: one Match each
    lookup: str  # the folded key, for the topic's context and unless rules
    exact: bool  # from the exact-case automaton
    order: int  # 0: a plain key has one group


def build(
    folded: Mapping[str, Sequence[Pattern]],
    exact: Mapping[str, Sequence[Pattern]],
    checked: Iterable[str],
) -> tuple[Any, Any]:
    """The folded and the exact-case automaton; each key's value is its ``Key``.

    ``checked`` are the topics whose matches the matcher checks after the scan (those
    with exclusions, context or unless rules). Terms and exclusions must end at a word end:
    " key ". Context words only need to start at a word start: " key"; a word ending
    ("-cabtagene") only to end at a word end: "cabtagene ".
    """
    conditioned = frozenset(checked)
    return _automaton(folded, conditioned, exact=False), _automaton(exact, conditioned, exact=True)


def _automaton(table: Mapping[str, Sequence[Pattern]], checked: frozenset[str], exact: bool) -> Any:
    # Keys that fold to one word form share an entry: the first key's lookup and strict form.
    entries: dict[str, tuple[str, str | None, list[Pattern], int, bool]] = {}
    for key, patterns in table.items():
        if key.startswith("-"):  # a word ending ("-cabtagene"): only its end is a word end
            word = word_form(key[1:])
            entry = entries.setdefault(f"{word} ", (key, None, [], len(word), True))
            entry[2].extend(p for p in patterns if p not in entry[2])
            continue
        word = word_form(key)
        strict = key if word != key else None
        for closed, group in (
            (True, [p for p in patterns if p.role != "context"]),
            (False, [p for p in patterns if p.role == "context"]),
        ):
            if group:
                padded = f" {word} " if closed else f" {word}"
                entry = entries.setdefault(padded, (fold(key), strict, [], len(word), closed))
                entry[2].extend(p for p in group if p not in entry[2])
    automaton = ahocorasick.Automaton()
    if not entries:
        return automaton
    # Laid out anew (see the module docstring): keys added in sorted order, the automaton
    # copied by a pickle round trip while its values are small ints (cheap to copy), then
    # each key's value set to its Key, which allocates no node.
    padded_keys = sorted(entries, key=lambda padded: padded.translate(_BY_FREQUENCY))
    for index, padded in enumerate(padded_keys):
        automaton.add_word(padded, index)
    automaton.make_automaton()
    automaton = pickle.loads(pickle.dumps(automaton))
    for padded in padded_keys:
        lookup, strict, patterns, length, closed = entries[padded]
        automaton.add_word(
            padded, _key(lookup, strict, patterns, length + closed, length, checked, exact)
        )
    automaton.make_automaton()
    return automaton


def _key(
    lookup: str,
    strict: str | None,
    patterns: Sequence[Pattern],
    back: int,
    length: int,
    checked: frozenset[str],
    exact: bool,
) -> Key:
    terms = [p for p in patterns if p.role == "term"]
    groups = _groups(terms, lookup, exact)
    guarded = any(p.guard for p in terms)
    conditioned = tuple(dict.fromkeys(p.topic for p in terms if p.topic in checked))
    plain = strict is None and len(terms) == len(patterns) and not guarded and not conditioned
    if plain and len(groups) == 1:
        return Key(back, length, None, *groups[0])
    extra = KeyExtras(
        strict=strict,
        terms=groups,
        named_terms=_groups([p for p in terms if not p.guard], lookup, exact, groups),
        guarded=guarded,
        checked=conditioned,
        asides=tuple(p.rule for p in patterns if p.role == "aside"),
        excludes=tuple(p.topic for p in patterns if p.role == "exclude"),
        contexts=tuple(p.topic for p in patterns if p.role == "context"),
        rivals=tuple(p.topic for p in patterns if p.role == "rival"),
    )
    return Key(back, length, extra, "", (), lookup, exact, 0)


def _groups(
    terms: Sequence[Pattern], lookup: str, exact: bool, full: Sequence[TermGroup] = ()
) -> tuple[TermGroup, ...]:
    """``terms`` grouped by topic, in the order of each topic's first pattern (its place
    among ``full``, the groups of all the key's terms, when this is a subset of them)."""
    by_topic: dict[str, list[tuple[str, str]]] = {}
    for pattern in terms:
        by_topic.setdefault(pattern.topic, []).append((pattern.phrase, pattern.rule))
    places = {group.topic: group.order for group in full}
    return tuple(
        TermGroup(topic, tuple(matches), lookup, exact, places.get(topic, order))
        for order, (topic, matches) in enumerate(by_topic.items())
    )
