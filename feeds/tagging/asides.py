"""Where a text names things only in passing (examples, exclusions, comparisons), and whom
it is about.

What it does: find, in one field of an article, the spans that English marks as asides,
so the matcher can count a topic mentioned there as a passing mention (a small weight)
rather than as a subject:

- examples of a class, marked after the list: "active cancer, lupus or other autoimmune
  disease", "lupus nephritis and other immune diseases" (not in a headline, where "...
  across lupus and other diseases" puts lupus first: ``feeds.tagging.scan`` skips them);
- examples, exclusions and adjustments marked before the list: "conditions such as
  rosacea or lupus", "excluding patients with lupus", "adjusted for diabetes, lupus and
  cancer", "12 conditions, including coeliac disease, psoriasis and lupus";
- comorbidities, when three or more are listed: "people who already had rheumatoid
  arthritis, psoriasis, bowel disease or lupus";
- exclusions marked after the list, whose items may be long: "patients with lupus,
  psoriasis or diabetes were excluded";
- comparisons and negations, for the few words that follow: "unlike CAR-T therapies",
  "a rash unrelated to systemic lupus", "mistaken for psoriasis", "can look like lymphoma",
  "patients who cannot wait for CAR-T", "relapsed after CAR-T", "given without chemotherapy";
- a diagnosis considered and not made: "referred with suspected lupus" (a list after the
  marker), "after lupus is excluded", "lupus was ruled out" (the one or two words before it);
- what a thing is otherwise known or used for, up to the next comma: "mice, better known as
  a lupus strain, ...", "a mutation widely used in lupus research", "teclistamab, normally
  given for myeloma, ...", "building on remissions first seen in lupus, ..."; and "approved
  for" only inside such an insert: "blinatumomab, approved for leukemia, ..."; where a
  thing was first found: "a gene first found in a lupus-prone strain, ..."; a person's
  background: "a novelist who has written about living with lupus", "a veteran who
  previously ran a CAR-T franchise";
- a range of examples: "19 conditions, from psoriasis and coeliac disease to lupus and
  multiple sclerosis, ..." (after a comma, or after "range"/"ranging": "investments range
  from an ECG patch to a sensor for CAR-T manufacturing"), both ends of it;
- a word that only qualifies the next: a likeness ("'CAR-T-like' responses", "lupus-like
  rash": the one word before "like", which folding has made a word of its own) or a line of
  work ("its lupus program", "a CAR-T franchise");
- a long enumeration, with or without a marker: an item of a list of five or more
  ("higher rates of alopecia areata, vitiligo, psoriasis, rheumatoid arthritis, lupus and
  type 1 diabetes") is one of many outcomes, traits or conditions, not what the text is
  about (``enumeration_spans``; the matcher asks for these only for a topic that would be
  tagged, once per field).

And the opposite, where English marks the subject: whom a text is about, named by what
they have ("in 300 adults with lupus nephritis", "women living with HIV"), and what a test
or a study found ("a skin biopsy confirmed subacute cutaneous lupus"), unless that is one of
a list ("women with diabetes, lupus or obesity") or negated ("tests confirmed no lupus")
(``subject_spans``; the matcher weighs a mention there as a subject).

A list is followed item by item (items end at a comma, "and" or "or") while each item is
short (at most ``ITEM_WORDS`` words); a long item ends the list after its nearest words.
A list never crosses a sentence or clause break (``. ; : ( )``).

What it does not do: list the marker phrases (``feeds.tagging.markers``), parse grammar,
scan for the markers (the matcher's automaton finds them with the terms), or decide what
is a subject (``feeds.tagging.matcher`` weighs the spans).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from feeds.tagging.markers import (
    AFTER,
    APPOSITIVE,
    BEFORE,
    DESCRIPTION,
    EXCLUSION,
    MARKERS,
    MODIFIER,
    NEAR,
    RANGE,
    SEVERAL,
    SUBJECT,
)
from feeds.tagging.text import word_form

ITEM_WORDS = 4  # longest list item, in words, that a list is followed across
COMPARISON_WORDS = 4  # words after a comparison marker that are an aside
EXCLUDED_WORDS = 8  # longest item followed back from "were excluded": the excluded are
# described at length ("patients with active autoimmune disease needing systemic treatment")
NEAR_WORDS = 2  # words before "is excluded" / "was ruled out" that are an aside
SEVERAL_ITEMS = 3  # fewest items of a list that "already had" makes an aside
CLAUSE_REACH = 300  # characters searched back for the start of an enumeration's clause
SUBJECT_REACH = 100  # characters after a subject marker read for its item and list
ENUMERATION_ITEMS = 5  # fewest items of a list that is an aside without any marker
ENUMERATION_COMMAS = 3  # ... of which at least this many end at a comma: "a, b, c, d and e"
_STRETCH_WORDS = 2 * ITEM_WORDS + 1  # most words between two commas of an enumeration
RANGE_WORDS = 12  # longest end of a range ("from ... to ..."), in words
DESCRIPTION_WORDS = 10  # longest description ("better known as ...") followed to its comma
APPOSITIVE_WORDS = 6  # longest noun phrase between a comma and "approved for" in an insert
# Words after which "from X to Y" is a range of examples (as after a comma): "range(s)",
# and a class whose members follow ("conditions from psoriasis to lupus").
_RANGE_OPENERS = frozenset(
    {"range", "ranges", "ranged", "ranging", "conditions", "diseases", "disorders", "illnesses"}
)
_LIST_WORDS = {AFTER: ITEM_WORDS, EXCLUSION: EXCLUDED_WORDS, NEAR: NEAR_WORDS}
_CLAUSE_BREAK = re.compile(r"[.;:()!?]\s|[;:()]")
_WORD = re.compile(r"\S+")
_CONJUNCTIONS = frozenset({"and", "or"})
_RELATIVES = frozenset({"who", "whose", "whom", "which"})
_SEVERITY = frozenset(
    {"mild", "mildly", "moderate", "moderately", "severe", "severely", "active", "refractory"}
)
# Words that open a clause of their own: an item that starts with one is not a list item
# ("kill myeloma cells, the guide explains, but differ in cost, speed and ...")
_CLAUSE_OPENERS = frozenset({"but", "while", "whereas", "although", "though", "yet", "because"})
_NEGATIONS = frozenset({"no", "not", "never", "neither", "nor", "none", "without"})
_OUTCOMES = frozenset({"progression", "relapse", "recurrence", "worsening", "flares", "flare"})
_STAND_INS, _OF = frozenset({"that", "those"}), frozenset({"of", "in", "for"})
# Words that end a long first item's part in a list of examples (``_list_start``)
_PREPOSITIONS = frozenset(
    {"despite", "with", "without", "after", "before", "from", "for", "in", "on", "of"}
)
_AUXILIARIES = frozenset({"is", "are", "was", "were", "be", "been", "being", "has", "have", "had"})


def aside_spans(text: str, markers: Iterable[tuple[str, int, int]]) -> list[tuple[int, int]]:
    """The (start, end) offsets of the asides in ``text``, which is folded
    (``feeds.tagging.text.fold``), given its markers as (kind, start, end)."""
    spans: list[tuple[int, int]] = []
    for kind, start, end in markers:
        if kind == SUBJECT:
            continue  # not an aside (``subject_spans``)
        if kind in _LIST_WORDS:
            first = _list_start(text, start, _LIST_WORDS[kind], examples=kind == AFTER)
            if first < start:
                spans.append((first, start))
        elif kind in (DESCRIPTION, APPOSITIVE):
            stop = _clause_end(text, end)
            comma = text.find(",", end, stop)
            # An insert opened by a comma runs to the next comma or the clause's end
            # ("daratumumab, an antibody approved for myeloma; ...").
            if kind == APPOSITIVE and not _in_appositive(text, start):
                continue
            words = list(_WORD.finditer(text, end, stop if comma < 0 else comma))
            if words:
                spans.append((end, words[:DESCRIPTION_WORDS][-1].end()))
        elif kind == RANGE:
            span = _range(text, start, end)
            if span:
                spans.append(span)
        elif kind == MODIFIER:
            # The word just before, with no comma between: "car t like" ("CAR-T-like"),
            # "its lupus program"; in "diseases like lupus" that word is not a term anyway.
            if start > 1 and text[start - 1] == " " and text[start - 2].isalnum():
                spans.append((text.rfind(" ", 0, start - 1) + 1, start - 1))
        elif kind in (BEFORE, SEVERAL):
            last = _list_end(text, end, SEVERAL_ITEMS if kind == SEVERAL else 1)
            if last > end:
                spans.append((end, last))
        else:
            stop = _clause_end(text, end)
            comma = text.find(",", end, stop)  # a comparison does not run on past a comma
            words = list(_WORD.finditer(text, end, stop if comma < 0 else comma))
            if words and words[0][0] in _OUTCOMES and text[start:end] == "without":
                continue  # "lived longer without progression when given X": an outcome
            reach = COMPARISON_WORDS
            if len(words) > 2 and words[0][0] in _STAND_INS and words[1][0] in _OF:
                reach += 2  # "similar to those of people with lupus": the group comes later
            if words:
                spans.append((end, words[:reach][-1].end()))
    return [_trimmed(text, start, end) for start, end in spans]


def subject_spans(text: str, markers: Iterable[tuple[str, int, int]]) -> list[tuple[int, int]]:
    """The (start, end) offsets in folded ``text`` of what its subject markers name: the
    item right after "patients with" or "a biopsy confirmed" (at most ``ITEM_WORDS`` words:
    "adults with active lupus nephritis"), unless it is one of a list ("women with diabetes,
    lupus or obesity", "patients with lupus or psoriasis": their other conditions too) or
    negated ("confirmed no sign of lupus", "patients with no history of cancer")."""
    spans: list[tuple[int, int]] = []
    for kind, _start, end in markers:
        if kind != SUBJECT:
            continue
        # The list that decides it is near, and read as plain words: the folded text has
        # one space between words, so their offsets follow from their lengths.
        stop = _CLAUSE_BREAK.search(text, end, end + SUBJECT_REACH)
        piece = text[end : stop.start() if stop else end + SUBJECT_REACH]
        words = piece.split()
        skip = _severity(words)
        take = _subject_words(words[skip:])
        if take:
            first = end + len(piece) - len(piece.lstrip())
            first += len(" ".join(words[:skip])) + 1 if skip else 0
            last = first + len(" ".join(words[skip : skip + take]))
            spans.append((first, last - words[skip + take - 1].endswith(",")))
    return spans


def _severity(words: list[str]) -> int:
    """How many of the first ``words`` say how severe the disease is, not which one:
    "adults with moderately to severely active Crohn's disease", as every approval of a
    drug for it says, or "a young woman with severe, refractory SLE" (a comma between two
    of them). "to" and "or" only between two such words."""
    n = 0
    while n < len(words) and (
        words[n] in _SEVERITY
        or (words[n][-1] == "," and words[n][:-1] in _SEVERITY)
        or (words[n] in ("to", "or") and n and n + 1 < len(words) and words[n + 1] in _SEVERITY)
    ):
        n += 1
    return n


def _subject_words(words: list[str]) -> int:
    """How many of ``words`` (a clause, after a subject marker) name the subject: its first
    item's, up to ``ITEM_WORDS``; 0 if the item is negated or the first of a list ("and" or
    "or" follows it, or follows the short items that commas separate from it: "diabetes,
    lupus or obesity"; not "lupus nephritis, who ..."). (So is "lupus and blood tests found
    antibodies", where "and" joins a clause: a list's last item often runs on into the rest
    of the clause, "vasculitis and lupus rely on the lines", and words do not tell them
    apart.)"""
    end, joined = _item_end(words, 0)
    take = min(end, ITEM_WORDS)
    if not take or not _NEGATIONS.isdisjoint(words[:take]):
        return 0
    at = 0
    while end - at <= ITEM_WORDS:  # a long item is a clause of its own, not a list's
        if joined:
            return 0 if end + 1 < len(words) else take
        if not words[end - 1].endswith(",") or end >= len(words):
            return take
        if words[end] in _CONJUNCTIONS:  # ", and": a list's last item ("a, b, and c") but,
            # after the first, a clause ("confirmed myasthenia, and a tablet now ...")
            return 0 if at and end + 1 < len(words) else take
        at = end  # a comma: a list if "and" or "or" comes later, over short items
        end, joined = _item_end(words, at)
    return take


def _item_end(words: list[str], start: int) -> tuple[int, bool]:
    """Where the list item that starts at ``words[start]`` ends (after its comma, or at the
    "and" or "or" that ends it, which is then True, or before a relative pronoun: "adults
    with Crohn's disease who failed or could not tolerate ..." names one disease)."""
    for n in range(start, len(words)):
        if words[n] in _RELATIVES and n > start:
            return n, False
        if words[n] in _CONJUNCTIONS:
            return n, True
        if words[n].endswith(","):
            return n + 1, False
    return len(words), False


def enumeration_spans(text: str) -> list[tuple[int, int]]:
    """The (start, end) offsets of the long enumerations in folded ``text``: runs of at
    least ``ENUMERATION_ITEMS`` list items (``ENUMERATION_COMMAS`` of them ending at a comma)
    within one clause. Inner items are short (at most ``ITEM_WORDS`` words) and do not open
    a clause ("but ..."); the first and last may be long, and then only their words nearest
    the list belong to it."""
    # Found from the commas: only a clause with three close together is split into items,
    # and most texts have none (splitting a whole text costs more than tagging it). Two of
    # the commas close the list's inner items, so the stretches between the three are short
    # items: at most two, with a conjunction between them.
    commas, at = [], text.find(", ")
    while at >= 0:
        commas.append(at)
        at = text.find(", ", at + 2)
    spans: list[tuple[int, int]] = []
    done = 0  # where the last clause split into items ended
    for first, middle, last in zip(commas, commas[1:], commas[2:], strict=False):
        if (
            first < done
            or text.count(" ", first + 2, middle) >= _STRETCH_WORDS
            or text.count(" ", middle + 2, last) >= _STRETCH_WORDS
            or _CLAUSE_BREAK.search(text, first, last)
        ):
            continue  # already split, a long stretch, or two clauses
        done = _clause_end(text, last)
        start = _clause_start(text, first, max(0, first - CLAUSE_REACH))
        spans += _enumerations(_items(text, start, done))
    return [_trimmed(text, start, end) for start, end in spans]


def _enumerations(items: list[list[re.Match[str]]]) -> list[tuple[int, int]]:
    """The long enumerations among one clause's ``items`` (see ``enumeration_spans``)."""
    found: list[tuple[int, int]] = []
    first = 0  # the run's first item: it may be long
    for n in range(1, len(items) + 1):
        item = items[n] if n < len(items) else None
        if item and len(item) <= ITEM_WORDS and item[0].group() not in _CLAUSE_OPENERS:
            continue  # the run goes on across a short item that opens no clause
        # To the end, or to a long item (which starts the next run); an item that opens a
        # clause ("but screening finds ...") belongs to none
        opener = item is not None and item[0].group() in _CLAUSE_OPENERS
        run = items[first:n] if opener else items[first : n + 1]
        commas = sum(member[-1].group().endswith(",") for member in run[:-1])
        if len(run) >= ENUMERATION_ITEMS and commas >= ENUMERATION_COMMAS:
            found.append((run[0][-ITEM_WORDS:][0].start(), run[-1][:ITEM_WORDS][-1].end()))
        first = n
    return found


def _range(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The span of "from X to Y" whose "from" is at ``start``-``end``, if a comma or one of
    ``_RANGE_OPENERS`` ("range", "conditions") comes just before it and " to " closes the
    first end within the clause."""
    last = start - 1  # the last character before "from" that is not a space
    while last >= 0 and text[last] == " ":
        last -= 1
    if last < 0:
        return None
    if text[last] != "," and text[text.rfind(" ", 0, last) + 1 : last + 1] not in _RANGE_OPENERS:
        return None  # most "from"s: checked without copying the text before them
    stop = _clause_end(text, end)
    first = list(_WORD.finditer(text, end, stop))[: RANGE_WORDS + 1]
    to = next((n for n, word in enumerate(first) if word.group() == "to"), None)
    if not to:  # none, or at once ("from to"): not a range
        return None
    comma = text.find(",", first[to].end(), stop)
    second = list(_WORD.finditer(text, first[to].end(), stop if comma < 0 else comma))
    if not second:
        return None
    return end, second[:RANGE_WORDS][-1].end()


def _in_appositive(text: str, start: int) -> bool:
    """Whether the marker at ``start`` opens, or follows a short noun phrase that opens, a
    comma-delimited insert: "blinatumomab, approved for", "relma-cel, an anti-CD19 cell
    therapy approved for", but not "relma-cel, made in China, was approved for"."""
    before = text[_clause_start(text, start) : start]
    comma = before.rfind(",")
    words = before[comma + 1 :].split()
    return comma >= 0 and len(words) <= APPOSITIVE_WORDS and not _AUXILIARIES & set(words)


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without white space at either end."""
    piece = text[start:end]
    return start + len(piece) - len(piece.lstrip()), end - len(piece) + len(piece.rstrip())


def markers_in(text: str) -> list[tuple[str, int, int]]:
    """The markers in folded ``text`` as (kind, start, end), in order: what the matcher's
    automaton finds, for callers without one."""
    padded = f" {word_form(text)} "
    found = []
    for marker, kind in MARKERS.items():
        at = padded.find(f" {marker} ")
        while at >= 0:
            found.append((kind, at, at + len(marker)))  # padded offset + 1 - 1
            at = padded.find(f" {marker} ", at + 1)
    return sorted(found, key=lambda m: m[1])


def _clause_start(text: str, end: int, reach: int = 0) -> int:
    """Where the clause that ``end`` is in starts, searched back to ``reach`` at most (then
    the first whole word after it)."""
    found = [m.end() for m in _CLAUSE_BREAK.finditer(text, reach, end)]
    if found:
        return found[-1]
    return reach if reach == 0 else text.find(" ", reach, end) + 1


def _clause_end(text: str, start: int) -> int:
    found = _CLAUSE_BREAK.search(text, start)
    return found.start() if found else len(text)


def _items(text: str, start: int, end: int) -> list[list[re.Match[str]]]:
    """The words of ``text[start:end]`` grouped into list items: a comma ends an item, and
    "and" / "or" separate items without belonging to either."""
    items: list[list[re.Match[str]]] = [[]]
    for word in _WORD.finditer(text, start, end):
        if word.group() in _CONJUNCTIONS:
            items.append([])
            continue
        items[-1].append(word)
        if word.group().endswith(","):
            items.append([])
    return [item for item in items if item]


def _list_start(text: str, end: int, nearest: int = ITEM_WORDS, examples: bool = False) -> int:
    """Where a list that ends at ``end`` starts: back across items of at most ``nearest``
    words; of a longer item only its ``nearest`` words belong to the list, and of those,
    for a list of ``examples`` ("..., X and other Y"), only the words after a preposition:
    in "adults with lupus despite steroids, antimalarials and other immunosuppressants" the
    list is the drugs, not the disease the drugs are given for."""
    start = end
    for item in reversed(_items(text, _clause_start(text, end), end)):
        if len(item) <= nearest:
            start = item[0].start()
            continue
        words = item[-nearest:]
        if examples:
            cut = [n for n, word in enumerate(words[:-1]) if word.group() in _PREPOSITIONS]
            words = words[cut[-1] + 1 :] if cut else words
        return words[0].start()
    return start


def _list_end(text: str, start: int, fewest: int = 1) -> int:
    """Where a list that starts at ``start`` ends: on across short items; ``start`` itself
    when it has fewer than ``fewest`` items. A comma right after the marker ("lupus was
    ruled out, and ...") means there is no list."""
    end, count = start, 0
    if text[start:].lstrip().startswith(","):
        return end
    for item in _items(text, start, _clause_end(text, start)):
        end = item[ITEM_WORDS - 1].end() if len(item) > ITEM_WORDS else item[-1].end()
        count += 1
        if len(item) > ITEM_WORDS:
            break
    return end if count >= fewest else start
