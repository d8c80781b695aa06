"""The topic rule language, and its compilation into one Aho-Corasick automaton.

A topic in ``config.yaml``::

    - slug: lupus
      title: Lupus
      terms: [lupus, systemic lupus erythematosus, lupus nephritis]
      acronyms: [SLE]
      exclude: [lupus vulgaris, lupus anticoagulant, canis lupus, st louis encephalitis]
      context:
        SLE: [lupus, autoimmune, erythematosus, nephritis]
      unless:
        SLE: [encephalitis, mosquito, slit lamp]
      alone:
        lupus: [nephritis, rheumatolog, belimumab, kidney, rash]
      mesh: [D008180]
      narrower: true
      parents: [autoimmune]
      threshold: 2

- ``terms`` match case-insensitively, with hyphens/dashes/spaces equivalent and the last
  word in singular or plural ("CAR T cell" matches "CAR-T cells").
  A term that starts with a hyphen is a word ending: ``-cabtagene`` (the INN stem of
  CAR-T gene components) matches "rapcabtagene" and "cemacabtagene", names no list has yet.
  It is one word of at least five letters, matched as the end of a word.
- ``acronyms`` match only in exactly the case written, as whole words.
- ``exclude`` phrases veto every match of this topic that they overlap or contain: in
  "lupus anticoagulant" the term "lupus" does not count; elsewhere in the article it does.
- ``context`` makes a term or acronym count only when the same article (any field) also
  contains one of the listed words; a listed word matches at a word start, so
  "rheumatolog" covers "rheumatology" and "rheumatologist".
- ``unless`` is the opposite condition: the term or acronym does not count anywhere in an
  article that contains one of the listed words (matched like context words). It is for
  a reading that the whole article settles ("SLE" in a story about mosquitoes is St. Louis
  encephalitis) where no phrase overlaps the match itself, which ``exclude`` needs. Unlike
  ``context``, it also covers every longer term of the topic, MeSH ones included, that
  contains the term as whole words: ``lupus: [canine]`` also holds back "discoid lupus
  erythematosus" in a story about dogs. A longer term with an ``unless`` entry of its own
  keeps only that one; an empty one (``chimeric antigen receptor T cell: []``) frees a
  precise name from a veto meant for the shorter, vaguer one.
- ``alone`` is a stricter condition for a term's weakest use: when the term is the only
  thing that would tag the article — one mention of it, in the lead (the summary's first
  sentence), none in the title, no other term of the topic anywhere — it counts only if
  the article also contains one of the listed words (matched like context words; a word
  may be a phrase around the term, "children with lupus", "receiving CAR-T"); an empty
  list: never on its own. A broad name used once in a sentence about something
  else ("access to CAR-T", "patients having infusions for Crohn's disease or lupus") is
  usually a passing mention; when the topic is the subject, the text names it again, more
  precisely ("CAR-T cells", "lupus nephritis", a product) or speaks of it ("kidney",
  "rheumatologist"). The term must be one of the topic's terms or acronyms.
- ``rivals`` are phrases naming another subject of the same kind (another engineered
  cell, for CAR-T): when the title names a rival and none of the topic's terms, the
  topic's mentions in the summary and content do not count. A headline says what the
  item is about; "Engineered natural killer cells may be the next cancer immunotherapy"
  opens with "CAR T cells have proved their worth" as the yardstick, not the news.
  Matched like exclusions (case-insensitive, inflected); a source category still counts.
- ``mesh`` descriptors add their heading and entry terms as terms once a MeSH file is
  imported; ``narrower: true`` adds the descriptors below them in the MeSH tree.
- ``parents``: an article in this topic is also in each parent (and their parents).
- ``threshold``: the score an article needs (see ``feeds.tagging.matcher``).

That is the whole language: three kinds of phrase (a term may be a word ending), two
vetoes (``exclude`` by overlap, ``rivals`` by the headline), three conditions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from feeds.config import TopicSettings
from feeds.tagging.automaton import build
from feeds.tagging.markers import MARKERS
from feeds.tagging.text import fold, fold_exact, inflections, word_form

DEFAULT_THRESHOLD = 2.0


@dataclass(frozen=True, slots=True)
class Pattern:
    """What one automaton key means for one topic."""

    topic: str  # topic slug
    role: str  # "term", "exclude", "context", "rival" or "aside" (``feeds.tagging.asides``)
    rule: str  # where it came from: "term", "acronym", "mesh:D008180", ...; an aside's kind
    phrase: str  # the phrase as written in the config or MeSH
    guard: bool = False  # a one-word lower-case term: subject to the proper-noun guard


@dataclass(frozen=True, slots=True)
class TopicRule:
    """A compiled topic: what the matcher needs beyond the automaton."""

    slug: str  # topic slug
    title: str  # display title
    threshold: float  # score an article needs
    ancestors: tuple[str, ...]  # every parent, grandparent, ...
    context: Mapping[str, tuple[str, ...]]  # folded term (each inflection) -> context words
    unless: Mapping[str, tuple[str, ...]]  # folded term (each inflection) -> veto words
    alone: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # ... -> support words


@dataclass(frozen=True)
class CompiledRules:
    """Every topic's rules in two automatons: folded (terms) and exact case (acronyms)."""

    topics: Mapping[str, TopicRule]  # slug -> rule
    folded: Any  # ahocorasick.Automaton over folded keys -> ``automaton.Key``
    exact: Any  # ahocorasick.Automaton over case-kept keys -> ``automaton.Key``
    term_count: int  # distinct automaton keys, for reports
    vocabulary: frozenset[str] = frozenset()  # subject words (see ``subject_words``)
    # For the matcher, so that most topics an article names cost no look-up of their rule:
    lowest_threshold: float = 0.0  # the least of the topics' thresholds
    higher_thresholds: Mapping[str, float] = field(default_factory=dict)  # slug -> any above it
    ancestors: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # slug -> if any
    alone: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)  # slug -> any


def compile_rules(
    topics: Sequence[TopicSettings],
    mesh_terms: Mapping[str, Sequence[tuple[str, str]]] | None = None,
    default_threshold: float = DEFAULT_THRESHOLD,
) -> CompiledRules:
    """Compile topic settings; ``mesh_terms`` maps a topic slug to (descriptor UI, term) pairs."""
    folded: dict[str, list[Pattern]] = {}
    exact: dict[str, list[Pattern]] = {}
    parents = {t.slug: t.parents for t in topics}
    compiled: dict[str, TopicRule] = {}
    names: set[str] = {t.title for t in topics}  # titles and acronyms, for subject_words
    terms: set[str] = set()
    for topic in topics:
        phrases: list[tuple[str, str]] = [(t, "term") for t in topic.terms]
        for ui, term in (mesh_terms or {}).get(topic.slug, ()):
            if _is_acronym(term):  # MeSH's "AIDS", "ALL": exact case, or "all" would match
                _add(exact, fold_exact(term), Pattern(topic.slug, "term", f"mesh:{ui}", term))
                names.add(term)
            else:
                phrases.append((term, f"mesh:{ui}"))
        names.update(topic.acronyms)
        terms.update(phrase for phrase, _ in phrases)
        for phrase, rule in phrases:
            if rule == "term" and phrase.startswith("-"):  # a word ending: its key keeps the "-"
                _add(folded, f"-{fold(phrase[1:])}", Pattern(topic.slug, "term", rule, phrase))
                continue
            guard = " " not in phrase.strip() and phrase.islower()
            for key in inflections(fold(phrase)):
                _add(folded, key, Pattern(topic.slug, "term", rule, phrase, guard))
        for acronym in topic.acronyms:
            _add(exact, fold_exact(acronym), Pattern(topic.slug, "term", "acronym", acronym))
        for phrase in topic.exclude:
            for key in inflections(fold(phrase)):
                _add(folded, key, Pattern(topic.slug, "exclude", "exclude", phrase))
        for phrase in topic.rivals:
            for key in inflections(fold(phrase)):
                _add(folded, key, Pattern(topic.slug, "rival", "rival", phrase))
        context = _conditions(folded, topic.slug, "context", topic.context)
        unless = _conditions(folded, topic.slug, "unless", topic.unless)
        alone = _conditions(folded, topic.slug, "alone", topic.alone)
        if unless:
            keys = {k for p, _ in phrases for k in inflections(fold(p))}
            unless = _covering(unless, keys | {fold(a) for a in topic.acronyms})
        compiled[topic.slug] = TopicRule(
            slug=topic.slug,
            title=topic.title,
            threshold=topic.threshold or default_threshold,
            ancestors=_ancestors(parents, topic.slug),
            context=context,
            unless=unless,
            alone=alone,
        )
    for marker, kind in MARKERS.items():  # found in the same scan as the terms
        _add(folded, marker, Pattern("", "aside", kind, marker))
    checked = [t.slug for t in topics if t.exclude or t.context or t.unless]
    lowest = min((rule.threshold for rule in compiled.values()), default=0.0)
    folded_automaton, exact_automaton = build(folded, exact, checked)
    return CompiledRules(
        topics=compiled,
        folded=folded_automaton,
        exact=exact_automaton,
        term_count=len(folded) + len(exact),
        vocabulary=subject_words(terms, names),
        lowest_threshold=lowest,
        higher_thresholds={s: r.threshold for s, r in compiled.items() if r.threshold > lowest},
        ancestors={slug: rule.ancestors for slug, rule in compiled.items() if rule.ancestors},
        alone={slug: rule.alone for slug, rule in compiled.items() if rule.alone},
    )


def subject_words(terms: Iterable[str], names: Iterable[str]) -> frozenset[str]:
    """The words that say what the topics are *about*, folded to ``word_form``, each in
    singular and plural.

    Story clustering (``feeds.stories``) does not count them as evidence that two articles
    report the same news. They are every word of the topics' phrases (``terms``, and
    ``names``: titles and acronyms) except a one-word term that no other phrase uses: that
    is a name (a drug, a brand: "anifrolumab", "Saphnelo"), which does say which news it
    is. So "systemic lupus erythematosus", "lupus", "SLE", "pre-exposure prophylaxis",
    "therapy" and "inhibitor" are vocabulary; a one-word disease that no other phrase
    repeats ("measles") is not, until imported MeSH entry terms repeat it.
    """
    uses: Counter[str] = Counter()
    lone: set[str] = set()  # words that are a whole one-word term
    for phrase in {fold(p) for p in (*terms, *names)}:
        words = word_form(phrase).split()
        uses.update(set(words))
        if len(words) == 1:
            lone.update(words)
    named = {w for name in names for w in word_form(fold(name)).split()}
    subject = {w for w, count in uses.items() if count > 1 or w not in lone or w in named}
    return frozenset(form for w in subject for form in inflections(w))


def _conditions(
    keys: dict[str, list[Pattern]], topic: str, rule: str, conditions: Mapping[str, Sequence[str]]
) -> dict[str, tuple[str, ...]]:
    """Folded term (each inflection) -> folded condition words; the words join the automaton
    as "context" patterns, which the matcher only notes as seen."""
    compiled: dict[str, tuple[str, ...]] = {}
    for term, words in conditions.items():
        # "receptor" rule also guards "receptors"; a word ending is its own key
        forms = [f"-{fold(term[1:])}"] if term.startswith("-") else inflections(fold(term))
        for key in forms:
            compiled[key] = tuple(fold(w) for w in words)
        for word in words:
            _add(keys, fold(word), Pattern(topic, "context", rule, word))
    return compiled


def _covering(
    conditions: Mapping[str, tuple[str, ...]], keys: Iterable[str]
) -> dict[str, tuple[str, ...]]:
    """``conditions`` extended to every key that contains a conditioned term as whole words
    (with the words of every condition it contains); a key with a condition of its own keeps
    only that one, even an empty one (a longer, more precise name the veto does not fit)."""
    terms = [(word_form(term).split(), words) for term, words in conditions.items()]
    covered = dict(conditions)
    for key in keys:
        if key in conditions:
            continue
        found = [w for t, words in terms if _within(t, word_form(key).split()) for w in words]
        if found:
            covered[key] = tuple(dict.fromkeys((*covered.get(key, ()), *found)))
    return covered


def _within(part: list[str], whole: list[str]) -> bool:
    """Whether the words ``part`` occur in ``whole`` one after the other."""
    n = len(part)
    return any(whole[i : i + n] == part for i in range(len(whole) - n + 1))


def _is_acronym(term: str) -> bool:
    """A short all-capitals term such as "SLE", "AIDS" or "ALL"."""
    letters = term.replace("-", "").replace(" ", "")
    return len(letters) <= 6 and letters.isalnum() and letters.isupper()


def _add(keys: dict[str, list[Pattern]], key: str, pattern: Pattern) -> None:
    if key and pattern not in keys.setdefault(key, []):
        keys[key].append(pattern)


def _ancestors(parents: Mapping[str, tuple[str, ...]], slug: str) -> tuple[str, ...]:
    found: dict[str, None] = {}
    stack = list(parents.get(slug, ()))
    while stack:
        parent = stack.pop(0)
        if parent not in found and parent != slug:
            found[parent] = None
            stack.extend(parents.get(parent, ()))
    return tuple(found)
