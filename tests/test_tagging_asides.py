"""Asides: the spans a text marks as passing (examples, exclusions, comparisons)."""

from __future__ import annotations

import pytest

from feeds.tagging.asides import aside_spans, enumeration_spans, markers_in, subject_spans
from feeds.tagging.text import fold


def asides(text: str) -> list[str]:
    folded = fold(text)
    return [folded[start:end] for start, end in aside_spans(folded, markers_in(folded))]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # examples of a class, marked after the list
        (
            "People with active cancer, lupus or other autoimmune disease were excluded.",
            [
                "people with active cancer, lupus",  # the class-example list
                "people with active cancer, lupus or other autoimmune disease",  # the exclusion
            ],
        ),
        (
            "The drug, used to prevent organ rejection and off label for lupus nephritis and "
            "other immune diseases, is cheap.",
            ["lupus nephritis"],
        ),
        # examples, exclusions and adjustments, marked before the list
        # (a short list item takes a word or two after it: "stay" here)
        (
            "Approved uses such as malaria, lupus and arthritis stay.",
            ["malaria, lupus and arthritis stay."],
        ),
        (
            "Models adjusted for age, smoking, lupus and cancer.",
            ["age, smoking, lupus and cancer."],
        ),
        (
            "Comorbidities such as diabetes, kidney disease or a prior cancer were common.",
            ["diabetes, kidney disease or a prior cancer were"],
        ),
        # exclusions, marked after the list
        (
            "Patients with lupus, psoriasis or diabetes were excluded.",
            ["patients with lupus, psoriasis or diabetes"],
        ),
        # comparisons: a few words, never past a comma
        ("Unlike CAR-T therapies, which need weeks, it is ready.", ["car t therapies"]),
        ("A rash unrelated to systemic lupus, whose lesions faded.", ["systemic lupus"]),
        # no marker, no aside: a list of subjects is not an aside
        ("CAR-T is now tested in lupus, myositis and systemic sclerosis.", []),
    ],
)
def test_aside_spans(text: str, expected: list[str]) -> None:
    assert asides(text) == expected


def test_a_list_stops_at_a_clause_break() -> None:
    assert asides("Lupus improved; gout, asthma or other illness did not.") == ["gout, asthma"]


def test_a_long_item_ends_the_list_after_its_nearest_words() -> None:
    text = "A trial of a new pill in adults with hard to treat lupus and other illnesses."
    assert asides(text) == ["hard to treat lupus"]


def test_a_list_of_examples_starts_after_a_preposition_in_its_first_item() -> None:
    # The drugs are the examples; the disease they were given for is the trial's subject.
    text = (
        "Adults with active systemic lupus erythematosus despite corticosteroids, "
        "antimalarials and other immunosuppressants took part."
    )
    assert asides(text) == ["corticosteroids, antimalarials"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a diagnosis considered and not made
        (
            "She was first referred with suspected lupus, an audit found.",
            ["lupus, an audit found."],
        ),
        ("Dermatomyositis diagnosis after lupus is excluded", ["after lupus"]),
        ("Infection was ruled out, and lupus nephritis was diagnosed.", ["infection"]),
        # what a thing is otherwise known or used for, to the next comma
        (
            "NZB mice, better known as one parent of a lupus strain, develop anaemia.",
            ["one parent of a lupus strain"],
        ),
        (
            "Building on remissions first seen in lupus, investigators treated scleroderma.",
            ["remissions first seen in lupus"],
        ),
        ("Doctors tried blinatumomab, approved for leukemia, in arthritis.", ["leukemia"]),
        (
            "Relma-cel, an anti-CD19 cell therapy approved for lymphoma, was given in SLE.",
            ["lymphoma"],
        ),
        # comorbidity lists, adjustment lists and examples
        (
            "People who already had arthritis, psoriasis or lupus had flares.",
            ["arthritis, psoriasis or lupus had flares."],
        ),
        (
            "Risk rose after adjustment for smoking, steroid use, lupus and low weight.",
            ["smoking, steroid use, lupus and low weight."],
        ),
        (
            "Conditions include coeliac disease, psoriasis and lupus.",
            ["coeliac disease, psoriasis and lupus."],
        ),
        # the excluded are described at length
        (
            "Patients with active autoimmune disease needing systemic treatment were excluded.",
            ["patients with active autoimmune disease needing systemic treatment"],
        ),
        # comparisons, misdiagnoses, what patients cannot have, prior therapies
        ("It suits patients who cannot wait for CAR-T manufacturing.", ["wait for car t"]),
        ("The lesion was treated as eczema and then psoriasis.", ["eczema and then psoriasis."]),
        ("Fewer target cells than in blood cancers.", ["blood cancers."]),
        ("Lymphoma that relapsed after CAR-T responded.", ["car t responded."]),
        # where a thing was first found, a person's background, what is absent
        (
            "Mice with the Yaa gene, first found in a lupus-prone strain, cleared flu.",
            ["a lupus prone strain"],
        ),
        (
            "A novelist who has written about living with lupus, and a chef, spoke.",
            ["living with lupus"],
        ),
        (
            "A singer who has spoken publicly about lupus launches a fund.",
            ["lupus launches a fund."],
        ),
        (
            "It named a veteran who previously ran a CAR-T franchise as chief.",
            ["a car t franchise as chief.", "t"],  # and "franchise": the word before
        ),
        ("Cells were given without chemotherapy, a first.", ["chemotherapy"]),
        # a prior line of therapy, not the one the text is about
        (
            "Most responded, including those who had already received CAR-T, although infections "
            "were frequent.",
            ["those who had already", "car t"],  # "including" lists; the prior line
        ),
        ("Women previously treated with belimumab did well.", ["belimumab did well."]),
        # "without" an outcome is the outcome, not what is absent from the treatment
        ("They lived longer without progression when given satricabtagene autoleucel.", []),
        # a comparison with "those of" a group reaches the group
        (
            "Fatigue was similar to those of people living with lupus or heart failure.",
            ["those of people living with lupus"],
        ),
    ],
)
def test_aside_spans_of_diagnoses_descriptions_and_prior_therapies(
    text: str, expected: list[str]
) -> None:
    assert asides(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Suspected lupus nephritis: when to biopsy",  # the diagnostic work-up is the news
        "Belimumab approved for lupus nephritis in children",  # an approval is the news
        "Relma-cel, made in China, was approved for lymphoma.",  # not inside the insert
        "Cancer patients who already had lupus did well.",  # one comorbidity is a subject
    ],
)
def test_a_subject_named_near_a_marker_is_not_an_aside(text: str) -> None:
    assert asides(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a range of examples: both ends, after a comma or a word "range"
        (
            "Rates of 24 conditions, from alopecia areata and psoriasis to lupus and "
            "Guillain-Barré syndrome, were similar.",
            ["alopecia areata and psoriasis to lupus and guillain barré syndrome"],
        ),
        (
            "Its investments range from an ECG patch to a sensor for CAR-T runs.",
            ["an ecg patch to a sensor for car t runs."],
        ),
        # a word that only qualifies the next: a likeness ("-like" folds to " like"), a
        # line of work
        ("Bispecifics post CAR-T-like response rates", ["t"]),
        ("A lupus-like rash", ["lupus"]),
        ("Data from its lupus program come in autumn.", ["lupus"]),
        ("A villa that housed a national lupus charity's offices", []),  # see the alone rule
        # a competitor, a comparison
        ("It is a rival to the CAR-T programs", ["the car t programs", "t"]),
        ("A depth compared to CAR-T, and no lesions", ["car t"]),
        # what a drug is otherwise for, inside a comma insert (to the clause's end, too)
        (
            "The antimalarial, taken daily by many people with lupus, is scarce.",
            ["many people with lupus"],
        ),
        (
            "They got daratumumab, an antibody approved for myeloma; levels fell.",
            ["myeloma"],
        ),
        (
            "Ianalumab, an antibody also in late-stage trials for lupus, helped.",
            ["late stage trials for lupus", "in late stage trials"],  # and "also": see below
        ),
        # a class whose members run "from X to Y"; what a thing is better known from or
        # was first made for; examples cited; an additional point; a comparison group
        (
            "Groups for conditions from psoriasis to lupus had asked.",
            ["psoriasis to lupus had asked."],
        ),
        ("STING, a sensor better known from research on lupus, matters.", ["research on lupus"]),
        (
            "The app, first designed with patients at a lupus clinic, helps.",
            ["patients at a lupus clinic"],
        ),
        (
            "Rules citing heart-failure and lupus studies changed.",
            ["heart failure and lupus studies changed."],
        ),
        ("UV can also trigger flares of lupus and rosacea.", ["trigger flares of lupus"]),
        ("Scores were higher than a group with lupus at rest.", ["lupus at rest."]),
    ],
)
def test_aside_spans_of_ranges_modifiers_comparisons_and_other_uses(
    text: str, expected: list[str]
) -> None:
    assert asides(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "The company switched its lead product from lymphoma to lupus nephritis.",  # a move
        "Diseases like lupus are hard to diagnose.",  # "like" = such as: the word before
        "Hydroxychloroquine taken by people with lupus cuts flares.",  # not an insert
        "Lupus, like other autoimmune diseases, is more common in women.",  # a comma between
    ],
)
def test_a_movement_or_plain_like_is_not_an_aside(text: str) -> None:
    assert "lupus" not in " ".join(asides(text))


def enumerations(text: str) -> list[str]:
    folded = fold(text)
    return [folded[start:end] for start, end in enumeration_spans(folded)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # five or more items, long ones at either end cut to their nearest words
        (
            "A cohort had higher rates of alopecia areata, vitiligo, psoriasis, rheumatoid "
            "arthritis, lupus and type 1 diabetes over the following year.",
            [
                "rates of alopecia areata, vitiligo, psoriasis, rheumatoid arthritis, lupus "
                "and type 1 diabetes over"
            ],
        ),
        (
            "The plant makes viral vectors, mRNA, CAR-T, gene editors and antibodies.",
            ["plant makes viral vectors, mrna, car t, gene editors and antibodies."],
        ),
        # four items, or five without three commas, are not an enumeration
        ("CAR-T is tested in lupus, myositis, vasculitis and systemic sclerosis.", []),
        ("Lupus and its kidney and skin and joint and blood disease.", []),
        # an enumeration does not cross a clause break
        ("Lupus, gout; asthma, acne, flu and colds.", []),
        # a long item in the middle ends one run and starts the next
        ("Lupus, gout, asthma, the long winding disease of the kidneys, acne, flu.", []),
    ],
)
def test_enumeration_spans(text: str, expected: list[str]) -> None:
    assert enumerations(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("In 300 adults with lupus nephritis, flares fell.", ["lupus nephritis"]),
        # the item's words, up to a relative pronoun or the list-item length
        ("Women with lupus who kept taking it did well.", ["lupus"]),
        (
            "Women with lupus nephritis kept taking it and did well.",
            ["lupus nephritis kept taking"],
        ),
        # how severe it is, as approvals say, is not which disease it is
        (
            "For adults with moderately to severely active Crohn's disease who failed or could "
            "not tolerate steroids.",
            ["crohn's disease"],
        ),
        # ... nor with commas between the words that say it
        (
            "It put a young woman with severe, refractory SLE into remission.",
            ["sle into remission."],
        ),
        ("Patients newly diagnosed with multiple myeloma, aged 70.", ["multiple myeloma"]),
        ("People living with HIV; and then more.", ["hiv"]),
        # a comma that opens a clause, not a list
        ("Patients with lupus nephritis, who had biopsies, improved.", ["lupus nephritis"]),
        # one of a list of their conditions names none as the subject
        ("Women with diabetes, lupus or obesity did well.", []),
        ("Women with lupus and asthma did well.", []),
        ("Women with lupus, asthma, and gout did well.", []),
        # ", and" after the first item joins a clause
        ("Tests confirmed myasthenia gravis, and a daily tablet helps.", ["myasthenia gravis"]),
        ("The trial found nothing.", []),
        # what a test found, unless negated
        ("A skin biopsy confirmed subacute cutaneous lupus.", ["subacute cutaneous lupus."]),
        ("Tests confirmed no sign of lupus.", []),
    ],
)
def test_subject_spans(text: str, expected: list[str]) -> None:
    folded = fold(text)
    spans = subject_spans(folded, markers_in(folded))
    assert [folded[start:end] for start, end in spans] == expected
    assert asides(text) == []  # the subject markers are no asides
