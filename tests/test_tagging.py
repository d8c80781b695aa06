"""The topic tagger: variants, acronyms, exclusions, context, scoring, hierarchy."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.cli import cli
from feeds.config import TopicSettings
from feeds.tagging.matcher import TagInput, explain, tag
from feeds.tagging.rules import CompiledRules, compile_rules
from feeds.tagging.scan import LEAD_MAX, first_sentence_end
from feeds.tagging.text import _TABLE as _DASH_TABLE
from feeds.tagging.text import fold_exact, word_form

TOPICS = (
    TopicSettings(slug="autoimmune", title="Autoimmune", terms=("autoimmune disease",)),
    TopicSettings(
        slug="lupus",
        title="Lupus",
        terms=("lupus", "systemic lupus erythematosus"),
        acronyms=("SLE",),
        exclude=("lupus anticoagulant", "canis lupus"),
        context={"SLE": ("lupus", "autoimmun", "patient")},
        parents=("autoimmune",),
    ),
    TopicSettings(
        slug="car-t",
        title="CAR-T",
        terms=("CAR T cell", "chimeric antigen receptor"),
        exclude=("shopping cart",),
    ),
)


@pytest.fixture(scope="module")
def rules() -> CompiledRules:
    return compile_rules(TOPICS)


def topics(rules: CompiledRules, title: str, summary: str = "", **extra: object) -> set[str]:
    return {t.topic for t in tag(TagInput(title, summary, **extra), rules)}  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "title",
    [
        "CAR-T cells in myeloma",
        "CAR T cell therapy",
        "CAR‑T‑cell therapy",
        "CAR–T cells",
        "car t cells",
    ],
)
def test_terms_match_across_dashes_case_and_plural(rules: CompiledRules, title: str) -> None:
    assert "car-t" in topics(rules, title)


def test_a_term_and_an_acronym_of_one_topic_on_the_same_words_are_one_mention() -> None:
    # "LUPUS" matches the term (folded) and the acronym (exact case) at the same offsets:
    # two pieces of evidence for one mention, which must be counted, not compared.
    both = compile_rules(
        [TopicSettings(slug="x", title="X", terms=("lupus",), acronyms=("LUPUS",))]
    )
    term_only = compile_rules([TopicSettings(slug="x", title="X", terms=("lupus",))])
    # Every "LUPUS" opens a sentence, so the proper-noun guard of the term never applies.
    item = TagInput(title="LUPUS. LUPUS", summary="LUPUS. LUPUS. Then: LUPUS.")
    (tagged,) = tag(item, both)
    (plain,) = tag(item, term_only)
    assert tagged.score == plain.score
    assert len(tagged.matches) == 2 * len(plain.matches)


def test_acronyms_match_only_in_their_exact_case(rules: CompiledRules) -> None:
    assert "lupus" in topics(rules, "SLE patients respond", "A trial in patients.")
    assert "lupus" not in topics(rules, "sle patients respond", "A trial in patients.")


def test_ambiguous_acronym_needs_context(rules: CompiledRules) -> None:
    assert (
        topics(rules, "SLE cases rise after mosquito season", "Encephalitis is spreading.") == set()
    )


def test_exclusion_vetoes_only_the_match_it_overlaps(rules: CompiledRules) -> None:
    assert topics(rules, "Lupus anticoagulant testing in clotting labs") == set()
    assert topics(rules, "Canis lupus returns to the Alps") == set()
    both = topics(rules, "Lupus anticoagulant in systemic lupus erythematosus")
    assert "lupus" in both


def test_nested_terms_are_both_kept_as_evidence(rules: CompiledRules) -> None:
    (lupus,) = [
        t for t in tag(TagInput("Systemic lupus erythematosus"), rules) if t.topic == "lupus"
    ]
    assert {m.term for m in lupus.matches} == {"lupus", "systemic lupus erythematosus"}
    assert lupus.score == 3.0  # nested matches are one mention


def test_passing_mention_in_the_body_is_not_the_subject(rules: CompiledRules) -> None:
    summary = (
        "A statin cut heart attacks by a fifth in a large trial. "
        "Patients with lupus, psoriasis or diabetes were excluded."
    )
    assert topics(rules, "Statin trial cuts heart attacks", summary) == set()


def test_repeated_body_mentions_make_a_subject(rules: CompiledRules) -> None:
    summary = "Researchers reported results. Lupus flares fell; lupus nephritis and lupus rash too."
    assert "lupus" in topics(rules, "New results reported", summary)


def test_the_people_a_study_is_about_make_its_disease_a_subject_even_in_the_body(
    rules: CompiledRules,
) -> None:
    title = "Hydroxychloroquine and preterm birth"
    lead = "A registry followed 1,100 pregnancies for five years."
    for body in (
        "Women with lupus who kept taking the drug had fewer preterm births.",
        "Among 300 adults with active systemic lupus erythematosus, most were women.",
        "Mothers living with lupus nephritis were followed too.",
    ):
        assert "lupus" in topics(rules, title, f"{lead} {body}"), body
    # ... and so is what a test found
    for body in (
        "A kidney biopsy confirmed systemic lupus erythematosus.",
        "A skin biopsy confirmed subacute cutaneous lupus.",
        "It took a blood test to reach a diagnosis of juvenile-onset lupus.",
    ):
        assert "lupus" in topics(rules, "A nurse's road to a diagnosis", f"{lead} {body}"), body
    # ... but not one of a list of their conditions, an excluded group, a comparison or a
    # negated finding
    for body in (
        "Women with diabetes, lupus or obesity had fewer preterm births.",
        "Women with lupus or asthma had fewer preterm births.",
        "Women with lupus, psoriasis or diabetes were excluded.",
        "Women with lupus were not included.",
        "Rates were lower than in women with lupus.",
        "Doctors saw women with suspected lupus.",
        "She was diagnosed with lupus at 19.",  # a person's history, not a finding
        "Tests confirmed no sign of lupus.",
        "Women with no history of lupus did well.",
    ):
        assert "lupus" not in topics(rules, title, f"{lead} {body}"), body


def test_only_the_first_thing_named_after_a_subject_marker_is_the_subject() -> None:
    two = compile_rules(
        (
            TopicSettings(
                slug="lupus", title="Lupus", terms=("lupus", "lupus nephritis"), acronyms=("SLE",)
            ),
            TopicSettings(slug="hospitals", title="Hospitals", terms=("hospital",)),
        )
    )
    lead = "A national registry grew by a third last year."
    summary = f"{lead} It enrolled adults with lupus nephritis at 12 hospitals."
    assert topics(two, "Registry news", summary) == {"lupus"}  # both lupus terms, nested
    summary = f"{lead} It enrolled adults with SLE at 12 hospitals."
    assert topics(two, "Registry news", summary) == {"lupus"}  # an acronym: a later scan


def test_feeds_tag_weighs_a_subject_mention_as_one_in_the_lead(rules: CompiledRules) -> None:
    item = TagInput(
        "Registry news",
        "A national registry grew by a third last year. Adults with lupus nephritis did well.",
    )
    (lupus,) = [e for e in explain(item, rules) if e.tag.topic == "lupus"]
    assert lupus.tag.score == 2.0
    assert sum(w or 0.0 for w in lupus.weights) == 2.0  # the longest match carries it
    assert max(w or 0.0 for w in lupus.weights) == 2.0


def test_parents_inherit_the_tag(rules: CompiledRules) -> None:
    assert topics(rules, "Lupus trial succeeds") == {"lupus", "autoimmune"}


def test_a_parent_inherits_in_the_order_children_count_even_when_a_first_mention_is_excluded(
    rules: CompiledRules,
) -> None:
    # Lupus is named first but that mention is excluded, so psoriasis counts first: the
    # parent takes psoriasis's score (3), then lupus's higher one (4), and lists both.
    psoriasis = TopicSettings(
        slug="psoriasis", title="Psoriasis", terms=("psoriasis",), parents=("autoimmune",)
    )
    with_psoriasis = compile_rules((*TOPICS, psoriasis))
    item = TagInput(
        "Lupus anticoagulant found in psoriasis",
        "Lupus was not the focus. Yet lupus came up.",
        "Doctors said lupus was rare.",
    )
    parent = {t.topic: t for t in tag(item, with_psoriasis)}["autoimmune"]
    assert parent.score == 4.0
    assert [(m.term, m.rule) for m in parent.matches] == [
        ("psoriasis", "parent"),
        ("lupus", "parent"),
    ]


def test_source_topics_always_apply(rules: CompiledRules) -> None:
    assert topics(rules, "Weekly roundup", source_topics=("car-t",)) == {"car-t"}


def test_source_categories_count_as_evidence(rules: CompiledRules) -> None:
    assert "lupus" in topics(rules, "New drug approved", categories=("Lupus",))


def test_a_word_ending_matches_names_no_list_has_yet() -> None:
    stems = compile_rules(
        [
            TopicSettings(
                slug="car-t",
                title="CAR-T",
                terms=("-cabtagene",),
                unless={"-cabtagene": ("natural killer",)},
            )
        ]
    )
    found = tag(TagInput("Rapcabtagene autoleucel enters lupus trials"), stems)
    assert [(m.term, m.field, m.start, m.end) for t in found for m in t.matches] == [
        ("-cabtagene", "title", 3, 12)  # the ending, inside the word
    ]
    assert topics(stems, "Cabtagene, the stem, explained") == {"car-t"}  # a word of its own
    assert topics(stems, "Cabtagenes") == topics(stems, "Scabtageneous") == set()
    assert topics(stems, "Rapcabtagene natural killer cells") == set()  # its unless rule


def test_a_headline_naming_a_rival_and_not_the_topic_makes_its_mentions_background() -> None:
    car_t = TopicSettings(
        slug="car-t", title="CAR-T", terms=("CAR T cell",), rivals=("natural killer",)
    )
    rules = compile_rules([car_t])
    yardstick = "CAR T cells have proved their worth; engineered cells of another kind may be next."
    assert topics(rules, "Engineered natural killer cells may be next", yardstick) == set()
    # The same summary under a headline that names no rival, or names CAR-T too
    assert topics(rules, "What comes after the first cell therapies", yardstick) == {"car-t"}
    assert topics(rules, "Natural killer cells or CAR T cells?", yardstick) == {"car-t"}
    # A rival in the summary only says nothing about the headline's subject
    both = yardstick + " Natural killer cells are cheaper to make."
    assert topics(rules, "What comes after the first cell therapies", both) == {"car-t"}
    # A source category still counts
    assert topics(
        rules, "Engineered natural killer cells may be next", yardstick, source_topics=("car-t",)
    ) == {"car-t"}


def test_shopping_carts_are_not_car_t(rules: CompiledRules) -> None:
    assert topics(rules, "Shopping cart handles carry germs") == set()


def test_tag_jsonl_interface(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("topics:\n  - {slug: lupus, title: Lupus, terms: [lupus]}\n", "utf-8")
    lines = (
        '{"id": "a", "title": "Lupus drug approved", "summary": ""}\n{"id": "b", "title": "x"}\n'
    )
    result = CliRunner().invoke(cli, ["tag", "--jsonl", "--config", str(config)], input=lines)
    assert result.exit_code == 0, result.output
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert (first["id"], first["topics"]) == ("a", ["lupus"])
    assert first["matches"][0] == {
        "topic": "lupus",
        "term": "lupus",
        "rule": "term",
        "field": "title",
        "start": 0,
        "end": 5,
        "weight": 3.0,
        "aside": False,
    }
    assert second == {"id": "b", "topics": [], "scores": {}, "matches": []}


def feeds_tag_lines(tmp_path: Path, topics_yaml: str, title: str, summary: str) -> list[str]:
    """What ``feeds tag TITLE --summary SUMMARY`` prints with a config of ``topics_yaml``."""
    config = tmp_path / "config.yaml"
    config.write_text(f"topics:\n{topics_yaml}", "utf-8")
    result = CliRunner().invoke(cli, ["tag", "--config", str(config), title, "--summary", summary])
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()


def test_feeds_tag_shows_what_each_mention_added_and_which_were_asides(tmp_path: Path) -> None:
    topics_yaml = (
        "  - {slug: car-t, title: CAR-T, terms: [CAR-T]}\n"
        "  - {slug: oncology, title: Cancer, terms: [lymphoma, glofitamab]}\n"
    )
    title = "Glofitamab works after CAR-T failure"
    summary = "In lymphoma that relapsed after CAR-T, glofitamab led to responses."
    assert feeds_tag_lines(tmp_path, topics_yaml, title, summary) == [
        "oncology  score 5.5",
        "  +3   term       'glofitamab' at title 0-10",
        "  +2   term       'lymphoma' at lead 3-11",
        "  +0.5 term       'glofitamab' at lead 39-49",
        "car-t  score 3.5",
        "  +3   term       'CAR-T' at title 23-28",
        "  +0.5 term       'CAR-T' at lead 32-37  (aside)",
    ]


def test_tag_jsonl_names_the_line_and_field_that_is_not_a_string(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("topics:\n  - {slug: lupus, title: Lupus, terms: [lupus]}\n", "utf-8")
    lines = '{"id": "a", "title": "Lupus"}\n{"id": 2, "title": "Lupus"}\n'
    result = CliRunner().invoke(cli, ["tag", "--jsonl", "--config", str(config)], input=lines)
    assert result.exit_code == 2
    assert json.loads(result.stdout)["id"] == "a"
    assert result.stderr == 'tag: stdin line 2: "id" must be a string, not a number\n'


def test_tag_jsonl_with_a_text_is_a_usage_error(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("topics:\n  - {slug: lupus, title: Lupus, terms: [lupus]}\n", "utf-8")
    result = CliRunner().invoke(
        cli, ["tag", "--jsonl", "--config", str(config), "Lupus news"], input=""
    )
    assert result.exit_code == 2
    assert "--jsonl reads stdin: give it no TEXT or --summary" in result.stderr
    assert "Traceback" not in result.output


def test_a_capitalized_name_in_mid_sentence_is_not_the_disease(rules: CompiledRules) -> None:
    summary = "The Marco Lupus Pavilion opens to patients in spring; the Lupus family paid for it."
    assert topics(rules, "Hospital wing opens", summary) == set()
    assert "lupus" in topics(
        rules, "Hospital wing opens", "Lupus flares fell. Lupus patients cheered."
    )
    # After words that say someone has it, a capital is how patients often write the disease.
    assert "lupus" in topics(rules, "Diagnosed at 34", "A patient who has Lupus finds it hard.")
    assert "lupus" not in topics(rules, "Diagnosed at 34", "A patient thanks Lupus for the help.")


def test_title_case_headlines_keep_their_capitalized_terms(rules: CompiledRules) -> None:
    assert "lupus" in topics(rules, "New Lupus Drug Wins Approval From Regulators")


def test_context_rules_guard_every_inflection_of_a_term() -> None:
    rules = compile_rules(
        (
            TopicSettings(
                slug="car-t",
                title="CAR-T",
                terms=("chimeric antigen receptor",),
                context={"chimeric antigen receptor": ("T cell",)},
            ),
        )
    )
    assert topics(rules, "Chimeric antigen receptors on NK cells") == set()
    assert topics(rules, "Chimeric antigen receptors on T cells") == {"car-t"}


def test_an_unless_word_anywhere_in_the_article_vetoes_the_term() -> None:
    rules = compile_rules(
        (
            TopicSettings(
                slug="lupus",
                title="Lupus",
                terms=("lupus", "discoid lupus erythematosus"),
                acronyms=("SLE",),
                unless={"SLE": ("mosquito",), "lupus": ("canine",)},
            ),
        )
    )
    assert topics(rules, "SLE cases rise") == {"lupus"}
    assert topics(rules, "SLE cases rise", "Mosquitoes carry the virus.") == set()
    # The veto on "lupus" also covers the longer term that contains it.
    assert topics(rules, "Discoid lupus erythematosus", "It is common in canine patients.") == set()
    assert topics(rules, "Discoid lupus erythematosus", "It is common in young women.") == {"lupus"}


def test_a_longer_term_with_an_unless_of_its_own_keeps_only_that_one() -> None:
    rules = compile_rules(
        (
            TopicSettings(
                slug="car-t",
                title="CAR-T",
                terms=("chimeric antigen receptor", "chimeric antigen receptor T cell"),
                unless={
                    "chimeric antigen receptor": ("natural killer",),
                    "chimeric antigen receptor T cell": (),
                },
            ),
        )
    )
    nk = "Natural killer cells can carry them too."
    assert topics(rules, "A chimeric antigen receptor", nk) == set()
    assert topics(rules, "Chimeric antigen receptor T cells", nk) == {"car-t"}


def test_a_mention_the_text_marks_as_an_aside_is_passing(rules: CompiledRules) -> None:
    # One plain mention in the lead makes a subject; the same word as an example, an
    # exclusion or a comparison there does not.
    assert topics(rules, "Statin trial", "Statins helped patients with lupus, a study found.") == {
        "lupus",
        "autoimmune",
    }
    for lead in (
        "Statins helped patients, except those with lupus or other autoimmune disease.",
        "Statins helped people with conditions such as psoriasis, lupus and gout.",
        "Statins helped everyone; people with lupus, gout or asthma were excluded.",
        "Statins helped a rash unrelated to systemic lupus, doctors said.",
    ):
        assert "lupus" not in topics(rules, "Statin trial", lead), lead
    # An aside adds a little, so it still counts next to a subject mention.
    (lupus,) = [
        t
        for t in tag(TagInput("Lupus trial", "Unlike lupus nephritis, skin lupus improved."), rules)
        if t.topic == "lupus"
    ]
    assert lupus.score == 3.0 + 0.5 + 2.0  # title, the aside, the plain mention in the lead


def test_one_item_of_a_long_enumeration_is_a_passing_mention(rules: CompiledRules) -> None:
    # The sixth of six outcomes in the lead is one of many, not the subject.
    lead = (
        "Infected people had higher rates of alopecia areata, vitiligo, psoriasis, rheumatoid "
        "arthritis, lupus and type 1 diabetes over the following year."
    )
    assert "lupus" not in topics(rules, "COVID-19 linked to later diagnoses", lead)
    # The same word in a short list, or in the title, is still a subject.
    short = "Cells were tested in lupus, myositis and gout."
    assert "lupus" in topics(rules, "CAR-T trials", short)
    assert "lupus" in topics(rules, "Lupus after COVID-19", lead)
    # A topic that most items of the enumeration name adds up its passing mentions.
    terms = ("alopecia areata", "vitiligo", "psoriasis", "rheumatoid arthritis")
    skin = compile_rules([TopicSettings(slug="immune", title="Immune", terms=terms)])
    assert topics(skin, "COVID-19 linked to later diagnoses", lead) == {"immune"}


def test_the_lead_ends_at_the_first_semicolon(rules: CompiledRules) -> None:
    # A digest strings its stories together with semicolons: only the first is the lead.
    digest = "Today: measles passes 700 cases; a lupus clinic opens; and pollen is early."
    assert "lupus" not in topics(rules, "Morning briefing", digest)
    first = "Today: a lupus clinic opens; measles passes 700 cases; and pollen is early."
    assert "lupus" in topics(rules, "Morning briefing", first)


def test_a_period_after_an_abbreviation_does_not_end_the_lead(rules: CompiledRules) -> None:
    # "U.S." and "Dr." end no sentence: the lead runs on to the disease.
    openings = (
        "On 30 August the U.S. agency",
        "At St. Mary's, Dr. Ruth Lee",
        "On Aug. 28 the agency",  # AP style: a month before its day
        "Smith et al. at the agency",
    )
    for opening in openings:
        lead = f"{opening} described CAR T cell therapy for children with leukaemia."
        assert "car-t" in topics(rules, "A first approval", lead)
    # A real sentence end still ends it.
    late = "The agency approved a first product. It is a CAR T cell therapy for leukaemia."
    assert "car-t" not in topics(rules, "A first approval", late)
    in_august = "The agency approved it in Aug. It is a CAR T cell therapy for leukaemia."
    assert "car-t" not in topics(rules, "A first approval", in_august)


def test_a_run_on_lead_ends_after_the_word_at_its_cap() -> None:
    # No sentence end in the first 300 characters: the lead stops there, but not inside a
    # word, so the disease named across the cap is one mention, in the lead.
    words = "a registry followed patients " * 9
    summary = f"{words}seen in adult clinics with systemic lupus erythematosus for years"
    start = summary.index("lupus")
    assert start < LEAD_MAX < start + len("lupus")
    assert first_sentence_end(summary) == start + len("lupus")


def test_an_item_that_opens_a_clause_ends_a_list(rules: CompiledRules) -> None:
    # "..., the guide explains, but differ in cost, speed and ..." is a sentence going on,
    # not a list of five: the disease before it is not one of many.
    lead = (
        "Both therapies use T cells to fight lupus, the guide explains, but differ in cost, "
        "speed and dosing."
    )
    assert "lupus" in topics(rules, "Two therapies compared", lead)
    listed = "Both therapies use T cells to fight lupus, gout, acne, eczema, asthma and dosing."
    assert "lupus" not in topics(rules, "Two therapies compared", listed)


def test_content_that_repeats_the_summary_is_not_counted_twice(rules: CompiledRules) -> None:
    from feeds.models import Article
    from feeds.tagging.matcher import article_input

    when = datetime(2024, 1, 1, tzinfo=UTC)
    summary = (
        "A statin cut heart attacks by a fifth in a large trial. People with lupus were excluded."
    )
    article = Article(
        id="a",
        source_id="s",
        entry_id="e",
        url=None,
        title="Heart drug study",
        summary=summary,
        content_html=f"<p>{summary}</p>",
        published=when,
        updated=None,
        first_seen=when,
    )
    assert article_input(article).content == ""
    assert {t.topic for t in tag(article_input(article), rules)} == set()


# --- text folding: the ASCII fast paths are the general definitions ----------------------

_TEXT = st.text(
    st.sampled_from(
        [*map(chr, range(128)), "\u00a0", "\u2013", "\u2019", "\u00df", "\ufb01", "é", "\u3000"]
    ),
    max_size=40,
)


@settings(deadline=None)  # a loaded machine must not fail it
@given(_TEXT)
def test_fold_exact_is_nfkc_dashes_to_spaces_and_white_space_collapsed(text: str) -> None:
    expected = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text).translate(_DASH_TABLE))
    assert fold_exact(text) == expected.strip()


@settings(deadline=None)  # a loaded machine must not fail it
@given(_TEXT)
def test_word_form_blanks_every_character_that_is_not_a_letter_or_digit(text: str) -> None:
    assert word_form(text) == "".join(c if c.isalnum() else " " for c in text)


ALONE = compile_rules(
    (
        TopicSettings(
            slug="car-t",
            title="CAR-T",
            terms=("CAR-T", "CAR T cell", "Kymriah"),
            alone={"CAR-T": ("CD19", "apheresis")},
        ),
        TopicSettings(
            slug="oncology",
            title="Cancer",
            terms=("chemotherapy", "lymphoma"),
            alone={"chemotherapy": ()},
        ),
        TopicSettings(slug="lupus", title="Lupus", terms=("lupus",), alone={"lupus": ("kidney",)}),
    )
)
BISPECIFICS = "Clinics began giving bispecifics at home, avoiding the queues that limit access to"


@pytest.mark.parametrize(
    ("title", "summary", "tagged"),
    [
        # one mention in the lead by the rule's term, nothing else: a passing mention
        ("Clinics start bispecifics", f"{BISPECIFICS} CAR-T.", False),
        # ... unless the text has one of the rule's words, anywhere
        ("Clinics start CD19 drugs", f"{BISPECIFICS} CAR-T.", True),
        ("Clinics start bispecifics", f"{BISPECIFICS} CAR-T. Apheresis slots were few.", True),
        # ... or names it more precisely, or again, or in the title
        ("Clinics start bispecifics", f"{BISPECIFICS} CAR-T cells.", True),
        ("Clinics start bispecifics", f"{BISPECIFICS} Kymriah.", True),
        ("Clinics start bispecifics", f"{BISPECIFICS} CAR-T. CAR-T waits grew.", True),
        ("Clinics start CAR-T", f"{BISPECIFICS} CAR-T.", True),
    ],
)
def test_an_alone_rule_holds_back_one_bare_mention_in_the_lead_without_support(
    title: str, summary: str, tagged: bool
) -> None:
    assert ("car-t" in topics(ALONE, title, summary)) is tagged


def test_an_alone_rule_with_no_words_never_lets_its_term_tag_on_its_own() -> None:
    summary = "Conditioning chemotherapy preceded the cell infusion in all ten patients."
    assert "oncology" not in topics(ALONE, "Cell therapy for myositis", summary)
    assert "oncology" in topics(ALONE, "Chemotherapy shortage", summary)
    assert "oncology" in topics(ALONE, "Cell therapy", summary.replace("cell", "lymphoma"))


def test_an_alone_rule_leaves_source_categories_alone() -> None:
    item = TagInput("Clinics start bispecifics", f"{BISPECIFICS} CAR-T.", categories=("CAR-T",))
    assert "car-t" in {t.topic for t in tag(item, ALONE)}


def test_a_lone_broad_name_in_the_lead_counts_where_the_sentence_makes_it_the_subject() -> None:
    title = "'They said it was stress': a nurse's four-year wait"
    held = "She spent four years being told her exhaustion was stress before lupus came up."
    assert "lupus" not in topics(ALONE, title, held)  # the alone rule: no support word
    found = "She spent four years being told it was stress before a blood test confirmed lupus."
    assert "lupus" in topics(ALONE, title, found)


def test_feeds_tag_says_which_topic_a_rival_in_the_headline_held_back(tmp_path: Path) -> None:
    topics_yaml = "  - {slug: car-t, title: CAR-T, terms: [CAR T cell], rivals: [natural killer]}\n"
    title = "Engineered natural killer cells may be next"
    summary = "CAR T cells have proved their worth against lymphoma."
    assert feeds_tag_lines(tmp_path, topics_yaml, title, summary) == [
        "no topic",
        "car-t  not tagged (score 2): the title names 'natural killer', one of its rivals, "
        "and not it",
        "       term       'CAR T cell' at lead 0-11",
    ]


def test_feeds_tag_says_which_topic_an_alone_rule_held_back(tmp_path: Path) -> None:
    topics_yaml = "  - {slug: car-t, title: CAR-T, terms: [CAR-T], alone: {CAR-T: [CD19]}}\n"
    summary = f"{BISPECIFICS} CAR-T."
    title = "Clinics start bispecifics"
    assert feeds_tag_lines(tmp_path, topics_yaml, title, summary) == [
        "no topic",
        "car-t  not tagged (score 2): one mention, in the lead, and no word of its alone rule "
        "in the text",
        "       term       'CAR-T' at lead 83-88",
    ]
