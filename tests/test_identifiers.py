"""Finding DOIs in links and running text."""

from __future__ import annotations

import pytest

from feeds.identifiers import find_dois


@pytest.mark.parametrize(
    ("text", "dois"),
    [
        # prefixes and resolver URLs
        ("doi:10.1056/NEJMoa2308917", ("10.1056/nejmoa2308917",)),
        ("DOI: 10.1056/NEJMoa2308917 reports", ("10.1056/nejmoa2308917",)),
        ("https://doi.org/10.1038/s41591-022-02017-5", ("10.1038/s41591-022-02017-5",)),
        ("http://dx.doi.org/10.1001/jama.2023.1234", ("10.1001/jama.2023.1234",)),
        ("https://www.nejm.org/doi/full/10.1056/NEJMoa2308917", ("10.1056/nejmoa2308917",)),
        # URL-encoded slash
        ("https://dx.doi.org/10.1001%2Fjama.2023.1234", ("10.1001/jama.2023.1234",)),
        ("https://doi.org/10.1001%2fjama.2023.1234", ("10.1001/jama.2023.1234",)),
        # sentence punctuation after the DOI
        (
            "Full paper: https://doi.org/10.1038/s41591-022-02017-5.",
            ("10.1038/s41591-022-02017-5",),
        ),
        ("see 10.1000/xyz123, and more", ("10.1000/xyz123",)),
        ("cited as doi:10.1000/abc; see also", ("10.1000/abc",)),
        ("Really? doi:10.1000/abc!", ("10.1000/abc",)),
        ('quoted "10.1000/abc"', ("10.1000/abc",)),
        ("the 10.1000/abc's authors", ("10.1000/abc",)),
        # brackets: kept when the DOI opened them, dropped when they enclose it
        ("10.1016/S0140-6736(23)01234-5", ("10.1016/s0140-6736(23)01234-5",)),
        ("validated (DOI: 10.1016/S0140-6736(23)01234-5).", ("10.1016/s0140-6736(23)01234-5",)),
        ("(doi:10.1000/abc)", ("10.1000/abc",)),
        ("[10.1000/abc]", ("10.1000/abc",)),
        ("{10.1000/abc}", ("10.1000/abc",)),
        ("a DOI (10.1000/abc).", ("10.1000/abc",)),
        # query strings and fragments are not part of the DOI
        ("https://doi.org/10.1000/abc?utm_source=rss", ("10.1000/abc",)),
        ("https://doi.org/10.1000/abc#section-2", ("10.1000/abc",)),
        ("https://example.org/?doi=10.1000/abc&x=1", ("10.1000/abc",)),
        # markup around it
        ('<a href="https://doi.org/10.1000/abc">10.1000/abc</a>', ("10.1000/abc",)),
        ("<p>doi:10.1000/abc</p>", ("10.1000/abc",)),
        # duplicates and case collapse, order of first appearance kept
        ("10.1000/ABC then 10.1000/abc", ("10.1000/abc",)),
        ("10.2000/b, 10.1000/a and 10.2000/B", ("10.2000/b", "10.1000/a")),
        # not DOIs
        ("no identifiers here", ()),
        ("version 10.12/abc has a 2-digit registrant", ()),
        ("10.1234 /abc", ()),
        ("10.1234/", ()),
        ("x10.1000/abc", ()),
        ("a 50% drop", ()),
        ("", ()),
    ],
)
def test_find_dois(text: str, dois: tuple[str, ...]) -> None:
    assert find_dois([text]) == dois


def test_dois_are_collected_across_texts_without_repeats() -> None:
    texts = ["https://doi.org/10.1000/A", "", "see doi:10.1000/a and 10.2000/b", "nothing"]
    assert find_dois(texts) == ("10.1000/a", "10.2000/b")


def test_no_texts_give_no_dois() -> None:
    assert find_dois([]) == ()


def test_find_dois_accepts_any_iterable() -> None:
    assert find_dois(t for t in ("doi:10.1000/abc",)) == ("10.1000/abc",)


@pytest.mark.parametrize(
    "text",
    [
        "“Read it at doi:10.1000/abc”",
        "the 10.1000/abc’s authors",
        "«doi:10.1000/abc»",
        "see 10.1000/abc…",
    ],
)
def test_typographic_punctuation_after_a_doi_is_not_part_of_it(text: str) -> None:
    assert find_dois([text]) == ("10.1000/abc",)
