"""The English phrases that mark an aside, and what kind of aside each marks.

What it does: hold ``MARKERS``, folded marker phrase -> kind, which ``feeds.tagging.rules``
adds to the automaton (so one scan finds them with the terms) and ``feeds.tagging.asides``
turns into spans. The markers are English news phrasing, not configuration: they say how
text is built, not what a topic is.

What it does not do: find markers in a text or decide what their asides cover
(``feeds.tagging.asides``).
"""

from __future__ import annotations

from collections.abc import Mapping

_EXCLUDED = ("excluded", "ineligible", "not eligible", "not included")

AFTER, BEFORE, COMPARISON = "after", "before", "comparison"


def _openly(verb: str) -> tuple[str, ...]:
    """``verb`` said openly, both ways round: "publicly spoken", "spoken publicly", ..."""
    ways = ("publicly", "openly")
    return tuple(f"{a} {b}" for how in ways for a, b in ((how, verb), (verb, how)))


EXCLUSION, NEAR, DESCRIPTION = "exclusion", "near", "description"
RANGE, MODIFIER = "range", "modifier"
APPOSITIVE, SEVERAL = "appositive", "several"
SUBJECT = "subject"
# What English marks as the subject, where a mention names it (not an aside: the opposite,
# ``feeds.tagging.asides.subject_spans``): who the text is about, named by their disease
# ("in 300 adults with lupus nephritis", "a woman with lupus", "people living with HIV",
# "patients newly diagnosed with myeloma"), and what a test or a study found ("a kidney
# biopsy confirmed lupus nephritis", "a diagnosis of juvenile-onset lupus").
_PEOPLE = (
    "patients", "patient", "people", "person", "individuals", "adults", "adult", "children",
    "child", "kids", "adolescents", "teenagers", "teenager", "teens", "women", "woman", "men",
    "man", "girls", "girl", "boys", "boy", "infants", "infant", "babies", "baby", "newborns",
    "mothers", "mother", "participants", "volunteers", "survivors", "veterans", "those", "mice",
)  # fmt: skip
_HAVING = (
    "with",
    "living with",
    "diagnosed with",
    "newly diagnosed with",
    "recently diagnosed with",
)
# Not "was diagnosed with": "she was diagnosed with lupus at 19" is often a person's
# history in a story about something else; a finding is what a test confirmed. (Nor
# "showed" or "revealed": they show results far more often than diagnoses.)
_FOUND = ("confirmed", "diagnosis of", "diagnosed as")
# Folded marker phrases -> kind. after: a list of examples (or exclusions) ends just
# before the marker; before: a list of examples, exclusions or adjustments starts just
# after it; comparison: the next few words are not what the text is about; near: the one
# or two words just before the marker are not (a diagnosis excluded: "after lupus is
# excluded" says nothing about what the headline's other words are); description: what
# follows, up to the next comma, says what a thing is otherwise known or used for;
# appositive: the same, but only between two commas ("blinatumomab, approved for
# leukemia, in ..."), because "Belimumab approved for lupus nephritis" is the news;
# subject: not an aside but its opposite, whom the text is about or what it found. The
# matcher finds them as whole words in the scan that finds the terms (``feeds.tagging.rules``).
MARKERS: Mapping[str, str] = {
    **dict.fromkeys(("and other", "or other", "and another", "or another"), AFTER),
    **dict.fromkeys(
        (f"{verb} {state}" for verb in ("were", "was") for state in _EXCLUDED), EXCLUSION
    ),
    **dict.fromkeys(
        (
            f"{verb} {state}"
            for verb in ("is", "are", "was", "were", "been")
            for state in ("excluded", "ruled out")
            if f"{verb} {state}" not in {"was excluded", "were excluded"}  # kept as lists
        ),
        NEAR,
    ),
    **dict.fromkeys(
        (
            "such as",
            "excluding",
            "adjusted for",
            "adjusting for",
            "adjustment for",
            "controlling for",
            "accounting for",
            "taking into account",
            "including",
            "citing",  # examples cited: "citing heart-failure and lupus studies in which"
            "include",
            "includes",
            "included",
            # a diagnosis considered, not made: "referred with suspected lupus" (but
            # "Suspected lupus nephritis: when to biopsy" is about lupus)
            "with suspected",
            "for suspected",
        ),
        BEFORE,
    ),
    **dict.fromkeys(
        (
            "better known as",
            "better known from",
            "best known from",
            "best known as",
            "better known for",
            "best known for",
            "widely used in",
            "widely used for",
            "commonly used in",
            "commonly used for",
            "long used for",
            "long used in",
            "also used for",
            "also used in",
            "also used to treat",
            "normally used for",
            "usually used for",
            "mainly used for",
            "normally given for",
            "usually given for",
            "originally developed for",
            "originally approved for",
            "already used for",
            "already used in",
            "already approved for",
            # where a thing was first found: "the Yaa duplication, first found in a
            # lupus-prone strain, ..."
            *(
                f"{when} {verb} in"
                for when in ("first", "originally")
                for verb in ("found", "identified", "described")
            ),
            # ... or first made for: "an app first designed with patients at a lupus clinic"
            *(
                f"{when} {verb} {prep}"
                for when in ("first", "originally")
                for verb in ("designed", "developed", "built")
                for prep in ("with", "for")
                if f"{when} {verb} {prep}" != "originally developed for"  # listed above
            ),
            # a person's background, not the news: "a novelist who has written about living
            # with lupus", "a veteran who previously ran a CAR-T franchise"
            *(
                f"who {has} {said} about"
                for has in ("has", "had")
                for verb in ("spoken", "talked", "written")
                for said in (verb, *_openly(verb))
            ),
            *(
                f"who {when} {verb}"
                for when in ("previously", "formerly", "once")
                for verb in ("ran", "led", "headed", "worked", "oversaw", "managed", "founded")
            ),
            # a fronted aside: "Building on remissions first seen in lupus, ..."
            "building on",
            "encouraged by",
            "inspired by",
            "after early success",
            "after success",
            "after successes",
            "following success",
            "following successes",
        ),
        DESCRIPTION,
    ),
    **dict.fromkeys(
        (
            "approved for",
            # other uses in development: "ianalumab, a BAFF-receptor antibody also in
            # late-stage trials for Sjogren's disease and lupus, ..."
            "also in",
            "also being tested in",
            "also tested in",
            "also being studied in",
            "also studied in",
            "also being developed for",
            "also developed for",
            "licensed for",
            # what a drug is otherwise for: "hydroxychloroquine, taken daily by many people
            # with arthritis and lupus, ..."
            "prescribed for",
            "prescribed to",
            "used to treat",
            "used by",
            "taken by",
            "taken daily by",
        ),
        APPOSITIVE,
    ),
    # "a range, from X to Y" of examples (a comma or "range" before it: "switched from
    # lymphoma to lupus" is the news), and "X-like": neither end, nor X, is the subject
    "from": RANGE,
    # A word that only qualifies the next one: "CAR-T-like" (folded "car t like"), "its
    # lupus program": the thing is a likeness or a company's line of work, not the disease
    # or therapy. (Not "charity": a lupus charity speaks for people with lupus, and where it
    # is only an address, "a lupus charity's former offices", the topic's alone rule holds
    # the lone mention back.)
    **dict.fromkeys(
        ("like", "program", "programme", "programs", "programmes", "franchise"),
        MODIFIER,
    ),
    **dict.fromkeys((f"{who} {having}" for who in _PEOPLE for having in _HAVING), SUBJECT),
    **dict.fromkeys(_FOUND, SUBJECT),
    # comorbidities, when there are several: "people who already had rheumatoid arthritis,
    # psoriasis or lupus" (but "cancer patients who already had lupus" are about lupus)
    **dict.fromkeys(("already had", "already have"), SEVERAL),
    **dict.fromkeys(
        (
            "unlike",
            "unrelated to",
            "not related to",
            "distinct from",
            "rather than",
            "instead of",
            "mistaken for",
            "misdiagnosed as",
            "confused with",
            "mimic",
            "mimics",
            "mimicking",
            "look like",
            "looks like",
            "looked like",
            "resemble",
            "resembles",
            "resembled",
            "resembling",
            "masquerade as",
            "masquerades as",
            "masquerading as",
            "treated as",  # a misdiagnosis: "treated as eczema and then psoriasis"
            "alternative to",
            "alternatives to",
            # a competitor: "an off-the-shelf rival to the CAR-T programs"
            "rival to",
            "rivals to",
            "competitor to",
            "competitors to",
            "challenger to",
            "compared to",
            "compared with",
            "comparable to",
            "similar to",
            "akin to",
            # what is absent: "given to lupus patients without chemotherapy", "people
            # without lupus" (the controls)
            "without",
            "than in",  # "fewer target cells than in blood cancers"
            # a comparison group: "higher than a group with lupus"
            "also",
            "comparison group",
            "than a group with",
            "than those with",
            "than people with",
            "than patients with",
            "beyond",  # "uses beyond cancer"
            # what some patients cannot have: "patients who cannot wait for CAR-T"
            "who cannot",
            "who could not",
            "who can t",  # folded "who can't"
            # a prior therapy, not the one the text is about
            "relapsed after",
            "relapse after",
            "relapsing after",
            "progressed after",
            "progressing after",
            "refractory to",
            "after failure of",
            "already received",  # "patients who had already received CAR-T"
            "previously received",
            "previously treated with",
        ),
        COMPARISON,
    ),
}
