"""Reading NLM's MeSH ASCII descriptor file, expanding tree branches, listing match terms."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from feeds.errors import FeedsError
from feeds.tagging.mesh import (
    Descriptor,
    MeshFormatError,
    descriptor_terms,
    narrower_uis,
    read_descriptors,
)

DATA = Path(__file__).parent / "data"
SAMPLE = DATA / "mesh" / "d-sample.bin"
# The shared MeSH 2024 file sits in shared/ beside the repository checkout, not inside it.
FULL_2024 = Path(__file__).resolve().parents[2] / "shared" / "mesh" / "d2024.bin.gz"

SLE = "D008180"  # Lupus Erythematosus, Systemic
LUPUS_NEPHRITIS = "D008181"
LUPUS_VASCULITIS_CNS = "D020945"
AUTOIMMUNE_DISEASES = "D001327"
LUPUS_VULGARIS = "D008177"  # a skin tuberculosis: shares the word, not the tree


def sample() -> dict[str, Descriptor]:
    return {descriptor.ui: descriptor for descriptor in read_descriptors(SAMPLE)}


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# One real record (from the shared 2024 file), six lines long.
RECORD = (
    b"*NEWRECORD\nRECTYPE = D\nMH = Abdomen\nENTRY = Abdomens\nMN = A01.923.047\nUI = D000005\n"
)


def test_the_sample_yields_its_descriptors_in_file_order_and_nothing_else() -> None:
    uis = [descriptor.ui for descriptor in read_descriptors(SAMPLE)]

    # 29 records: one qualifier record and one record without UI are not descriptors.
    assert len(uis) == 27
    assert len(set(uis)) == 27
    assert uis[:4] == [SLE, LUPUS_NEPHRITIS, LUPUS_VASCULITIS_CNS, AUTOIMMUNE_DISEASES]
    assert uis[-1] == "D000551"


def test_a_plain_record_gives_ui_heading_entry_terms_and_tree_numbers() -> None:
    assert sample()[AUTOIMMUNE_DISEASES] == Descriptor(
        ui=AUTOIMMUNE_DISEASES,
        heading="Autoimmune Diseases",
        entry_terms=("Disease, Autoimmune", "Diseases, Autoimmune", "Autoimmune Disease"),
        tree_numbers=("C20.111",),
    )


def test_a_descriptor_may_have_no_entry_terms() -> None:
    lupus_vulgaris = sample()[LUPUS_VULGARIS]

    assert lupus_vulgaris.heading == "Lupus Vulgaris"
    assert lupus_vulgaris.entry_terms == ()
    assert lupus_vulgaris.tree_numbers == (
        "C01.150.252.819.820.470",
        "C01.800.720.820.470",
        "C17.800.838.765.820.470",
    )


def test_entry_and_print_entry_terms_lose_their_bar_separated_attributes() -> None:
    sle = sample()[SLE]

    # PRINT ENTRY and ENTRY in file order; the repeats and the copy of the heading are dropped.
    assert sle.entry_terms == (
        "Libman-Sacks Disease",
        "Systemic Lupus Erythematosus",
        "Lupus Erythematosus Disseminatus",
        "Disease, Libman-Sacks",
        "Libman Sacks Disease",
    )
    assert sle.heading == "Lupus Erythematosus, Systemic"
    assert sle.tree_numbers == ("C17.300.480", "C20.111.590")


def test_bar_form_and_plain_entry_lines_mix_within_one_record() -> None:
    car = sample()["D000076962"]

    assert car.heading == "Receptors, Chimeric Antigen"
    assert car.entry_terms[:4] == (
        "Antigen Receptors, Chimeric",
        "Chimeric Antigen Receptors",
        "Chimeric Antigen Receptor",
        "Antigen Receptor, Chimeric",
    )
    assert len(car.entry_terms) == 19
    assert not any("|" in term for term in car.entry_terms)


def test_fields_the_reader_does_not_use_are_ignored() -> None:
    nephritis = sample()[LUPUS_NEPHRITIS]

    assert nephritis.tree_numbers[-2:] == ("C17.300.480.680", "C20.111.590.560")
    assert nephritis.entry_terms[:2] == ("Lupus Glomerulonephritis", "Nephritis, Lupus")
    assert "AQ" not in " ".join(nephritis.entry_terms)


def test_qualifier_records_are_skipped() -> None:
    assert "Q000002" not in sample()


def test_a_record_of_another_type_is_skipped_even_with_a_heading_and_ui(tmp_path: Path) -> None:
    other = b"*NEWRECORD\nRECTYPE = C\nMH = Not A Descriptor\nUI = C000001\n\n"
    path = write(tmp_path / "mixed.bin", other + RECORD)

    assert [d.ui for d in read_descriptors(path)] == ["D000005"]


def test_a_descriptor_record_cut_off_before_its_ui_is_refused_with_its_line(
    tmp_path: Path,
) -> None:
    cut_off = b"\n*NEWRECORD\nRECTYPE = D\nMH = Abdominal Cavity\n"
    path = write(tmp_path / "cut.bin", RECORD + cut_off)

    with pytest.raises(MeshFormatError, match=r"cut\.bin: line 8: descriptor record without a UI"):
        list(read_descriptors(path))


def test_a_descriptor_record_without_a_heading_is_refused_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path / "d.bin", b"*NEWRECORD\nRECTYPE = D\nUI = D000009\n\n" + RECORD)

    with pytest.raises(MeshFormatError, match=r"d\.bin: line 1: descriptor record without an MH"):
        list(read_descriptors(path))


@pytest.mark.parametrize("ui", ["Q000005", "D12", "D0000055", "D000005x", "d000005"])
def test_a_ui_that_is_not_d_and_6_or_9_digits_is_refused_with_its_line(
    tmp_path: Path, ui: str
) -> None:
    path = write(tmp_path / "d.bin", RECORD + RECORD.replace(b"D000005", ui.encode()))

    with pytest.raises(MeshFormatError, match=rf"d\.bin: line 7: invalid descriptor UI '{ui}'"):
        list(read_descriptors(path))


def test_a_ui_given_twice_is_refused_naming_both_records(tmp_path: Path) -> None:
    path = write(tmp_path / "d.bin", RECORD + b"\n" + RECORD)

    with pytest.raises(
        MeshFormatError, match=r"d\.bin: line 8: descriptor UI D000005 was already given at line 1"
    ):
        list(read_descriptors(path))


def test_a_file_without_descriptors_is_refused(tmp_path: Path) -> None:
    qualifiers = b"*NEWRECORD\nRECTYPE = Q\nSH = abnormalities\nUI = Q000002\n"
    path = write(tmp_path / "q2024.bin", qualifiers)

    with pytest.raises(
        MeshFormatError,
        match=r"no MeSH descriptors in .*q2024\.bin: is it NLM's ASCII d20XX\.bin\?",
    ):
        list(read_descriptors(path))


def test_utf8_terms_are_decoded() -> None:
    ambroxol = sample()["D000551"]

    assert "Pect Hustenlöser" in ambroxol.entry_terms
    assert "Pädiamuc" in ambroxol.entry_terms


def test_a_line_that_is_not_utf8_is_read_as_latin1(tmp_path: Path) -> None:
    path = write(tmp_path / "latin1.bin", RECORD.replace(b"Abdomens", "Abdómens".encode("latin-1")))

    (descriptor,) = read_descriptors(path)

    assert descriptor.entry_terms == ("Abdómens",)


def test_crlf_line_endings_and_a_byte_order_mark_are_accepted(tmp_path: Path) -> None:
    path = write(tmp_path / "windows.bin", b"\xef\xbb\xbf" + RECORD.replace(b"\n", b"\r\n"))

    (descriptor,) = read_descriptors(path)

    assert descriptor == Descriptor("D000005", "Abdomen", ("Abdomens",), ("A01.923.047",))


def test_gzip_is_detected_by_content_not_by_file_name(tmp_path: Path) -> None:
    plain = list(read_descriptors(SAMPLE))
    compressed_without_suffix = write(tmp_path / "d-sample.bin", gzip.compress(SAMPLE.read_bytes()))
    plain_with_gz_suffix = write(tmp_path / "d-sample.bin.gz", SAMPLE.read_bytes())

    assert list(read_descriptors(compressed_without_suffix)) == plain
    assert list(read_descriptors(plain_with_gz_suffix)) == plain


def test_reading_streams_record_by_record(tmp_path: Path) -> None:
    # The second record holds a line too long for any MeSH file. A reader that loaded the
    # whole file first would fail before yielding the first descriptor.
    path = write(tmp_path / "long.bin", RECORD + b"\n*NEWRECORD\nMS = " + b"x" * (2 << 20) + b"\n")
    descriptors = read_descriptors(path)

    assert next(descriptors).ui == "D000005"
    with pytest.raises(MeshFormatError, match=r"line 9: longer than"):
        next(descriptors)


def test_a_feed_file_is_refused_with_the_line_number() -> None:
    with pytest.raises(MeshFormatError, match=r"rss20\.xml: line 1: not a MeSH ASCII") as caught:
        list(read_descriptors(DATA / "rss20.xml"))

    assert isinstance(caught.value, FeedsError)
    assert str(caught.value).startswith("mesh: ")


def test_leading_blank_lines_count_towards_the_line_number(tmp_path: Path) -> None:
    path = write(tmp_path / "notes.txt", b"\n\n  \nMH = Abdomen\n" + RECORD)

    with pytest.raises(MeshFormatError, match=r"line 4: .*found 'MH = Abdomen'"):
        list(read_descriptors(path))


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MeshFormatError, match=r"no '\*NEWRECORD' line"):
        list(read_descriptors(write(tmp_path / "empty.bin", b"\n\n")))


def test_a_truncated_gzip_file_is_refused_with_a_mesh_error(tmp_path: Path) -> None:
    truncated = gzip.compress(SAMPLE.read_bytes())[:2000]

    with pytest.raises(MeshFormatError, match=r"cannot read"):
        list(read_descriptors(write(tmp_path / "d-sample.bin.gz", truncated)))


def test_a_missing_file_is_refused_with_a_mesh_error(tmp_path: Path) -> None:
    with pytest.raises(MeshFormatError, match=r"cannot open"):
        list(read_descriptors(tmp_path / "d2099.bin"))


def test_lupus_nephritis_is_narrower_than_systemic_lupus() -> None:
    assert narrower_uis(read_descriptors(SAMPLE), [SLE]) == {
        SLE,
        LUPUS_NEPHRITIS,
        LUPUS_VASCULITIS_CNS,
    }


def test_autoimmune_diseases_cover_lupus_but_not_lupus_vulgaris() -> None:
    autoimmune = narrower_uis(read_descriptors(SAMPLE), [AUTOIMMUNE_DISEASES])

    assert autoimmune == {
        AUTOIMMUNE_DISEASES,
        SLE,
        LUPUS_NEPHRITIS,
        LUPUS_VASCULITIS_CNS,
        "D001172",  # Arthritis, Rheumatoid
        "D012859",  # Sjogren's Syndrome, two levels down, under rheumatoid arthritis
        "D003922",  # Diabetes Mellitus, Type 1
    }
    assert LUPUS_VULGARIS not in autoimmune
    assert "D008178" not in autoimmune  # cutaneous lupus: a connective tissue and skin disease


def test_several_roots_in_different_trees_are_expanded_together() -> None:
    uis = narrower_uis(read_descriptors(SAMPLE), ["D007160", "D007167"])

    assert uis == {
        "D007160",  # Immunoproliferative Disorders
        "D008232",  # Lymphoproliferative Disorders
        "D008223",  # Lymphoma
        "D008228",  # Lymphoma, Non-Hodgkin
        "D006689",  # Hodgkin Disease
        "D009101",  # Multiple Myeloma
        "D007167",  # Immunotherapy
        "D016219",  # Immunotherapy, Adoptive
    }


def test_a_tree_number_is_narrower_only_below_a_dot() -> None:
    descriptors = [
        Descriptor("D1", "Root", (), ("C20.111",)),
        Descriptor("D2", "Child", (), ("C20.111.590",)),
        Descriptor("D3", "Lookalike", (), ("C20.1110",)),
        Descriptor("D4", "Sibling", (), ("C20.112.111",)),
    ]

    assert narrower_uis(descriptors, ["D1"]) == {"D1", "D2"}


def test_a_root_without_tree_numbers_yields_only_itself_and_an_unknown_root_nothing() -> None:
    # The shared 2024 file gives Neoplasms no tree number (NLM's own file says C04).
    assert narrower_uis(read_descriptors(SAMPLE), ["D009369"]) == {"D009369"}
    assert narrower_uis(read_descriptors(SAMPLE), ["D999999"]) == frozenset()


def test_one_string_as_roots_is_refused() -> None:
    with pytest.raises(TypeError, match="not a single string"):
        narrower_uis(read_descriptors(SAMPLE), SLE)


def test_an_inverted_heading_is_also_offered_in_natural_order() -> None:
    descriptor = Descriptor("D000076962", "Receptors, Chimeric Antigen", (), ())

    assert descriptor_terms(descriptor) == (
        "Receptors, Chimeric Antigen",
        "Chimeric Antigen Receptors",
    )


def test_natural_forms_follow_all_original_terms_and_skip_those_mesh_already_has() -> None:
    cutaneous = sample()["D008178"]

    assert descriptor_terms(cutaneous) == (
        "Lupus Erythematosus, Cutaneous",
        "Cutaneous Lupus Erythematosus",
        "Lupus Erythematosus, Subacute Cutaneous",
        "Lupus Erythematosus, Cutaneous, Subacute",
        "Subacute Cutaneous Lupus Erythematosus",
    )


@pytest.mark.parametrize(
    ("term", "natural"),
    [
        ("Lupus Erythematosus, Systemic", "Systemic Lupus Erythematosus"),
        ("Disease, Libman-Sacks", "Libman-Sacks Disease"),
        ("Syndrome, Sjogren's", "Sjogren's Syndrome"),
        ("Encephalitis, St. Louis", "St. Louis Encephalitis"),
        ("Hustenlöser, Pect", "Pect Hustenlöser"),
        ("Century History, 19th", "19th Century History"),
        ("Oncogenes, myc", "myc Oncogenes"),
    ],
)
def test_a_term_with_one_comma_and_plain_words_is_reordered(term: str, natural: str) -> None:
    assert descriptor_terms(Descriptor("D0", term, (), ())) == (term, natural)


@pytest.mark.parametrize(
    "term",
    [
        "Lymphoma, Non-Hodgkin, Familial",  # two commas: no single right order
        "4-(((2-Amino-3,5-dibromophenyl)methyl)amino)cyclohexanol",  # chemical name
        "Hepatitis B Antigens, HBe (Hepatitis)",  # brackets
        "Cyclophosphamide, 4-Hydroperoxy + Mesna",  # formula-like
        "Clinical Trials, Veterinary as Topic",  # "X as Topic" headings
        "Noncomma Heading",
        "Trailing comma,",
    ],
)
def test_a_term_that_reordering_would_garble_is_kept_as_is(term: str) -> None:
    assert descriptor_terms(Descriptor("D0", term, (), ())) == (term,)


def test_terms_are_deduplicated_case_insensitively_keeping_the_first_spelling() -> None:
    descriptor = Descriptor(
        "D0",
        "Receptors, Chimeric Antigen",
        ("chimeric antigen receptors", "RECEPTORS, CHIMERIC ANTIGEN", "CAR"),
        (),
    )

    assert descriptor_terms(descriptor) == (
        "Receptors, Chimeric Antigen",
        "chimeric antigen receptors",
        "CAR",
    )


@pytest.mark.skipif(
    not FULL_2024.exists(), reason=f"the shared MeSH 2024 file is not at {FULL_2024}"
)
def test_the_full_2024_file_reads_completely_and_expands_autoimmune_diseases() -> None:
    descriptors = list(read_descriptors(FULL_2024))
    by_ui = {descriptor.ui: descriptor for descriptor in descriptors}

    assert len(descriptors) == len(by_ui) == 30_764
    assert by_ui[SLE] == Descriptor(
        ui=SLE,
        heading="Lupus Erythematosus, Systemic",
        entry_terms=(
            "Systemic Lupus Erythematosus",
            "Lupus Erythematosus Disseminatus",
            "Libman-Sacks Disease",
            "Disease, Libman-Sacks",
            "Libman Sacks Disease",
        ),
        tree_numbers=("C17.300.480", "C20.111.590"),
    )

    autoimmune = narrower_uis(descriptors, [AUTOIMMUNE_DISEASES])

    assert {AUTOIMMUNE_DISEASES, SLE, LUPUS_NEPHRITIS} <= autoimmune
    assert LUPUS_VULGARIS not in autoimmune
    assert sum(len(descriptor_terms(d)) for d in descriptors) > 250_000
