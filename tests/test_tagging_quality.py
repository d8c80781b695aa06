"""Precision and recall of the shipped topic rules on labeled sets of real-looking items.

``labeled.jsonl`` is the development set: the shipped rules were written without it and
then corrected where it showed general mistakes. The ``holdout*.jsonl`` sets were each
written separately, by authors who never saw the rules, and never used for tuning; they
report how the rules do on text nobody tuned them to. Sets 1 to 4 are text written for
the set, 12 real pages (headlines as published, openings summarised); 5 to 11, real pages
too, were retired into the development set once evaluated.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from feeds.config import load_settings
from feeds.storage import Storage
from feeds.tagging.matcher import TagInput, explain, tag
from feeds.tagging.rules import CompiledRules, compile_rules
from feeds.tagging.vocabulary import load_rules, mesh_rows

REPO = Path(__file__).parent.parent
SETS = Path(__file__).parent / "data" / "tagging"
MESH_2024 = REPO.parent / "shared" / "mesh" / "d2024.bin.gz"
TARGETS = {
    "lupus": (0.97, 0.95),
    "car-t": (0.97, 0.95),
    "autoimmune": (0.90, 0.90),
    "oncology": (0.90, 0.90),
}


def topics(rules: CompiledRules, title: str, summary: str) -> set[str]:
    """The topics ``rules`` tag a title and summary with."""
    return {t.topic for t in tag(TagInput(title, summary), rules)}


def evaluate(rules: CompiledRules, name: str) -> dict[str, tuple[float, float]]:
    """Per-topic (precision, recall) on a labeled set; prints the table and the misses."""
    items = [json.loads(line) for line in (SETS / name).read_text("utf-8").splitlines() if line]
    found = {
        it["id"]: {t.topic for t in tag(TagInput(it["title"], it["summary"]), rules)}
        for it in items
    }
    scores = {}
    print(f"\n{name}: {len(items)} items")
    for topic in TARGETS:
        tp = sum(topic in found[it["id"]] and topic in it["topics"] for it in items)
        fp = [it for it in items if topic in found[it["id"]] and topic not in it["topics"]]
        fn = [it for it in items if topic not in found[it["id"]] and topic in it["topics"]]
        precision, recall = tp / max(tp + len(fp), 1), tp / max(tp + len(fn), 1)
        scores[topic] = (precision, recall)
        print(f"  {topic:11} precision {precision:.3f}  recall {recall:.3f}")
        if name.startswith("labeled"):  # the held-out items stay unread, even in logs
            for kind, misses in (("false positive", fp), ("missed", fn)):
                for it in misses:
                    print(f"    {kind}: {it['id']} {it['title']}")
    return scores


@pytest.fixture(scope="module")
def shipped_rules() -> CompiledRules:
    return compile_rules(load_settings(REPO / "config.yaml").topics)


@pytest.fixture(scope="module")
def rules_with_mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CompiledRules]:
    if not MESH_2024.exists():
        pytest.skip(f"the MeSH 2024 file is not at {MESH_2024}")
    storage = Storage.open(f"sqlite:///{tmp_path_factory.mktemp('mesh') / 'feeds.db'}")
    storage.migrate()
    storage.import_mesh(mesh_rows(MESH_2024), str(MESH_2024), datetime.now(UTC))
    yield load_rules(load_settings(REPO / "config.yaml"), storage)
    storage.close()


def assert_targets(scores: dict[str, tuple[float, float]]) -> None:
    misses = {
        topic: (precision, recall)
        for topic, (precision, recall) in scores.items()
        if precision < TARGETS[topic][0] or recall < TARGETS[topic][1]
    }
    assert not misses


DEV_TOPICS = list(TARGETS)


@pytest.fixture(scope="module")
def labeled_scores(shipped_rules: CompiledRules) -> dict[str, tuple[float, float]]:
    return evaluate(shipped_rules, "labeled.jsonl")


@pytest.fixture(scope="module")
def labeled_scores_with_mesh(rules_with_mesh: CompiledRules) -> dict[str, tuple[float, float]]:
    return evaluate(rules_with_mesh, "labeled.jsonl")


@pytest.mark.parametrize("topic", DEV_TOPICS)
def test_shipped_rules_meet_the_targets_on_the_labeled_set(
    labeled_scores: dict[str, tuple[float, float]], topic: str
) -> None:
    assert_targets({topic: labeled_scores[topic]})


@pytest.mark.parametrize("topic", DEV_TOPICS)
def test_shipped_rules_with_mesh_2024_meet_the_targets(
    labeled_scores_with_mesh: dict[str, tuple[float, float]], topic: str
) -> None:
    assert_targets({topic: labeled_scores_with_mesh[topic]})


def _short(reason: str) -> pytest.MarkDecorator:
    return pytest.mark.xfail(reason=reason, strict=True)


# The first held-out set misses lupus precision by one item: 0.97 with 30 true positives
# allows no false positive.
# (docs/design.md, "Held-out after session 8")
HELD_OUT = [
    pytest.param(
        "holdout.jsonl",
        "lupus",
        marks=_short("held-out lupus precision is 0.968 (1 false positive of 31), under 0.97"),
    ),
    *[("holdout.jsonl", topic) for topic in ("car-t", "autoimmune", "oncology")],
    # (its lupus recall, 0.938 until session 10, is 0.969 since session 11's terms for the
    # disease's own organisations and day)
    *[("holdout2.jsonl", topic) for topic in TARGETS],
    # The third, written and evaluated last (session 8): recall is where fresh text hurts,
    # mostly a disease named once, outside the headline and first sentence. (Lupus recall
    # was 0.844 until session 11's neonatal-lupus heart block terms.)
    pytest.param(
        "holdout3.jsonl",
        "lupus",
        marks=_short("third held-out lupus recall is 0.906 (3 misses of 32), under 0.95"),
    ),
    ("holdout3.jsonl", "car-t"),
    ("holdout3.jsonl", "autoimmune"),  # recall 0.882 until session 11, as lupus above
    ("holdout3.jsonl", "oncology"),
    # The fourth, written blind in session 9 and evaluated once, on the rules frozen then
    # (docs/design.md, "Held-out after session 9")
    *[("holdout4.jsonl", topic) for topic in TARGETS],
    # Real pages: sets 5 to 11 (sessions 10 to 12) were retired into the development set
    # after their evaluations (docs/design.md, "Held-out after session 10", "... 11", "... 11:
    # set 9", "... 12: set 10", "... 12: set 11"). Set 12, written in session 12 and evaluated
    # once on its frozen rules ("Held-out after session 12: set 12"): lupus and CAR-T
    # precision miss, their recall passes.
    pytest.param(
        "holdout12.jsonl",
        "lupus",
        marks=_short("real pages 12: lupus precision 0.901 (9 false positives of 91)"),
    ),
    pytest.param(
        "holdout12.jsonl",
        "car-t",
        marks=_short("real pages 12: car-t precision 0.969 (4 false positives of 128)"),
    ),
    *[("holdout12.jsonl", topic) for topic in ("autoimmune", "oncology")],
]


@pytest.fixture(scope="module")
def held_out_scores(shipped_rules: CompiledRules) -> dict[str, dict[str, tuple[float, float]]]:
    names = ("holdout.jsonl", *(f"holdout{n}.jsonl" for n in (2, 3, 4, 12)))
    return {name: evaluate(shipped_rules, name) for name in names}


@pytest.mark.parametrize(("name", "topic"), HELD_OUT)
def test_shipped_rules_on_the_held_out_sets(
    held_out_scores: dict[str, dict[str, tuple[float, float]]], name: str, topic: str
) -> None:
    precision, recall = held_out_scores[name][topic]
    min_precision, min_recall = TARGETS[topic]
    assert precision >= min_precision
    assert recall >= min_recall


def test_the_weights_feeds_tag_shows_add_up_to_each_score(shipped_rules: CompiledRules) -> None:
    """``explain`` says what each match added; over the development set those add up to the
    score ``tag`` computed on its own shortcuts, wherever the matches set the score."""
    items = [json.loads(line) for line in (SETS / "labeled.jsonl").read_text("utf-8").splitlines()]
    checked = 0
    for it in items:
        item = TagInput(it["title"], it["summary"])
        explained = explain(item, shipped_rules)
        assert tuple(e.tag for e in explained) == tag(item, shipped_rules)
        for e in explained:
            if None not in e.weights:  # not set by a child topic
                assert sum(w or 0.0 for w in e.weights) == pytest.approx(e.tag.score)
                checked += 1
    assert checked > 500


def test_ln_is_lupus_nephritis_beside_biopsy_words_not_a_lymph_node(
    shipped_rules: CompiledRules,
) -> None:
    biopsy = "Among 287 biopsies showing ISN/RPS class III or IV LN, fibrosis predicted decline."
    assert "lupus" in topics(
        shipped_rules, "Fibrosis predicts eGFR decline in class III/IV LN", biopsy
    )
    nodes = "LN involvement was the strongest predictor of relapse in 400 patients with melanoma."
    assert "lupus" not in topics(shipped_rules, "LN status and relapse in melanoma", nodes)
    assert "lupus" not in topics(
        shipped_rules, "LN and class III status", "A metastasis registry of 90 nodes."
    )


@pytest.mark.parametrize(
    ("title", "summary", "topic", "tagged"),
    [
        # one bare name, once, in the lead, under a headline about something else ...
        (
            "Community clinics start myeloma bispecifics",
            "Practices began giving step-up doses at home, avoiding the queues for CAR-T.",
            "car-t",
            False,
        ),
        (
            "Infusion suite opens in a shopping centre",
            "Patients having iron infusions, Crohn's drips or lupus treatment will be seen there.",
            "lupus",
            False,
        ),
        # ... counts when the sentence gives it to someone or names the people who have it
        (
            "Cell therapy goes outpatient at county hospital",
            "Patients receiving CAR T for lymphoma now go home the same day.",
            "car-t",
            True,
        ),
        (
            "Lakeside camp lets children be ordinary for a week",
            "Forty children with lupus spent a week at a lakeside camp this month.",
            "lupus",
            True,
        ),
        (
            "Community hospital gives its first engineered-cell infusion",
            "A rural hospital has treated its first patient with CAR-T, a man of 68.",
            "car-t",
            True,
        ),
        (
            "Rheumatology unit gains a cell-therapy licence",
            "The unit can now deliver CAR-T in trials for systemic sclerosis.",
            "car-t",
            True,
        ),
        # ... or names its products, or how they are made
        (
            "Payment rule changes for cell therapy admissions",
            "Hospitals giving commercial CAR-T products will be paid under a new group.",
            "car-t",
            True,
        ),
        (
            "Investors back a cheaper way to make engineered cells",
            "Start-ups are building in vivo versions of CAR-T, made inside the body.",
            "car-t",
            True,
        ),
        # a charity's name is an address ...
        (
            "Georgian villa goes on sale for £2m",
            "The villa, which housed a national lupus charity's offices, has six bedrooms.",
            "lupus",
            False,
        ),
        # ... or it speaks for people with the disease, and the text speaks of the disease
        (
            "Patients ration tablets as supplies run short",
            "A national lupus charity says members could not fill hydroxychloroquine scripts.",
            "lupus",
            True,
        ),
        # ... or when the text speaks of the disease
        (
            "Why a sunburn can land some people in hospital",
            "For people with lupus, ultraviolet light can set off joint pain and kidney flares.",
            "lupus",
            True,
        ),
    ],
)
def test_shipped_alone_rules_on_one_bare_name_in_the_lead(
    shipped_rules: CompiledRules, title: str, summary: str, topic: str, tagged: bool
) -> None:
    assert (topic in topics(shipped_rules, title, summary)) is tagged


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        # tumour names no list has yet, by their word endings
        ("Proton centre treats its first child", "A girl of seven with medulloblastoma was first."),
        ("Bone tumour trial opens", "Teenagers with osteosarcoma can join from June."),
        ("Bile duct study", "Cholangiocarcinoma rates rose in a registry of 9,000 people."),
        # the screening programmes, named without the word "cancer"
        ("Self-sampling kits lift uptake", "Posted kits raised cervical screening by 12 points."),
    ],
)
def test_shipped_oncology_names_tumours_and_screening_without_the_word_cancer(
    shipped_rules: CompiledRules, title: str, summary: str
) -> None:
    assert "oncology" in topics(shipped_rules, title, summary)


@pytest.mark.parametrize(
    ("title", "summary", "topic"),
    [
        # what a person has: lupus the disease, not a name or a star
        ("'My mom has lupus': a 22-year-old's view", "Mum says it can be managed.", "lupus"),
        ("Does the singer have lupus?", "An aunt died of lupus; she was tested too.", "lupus"),
        # the awareness month, capitalized: the bare word alone would be held as a name
        ("May is a time for purple", "Lupus Awareness Month falls in May in the U.S.", "lupus"),
        # Sjögren's on its own is the disease ("Sjögren's patients")
        (
            "Trials ready for recruitment",
            "Sixteen therapies for Sjögren's patients are in trials.",
            "autoimmune",
        ),
        # a short Title-Case headline: "Is" capitalized says the capitals are the style
        ("How Lupus Is Diagnosed", "Doctors combine history and blood tests.", "lupus"),
        # the disease with a capital, as patients write it
        ("Diagnosed at 34", "She has lived with Lupus for years, with painful flares.", "lupus"),
        # lupus as an illness, and the research on it
        (
            "Financial Impact of Lupus",
            "A chronic, life-long illness like lupus costs a lot.",
            "lupus",
        ),
        # juvenile SLE, as the UK cohort writes it
        (
            "JSLE imparts severe organ involvement",
            "The cohort showed damage accruing fast.",
            "lupus",
        ),
        # MS said of the people who have it
        (
            "Why People With MS Are Paying Attention",
            "A blogger living with MS explains.",
            "autoimmune",
        ),
        (
            "Cannabis capsules to be tested",
            "A developer will test capsules for treating MS.",
            "autoimmune",
        ),
        # a person's illness, told by the person, and the blood cancers by their acronyms
        ("Diagnosed at 36", "A woman recently diagnosed with lupus writes about work.", "lupus"),
        (
            "Approval for R/R CLL",
            "Regulators cleared liso-cel for CLL after two lines.",
            "oncology",
        ),
        (
            "Marathon in memory of Dad",
            "Iain ran for his Dad, who died from cancer last year.",
            "oncology",
        ),
        # the disease after its severity, in an approval's words
        (
            "Stelara regulatory update",
            "Approved by the FDA. It is for adults with moderately to severely active Crohn's "
            "disease who failed other drugs.",
            "autoimmune",
        ),
        # myelodysplastic syndromes are blood cancers
        (
            "Plenary: luspatercept",
            "It cut transfusions in lower-risk myelodysplastic syndromes.",
            "oncology",
        ),
    ],
)
def test_shipped_rules_read_everyday_names_of_a_disease(
    shipped_rules: CompiledRules, title: str, summary: str, topic: str
) -> None:
    assert topic in topics(shipped_rules, title, summary)


def test_shipped_lupus_in_a_star_story_is_the_constellation(shipped_rules: CompiledRules) -> None:
    # a capital mid-sentence is a name (and the article speaks of no disease)
    summary = "Astronomers found a young star in Lupus, 500 light years away, with a disc of dust."
    assert "lupus" not in topics(shipped_rules, "A new star", summary)


@pytest.mark.parametrize(
    ("title", "summary", "tagged"),
    [
        # one bare "cancer" in the lead, as one of the causes of death a study counts
        (
            "Walking 7,000 steps a day",
            "Walkers had fewer deaths from heart disease and cancer.",
            False,
        ),
        # ... or as what a company's products are for
        (
            "Three biotechs cut staff",
            "A maker of T-cell drugs for cancer treatment cut 176 jobs.",
            False,
        ),
        # cancer news names the cancer, its treatment or the people who have it
        (
            "Nurse-led follow-up",
            "Women treated for early endometrial cancer were called by nurses.",
            True,
        ),
        ("A new unit opens", "The unit will give CAR-T cells to people with cancer.", True),
        ("Cancer deaths fall", "Deaths from heart disease and cancer fell.", True),
    ],
)
def test_shipped_oncology_counts_one_bare_cancer_in_the_lead_only_with_support(
    shipped_rules: CompiledRules, title: str, summary: str, tagged: bool
) -> None:
    assert ("oncology" in topics(shipped_rules, title, summary)) is tagged


@pytest.mark.parametrize(
    ("title", "summary", "topic", "tagged"),
    [
        # "X and other ..." in a headline puts X first; in a sentence it is a list of examples
        (
            "Striking improvements across lupus and other diseases",
            "Fifteen patients were treated at one hospital in a cell-therapy study.",
            "lupus",
            True,
        ),
        (
            "Heart drug cuts strokes",
            "The drug cut strokes by a fifth. Patients with lupus and other autoimmune "
            "diseases were excluded from the trial.",
            "lupus",
            False,
        ),
        # the plural of the abbreviation
        (
            "CAR-Ts to carry a new boxed warning",
            "The regulator ordered label changes.",
            "car-t",
            True,
        ),
        # a TCR-T review that opens with CAR-T as the yardstick
        (
            "TCR-engineered T cells reach targets inside the tumour cell",
            "CAR-T cells have transformed blood-cancer care but struggle in solid tumours.",
            "car-t",
            False,
        ),
        # tuberculous lupus is lupus vulgaris, skin tuberculosis
        (
            "Tuberculous lupus on the cheek of a farmer",
            "The plaque cleared on antituberculous drugs; lupus of this kind is a form of TB.",
            "lupus",
            False,
        ),
        # the disease's own day and organisations, capitalized, are not a name or a star
        (
            "World Lupus Day: landmarks turn purple",
            "Supporters of the global lupus community shared their stories.",
            "lupus",
            True,
        ),
        (
            "Walks return this spring",
            "The Lupus Foundation of America invites supporters to its walks in twelve cities.",
            "lupus",
            True,
        ),
        # how patients write about it: no clinical word, but pain, tiredness, awareness
        (
            "I may look fine on the outside",
            "A young mother says lupus leaves her looking well but feeling awful inside; "
            "few have heard of lupus, and she is often too tired to play with her son.",
            "lupus",
            True,
        ),
        # ... and with a capital, in a sentence that speaks of the disease
        (
            "Nine years of fighting",
            "The writer says Lupus is not laziness but a diagnosed disorder that flares.",
            "lupus",
            True,
        ),
        # a capital in a sentence that does not is still a name
        (
            "Hospital wing opens",
            "The wing, named after the Lupus family, has 40 beds for patients after surgery.",
            "lupus",
            False,
        ),
        # the television catchphrase "It's never lupus"
        (
            "Every time House said it was not lupus",
            "A recap of House M.D. lists the episodes in which the team floated the autoimmune "
            "disease lupus.",
            "lupus",
            False,
        ),
        # SLE as a name of the lupus anticoagulant test, in a laboratory catalogue
        (
            "Lupus anticoagulant test (DRVVT, SLE, LAC)",
            "Collect citrate plasma for the dilute Russell viper venom test; patient samples "
            "must be double spun.",
            "lupus",
            False,
        ),
        # the press's name for it in a headline, when the text says which cells
        (
            "Designer immune cells shrink brain tumours in two early trials",
            "Both trials tested chimeric antigen receptor (CAR) T-cell therapy in glioblastoma.",
            "car-t",
            True,
        ),
        (
            "Designer immune cells shrink brain tumours in two early trials",
            "Both trials used natural killer cells taken from donors.",
            "car-t",
            False,
        ),
        # a person's diagnosis, named once, is the story
        (
            "Told at 41: 'you have to mourn your old life'",
            "Diagnosed with lupus at 41, the writer says people assume she is faking.",
            "lupus",
            True,
        ),
        # neonatal lupus's heart block, in the words of obstetric and cardiology pages
        (
            "Home heart-rate checks for mothers with anti-Ro antibodies",
            "Twice-daily Doppler checks from 18 weeks caught second-degree block early.",
            "lupus",
            True,
        ),
        (
            "Sjogren's markers in a dry-eye clinic",
            "Anti-Ro antibodies were found in 40% of patients with dry eyes and dry mouth.",
            "lupus",
            False,
        ),
        # CAR-T written "CART cells"
        ("Meso-CART cells clear lung metastases in mice", "", "car-t", True),
        # session 12 (held-out sets 9 and 10, retired)
        # A headline that names another autoimmune disease and not lupus: lupus in the
        # summary is the precedent or the neighbour, not the news (lupus ``rivals``)
        (
            "CAR T-Cell Therapy Treats Patient With Refractory Antisynthetase Syndrome",
            "After CD19 CAR T cells helped refractory systemic lupus erythematosus in earlier "
            "reports, doctors gave them to a man with antisynthetase syndrome and myositis.",
            "lupus",
            False,
        ),
        (
            "Systemic Sclerosis CAR-T Treatment",
            "A post notes good results for CAR-T in autoimmune disorders, where lupus and "
            "myasthenia gravis get most attention, and lists five systemic sclerosis trials.",
            "lupus",
            False,
        ),
        # ... while a headline naming lupus too keeps it
        (
            "Lupus and systemic sclerosis patients respond to CAR-T",
            "Patients with refractory lupus had no flares a year after the infusion.",
            "lupus",
            True,
        ),
        # lupus of dogs is veterinary news
        (
            "Owners guide to discoid lupus in dogs",
            "Discoid lupus in dogs is an autoimmune condition that discolours the nose.",
            "lupus",
            False,
        ),
        # House M.D.'s running gag, written with a comma
        (
            "House, MD: Why It's Never Lupus (And The One Time It Was)",
            "A TV feature explains the House, MD running joke that it is never lupus.",
            "lupus",
            False,
        ),
        # "chimeric antigen receptor T cells" names the cell: a review that also describes
        # CARs on NK cells does not veto it (an ``unless`` entry of its own)
        (
            "Chimeric Antigen Receptor T Cell Therapy for Pancreatic Cancer",
            "A review explains how CARs on T cells, NK cells or macrophages kill target cells.",
            "car-t",
            True,
        ),
        # ... while a bare "chimeric antigen receptor" beside NK cells is still held back
        (
            "Chimeric antigen receptor designs compared",
            "Engineered natural killer cells carrying a chimeric antigen receptor and T cells.",
            "car-t",
            False,
        ),
        # CAR-T's short names as one word, CART in the plural, of CD19, in vivo
        ("Table 2 Pivotal trials of CARTs labelled for r/r MCL", "", "car-t", True),
        ("Real-world studies of Brexucel and Lisocel in mantle cell lymphoma", "", "car-t", True),
        ("Universal CAR19 T cells in children with relapsed B-ALL", "", "car-t", True),
        ("Will in vivo CART reach the bone marrow?", "", "car-t", True),
        ("CART peptide levels rise after fasting", "", "car-t", False),
        # the press's explanation supports one CAR-T in the lead
        (
            "New hope for people with blood cancer at St George's",
            "A one-time CAR-T treatment that turns a person's own cells against their cancer "
            "is being rolled out for patients who relapsed.",
            "car-t",
            True,
        ),
        # "akin to" is a likeness, as "similar to" is
        (
            "Singer reveals he has a rare autoimmune disease",
            "Doctors found an autoimmune disease akin to lupus behind his kidney failure.",
            "lupus",
            False,
        ),
        # a person's own course of CAR-T, a trial of it, patients' own engineered cells
        (
            "Getting Real",
            "A patient with lymphoma blogs that the province will fund his CAR-T therapy.",
            "car-t",
            True,
        ),
        (
            "Brain cancer treatment almost eliminates tumours in five days",
            "Researchers reported the first patients in a clinical trial of CAR-T for "
            "glioblastoma, using patients' own engineered cells.",
            "car-t",
            True,
        ),
        # "Aug. 28" ends no sentence: the CAR-T named after it is in the lead
        (
            "What's Gilead Getting From Kite For Nearly $12bn?",
            "Gilead defended the $11.9bn acquisition of Kite Pharma on Aug. 28, but investors "
            "were divided despite strong efficacy data for Kite's lead chimeric antigen "
            "receptor T cell (CAR-T) therapy; Gilead expects much from its new platform.",
            "car-t",
            True,
        ),
    ],
)
def test_shipped_rules_on_real_page_cases_of_sessions_11_and_12(
    shipped_rules: CompiledRules, title: str, summary: str, topic: str, tagged: bool
) -> None:
    assert (topic in topics(shipped_rules, title, summary)) is tagged
