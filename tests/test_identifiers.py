"""Finding and validating identifiers of studies in links and running text.

The real-world forms are a table in ``tests/data/identifiers/cases.jsonl``: one JSON object
per line with the text, the study keys expected in order, and (when given) which of them
are preprints. The DOI tests below pin the trailing-punctuation rules case by case.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.identifiers import find_dois, find_studies, from_key, parse_study
from feeds.models import STUDY_DOMAINS, StudyId

CASES_FILE = Path(__file__).parent / "data" / "identifiers" / "cases.jsonl"
CASES: list[dict[str, Any]] = [
    json.loads(line) for line in CASES_FILE.read_text(encoding="utf-8").splitlines() if line
]


def test_the_table_has_at_least_40_forms_and_malformed_ones_among_them() -> None:
    assert len(CASES) >= 40
    assert sum(1 for case in CASES if not case["studies"]) >= 15


@pytest.mark.parametrize("case", CASES, ids=[c["note"] for c in CASES])
def test_real_world_forms_give_exactly_the_expected_identifiers(case: dict[str, Any]) -> None:
    found = find_studies([case["text"]])
    assert [s.key for s in found] == case["studies"]
    if "preprints" in case:
        assert [s.key for s in found if s.preprint] == case["preprints"]


@pytest.mark.parametrize("case", [c for c in CASES if c["studies"]], ids=lambda c: c["note"])
def test_every_found_identifier_reads_back_from_its_key(case: dict[str, Any]) -> None:
    for study in find_studies([case["text"]]):
        assert from_key(study.key) == study
        assert parse_study(study.key) == study
        assert study.url.startswith(study.domain)


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


@pytest.mark.parametrize(
    ("study", "url"),
    [
        (
            StudyId("doi", "10.1038/s41591-022-02017-5"),
            "https://doi.org/10.1038/s41591-022-02017-5",
        ),
        (StudyId("doi", "10.1000/a b#c"), "https://doi.org/10.1000/a%20b%23c"),
        (StudyId("pmid", "36109639"), "https://pubmed.ncbi.nlm.nih.gov/36109639"),
        (StudyId("pmcid", "PMC7383595"), "https://pmc.ncbi.nlm.nih.gov/articles/PMC7383595"),
        (StudyId("nct", "NCT04381936"), "https://clinicaltrials.gov/study/NCT04381936"),
        (
            StudyId("euct", "2023-503521-26-00"),
            "https://euclinicaltrials.eu/ctis-public/view/2023-503521-26-00",
        ),
        (
            StudyId("eudract", "2020-001113-21"),
            "https://www.clinicaltrialsregister.eu/ctr-search/search?query=2020-001113-21",
        ),
        (StudyId("isrctn", "ISRCTN50189673"), "https://www.isrctn.com/ISRCTN50189673"),
        (StudyId("arxiv", "hep-th/9711200"), "https://arxiv.org/abs/hep-th/9711200"),
    ],
)
def test_each_scheme_has_one_canonical_url(study: StudyId, url: str) -> None:
    assert study.url == url


def test_every_scheme_has_a_resolver_domain_and_a_validator() -> None:
    assert set(STUDY_DOMAINS) == {
        "doi", "pmid", "pmcid", "nct", "euct", "eudract", "isrctn", "arxiv",
    }  # fmt: skip
    assert all(d.startswith("https://") for d in STUDY_DOMAINS.values())


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("doi:10.1038/s41591-022-02017-5", "doi:10.1038/s41591-022-02017-5"),
        ("10.1038/S41591-022-02017-5", "doi:10.1038/s41591-022-02017-5"),
        ("DOI:10.1038/s41591-022-02017-5", "doi:10.1038/s41591-022-02017-5"),
        ("https://doi.org/10.1038/s41591-022-02017-5", "doi:10.1038/s41591-022-02017-5"),
        ("https://www.nature.com/articles/s41591-022-02017-5", "doi:10.1038/s41591-022-02017-5"),
        ("PMID:36109639", "pmid:36109639"),
        ("PMID: 36109639", "pmid:36109639"),
        ("pmid:36109639", "pmid:36109639"),
        ("https://pubmed.ncbi.nlm.nih.gov/36109639/", "pmid:36109639"),
        ("PMC7383595", "pmcid:PMC7383595"),
        ("pmcid:PMC7383595", "pmcid:PMC7383595"),
        ("NCT04381936", "nct:NCT04381936"),
        ("nct:nct04381936", "nct:NCT04381936"),
        ("2023-503521-26-00", "euct:2023-503521-26-00"),
        ("eudract:2020-001113-21", "eudract:2020-001113-21"),
        ("ISRCTN50189673", "isrctn:ISRCTN50189673"),
        ("arXiv:1706.03762v7", "arxiv:1706.03762"),
        ("arxiv:hep-th/9711200", "arxiv:hep-th/9711200"),
    ],
)
def test_parse_study_reads_the_forms_people_type(text: str, key: str) -> None:
    study = parse_study(text)
    assert study is not None
    assert study.key == key


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "lupus",
        "36109639",  # a bare number: which scheme?
        "2301.01234",
        "pmid:abc",
        "pmid:10.1038/s41591-022-02017-5",  # a DOI under the wrong scheme
        "nct:NCT0123456",
        "foo:10.1038/x",
        "NCT04381936 NCT02348216",  # two ids
        "NCT04381936x",
        "10.1038/s41591-022-02017-5 and more",
        "see 10.1038/s41591-022-02017-5",
        "https://example.org/no-id-here",
        "doi:" + "1" * 400,
    ],
)
def test_parse_study_rejects_garbage_and_ambiguity(text: str) -> None:
    assert parse_study(text) is None


@pytest.mark.parametrize("key", ["doi:10.1038/S41591", "pmid:0123", "nct:NCT1", "xyz:1", "x"])
def test_from_key_accepts_only_canonical_keys(key: str) -> None:
    assert from_key(key) is None


def test_studies_are_collected_across_texts_in_order_without_repeats() -> None:
    texts = ["https://pubmed.ncbi.nlm.nih.gov/36109639/", "", "NCT04381936, PMID: 36109639"]
    assert [s.key for s in find_studies(texts)] == ["pmid:36109639", "nct:NCT04381936"]


def test_find_dois_leaves_out_ids_of_other_schemes() -> None:
    text = "NCT04381936 https://doi.org/10.1056/NEJMoa2021436 arXiv:1706.03762"
    assert find_dois([text]) == ("10.1056/nejmoa2021436",)


# --- properties over arbitrary input (the parser reads untrusted text and URL paths) ------

# Text made of the pieces identifiers are built from, so that near-misses are common.
PIECES = st.sampled_from(
    ["10.", "1038", "/", "s4159", "-", "NCT", "PMC", "PMID:", " ", "0", "12345678", ".", ")",
     "(", "arXiv:", "2301", "ISRCTN", "2023", "https://doi.org/", "%2F", "&amp;", "v2", "x"]
)  # fmt: skip
TEXTS = st.one_of(st.text(max_size=200), st.lists(PIECES, max_size=30).map("".join))


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_any_text_gives_only_canonical_ids_that_read_back(text: str) -> None:
    for study in find_studies([text]):
        assert from_key(study.key) == study
        assert parse_study(study.key) == study


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_parse_study_never_fails_on_any_input(text: str) -> None:
    study = parse_study(text)
    assert study is None or from_key(study.key) == study


@given(
    digits=st.from_regex(r"\A\d{8}\Z"),
    before=st.sampled_from(["", " ", "(", "; ", "/study/", "\n"]),
    after=st.sampled_from(["", " ", ")", ".", ", ", "/", "?x=1"]),
)
def test_a_registration_number_is_found_whatever_punctuation_surrounds_it(
    digits: str, before: str, after: str
) -> None:
    found = find_studies([f"{before}NCT{digits}{after}", f"{before}ISRCTN{digits}{after}"])
    assert [s.key for s in found] == [f"nct:NCT{digits}", f"isrctn:ISRCTN{digits}"]


def test_hostile_runs_of_brackets_cost_linear_time() -> None:
    """A feed can hold any text: trimming must not be quadratic in a run of ")"."""

    def best_of_three(size: int) -> float:
        text = "(" * size + "10.1000/a" + ")" * size
        times = []
        for _ in range(3):
            start = time.perf_counter()
            assert [s.key for s in find_studies([text])] == ["doi:10.1000/a"]
            times.append(time.perf_counter() - start)
        return min(times)

    small, large = best_of_three(10_000), best_of_three(100_000)
    print(f"10x the text took {large / small:.1f}x the time (linear: about 10x)")
    assert large / small < 40  # quadratic would be about 100x


@pytest.mark.parametrize(
    ("text", "dois"),
    [
        ("https://doi.org/10.1038/abc%00def", ("10.1038/abc",)),
        (
            "doi: 10.1038/xyz\x01abc and 10.1056/NEJMoa2033130\x7f",
            ("10.1038/xyz", "10.1056/nejmoa2033130"),
        ),
    ],
)
def test_a_control_character_ends_a_doi_as_whitespace_does(
    text: str, dois: tuple[str, ...]
) -> None:
    # A DOI read up to and past a decoded "%00" carried a NUL into storage, which PostgreSQL
    # refuses in text: the update of every source failed.
    assert find_dois([text]) == dois
    assert parse_study("10.1038/a\x00b") is None
