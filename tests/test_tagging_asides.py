"""Asides: the spans a text marks as passing (examples, exclusions, comparisons)."""

from __future__ import annotations

import pytest

from feeds.tagging.asides import aside_spans, markers_in
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
            ["label for lupus nephritis"],
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
