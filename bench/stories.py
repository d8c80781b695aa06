"""Story clustering benchmark: 100,000 articles clustered incrementally through real storage.

Run from the repository root::

    python bench/stories.py            # 100,000 articles on SQLite: a few minutes on 2 CPUs
    python bench/stories.py --quick    # 20,000 articles (10,000 against 20,000 stored)

Synthetic outlets publish synthetic health news at a steady rate (``PER_DAY`` articles a
simulated day), so the number of articles inside the clustering window stays the same as
the database grows: what grows is only the number of *stored* articles. Each story is
written once from templates (a drug, a disease, an organisation, a result, numbers, and a DOI
for half of them) and covered by one to five outlets: the first writes it, the others
syndicate it (same lead, new headline), rewrite it (headline words reordered, another lead)
or cite the same DOI. Articles arrive in batches of one outlet's feed, as ``feeds update``
writes them: ``update.cluster`` (candidates from ``story_keys``, decision in
``feeds.stories``) then ``Storage.record_update`` with the decisions, one transaction.

It prints articles per second, and the cost per article (clustering + store, and clustering
alone) over the stretch before 10,000 articles are stored (half the run, if shorter) and
over the last stretch, as a ratio. Target: the cost at 100,000 stored articles is at most
1.5x the cost at 10,000.
Each stretch is measured as the median of its batches' per-article times, which a noisy
shared machine disturbs less than a mean. It also prints pair precision and recall of the
clusters against the generator's truth, for information. It exits 0 either way.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.report import machine, revision, verdict
from feeds.config import load_settings
from feeds.models import Article, Source, SourceHealth, SourceStatus
from feeds.storage import Storage
from feeds.stories import StoryPolicy
from feeds.tagging.rules import compile_rules
from feeds.update import cluster

SEED = 20241124
PER_DAY = 300  # articles per simulated day: the window holds PER_DAY x 7 articles
BATCH = 20  # articles per "fetch" of one outlet
OUTLETS = 40
MAX_RATIO = 1.5
START = datetime(2024, 1, 1, tzinfo=UTC)
REPO = Path(__file__).resolve().parent.parent

_DRUG_TEXT = (
    "semaglutide tirzepatide lecanemab donanemab teplizumab anifrolumab belimumab "
    "voclosporin pembrolizumab nivolumab dostarlimab tisagenlecleucel ciltacabtagene "
    "idecabtagene axicabtagene ocrelizumab tofacitinib baricitinib upadacitinib "
    "dupilumab mepolizumab tezepelumab ensifentrine fezolinetant zuranolone "
    "retatrutide orforglipron inclisiran evolocumab finerenone empagliflozin "
    "dapagliflozin sotatercept mavacamten aficamten olezarsen zilebesiran lepodisiran"
)
# Real names, plus INN-like invented ones (prefix + infix + a real INN stem), so a week of
# news names as many different drugs as a real week does.
_PARTS = (
    "ada beva cema dara efga fila gala ima kira lora mira nova oza peta rava sela",
    "li ci zu ta ne ro vo xa",
    "mab nib tide gene stat parin sartan vir",
)
_PREFIXES, _INFIXES, _STEMS = (part.split() for part in _PARTS)
DRUGS = _DRUG_TEXT.split() + [p + i + s for p in _PREFIXES for i in _INFIXES for s in _STEMS]
_DISEASE_TEXT = (
    "lupus nephritis|type 1 diabetes|obesity|heart failure|early Alzheimer's disease|"
    "multiple myeloma|rectal cancer|rheumatoid arthritis|asthma|COPD|psoriasis|"
    "multiple sclerosis|chronic kidney disease|hypertension|atopic dermatitis|"
    "postpartum depression|pulmonary arterial hypertension|sickle cell disease|"
    "hot flushes of menopause|large B-cell lymphoma|leukaemia|migraine|endometriosis|"
    "Parkinson's disease|ALS|cystic fibrosis|haemophilia B|gout|ulcerative colitis|"
    "Crohn's disease|glioblastoma|pancreatic cancer|melanoma|prostate cancer|"
    "breast cancer|lung cancer|sepsis|tuberculosis|malaria|HIV|hepatitis B|RSV|"
    "long COVID|osteoporosis|macular degeneration|glaucoma|epilepsy|schizophrenia|"
    "bipolar disorder|major depression|insomnia|chronic pain|stroke|atrial fibrillation"
)
DISEASES = _DISEASE_TEXT.split("|")
ORGS = ("FDA", "EMA", "NICE", "Health Canada", "the MHRA", "Japan's PMDA", "WHO", "CDC")
RESULTS = (
    "cuts the risk of {outcome} by {pct}%",
    "slows {outcome} over {months} months",
    "fails to reduce {outcome}",
    "halves {outcome} in a phase 3 trial",
    "improves {outcome} in {n} patients",
)
_OUTCOME_TEXT = (
    "hospital admissions|kidney decline|cardiovascular events|relapses|flares|"
    "disease progression|death|weight|cognitive decline|exacerbations"
)
OUTCOMES = _OUTCOME_TEXT.split("|")
TITLES = (
    "{drug} {result} in {disease}",
    "{org} approves {drug} for {disease}",
    "Trial: {drug} {result} in people with {disease}",
    "{disease}: {drug} {result}",
)
LEADS = (
    "Researchers report in {journal} that {drug} given to {n} adults with {disease} {result}, "
    "with follow-up of {months} months at {sites} sites.",
    "In a trial of {n} people with {disease} run at {sites} centres, {drug} {result}; "
    "the results appear in {journal} after {months} months of follow-up.",
)
JOURNALS = ("NEJM", "The Lancet", "JAMA", "Nature Medicine", "The BMJ", "Annals")


@dataclass(frozen=True)
class Planned:
    """One synthetic article and the story it truly belongs to."""

    article: Article
    truth: int


def stories(count: int, rng: random.Random) -> list[Planned]:
    """``count`` articles, in publication order, from stories covered by 1-5 outlets."""
    planned: list[Planned] = []
    story = 0
    minutes_per_article = 24 * 60 / PER_DAY
    while len(planned) < count:
        story += 1
        slots = {
            "drug": rng.choice(DRUGS).capitalize(),
            "disease": rng.choice(DISEASES),
            "org": rng.choice(ORGS),
            "journal": rng.choice(JOURNALS),
            "n": rng.randint(40, 20000),
            "months": rng.randint(3, 60),
            "sites": rng.randint(2, 400),
        }
        result = rng.choice(RESULTS).format(
            outcome=rng.choice(OUTCOMES),
            pct=rng.randint(5, 60),
            months=slots["months"],
            n=slots["n"],
        )
        slots["result"] = result
        doi = f"10.{rng.randint(1000, 9999)}/bench.{story}" if rng.random() < 0.5 else None
        base = START + timedelta(minutes=len(planned) * minutes_per_article)
        outlets = rng.sample(range(OUTLETS), rng.choice((1, 1, 1, 1, 2, 2, 3, 4, 5)))
        lead = rng.choice(LEADS).format(**slots)
        title = rng.choice(TITLES).format(**slots)
        for position, outlet in enumerate(outlets):
            kind = "first" if position == 0 else rng.choice(("syndicated", "rewrite", "doi"))
            this_title, this_lead, dois = title, lead, (doi,) if doi else ()
            if kind in ("syndicated", "rewrite"):
                this_title = rng.choice(TITLES).format(**slots)
            if kind == "rewrite":
                this_lead = rng.choice(LEADS).format(**slots)
                dois = ()
            published = base + timedelta(hours=rng.uniform(0, 72) if position else 0)
            planned.append(
                Planned(
                    _article(outlet, story, position, this_title, this_lead, published, dois), story
                )
            )
    planned.sort(key=lambda p: p.article.published)
    return planned[:count]


def _article(
    outlet: int,
    story: int,
    position: int,
    title: str,
    lead: str,
    published: datetime,
    dois: tuple[str, ...],
) -> Article:
    entry = f"{story}-{position}"
    digest = hashlib.sha1(f"{outlet}|{entry}".encode()).hexdigest()[:32]
    return Article(
        id=digest,
        source_id=f"outlet-{outlet:02d}",
        entry_id=entry,
        url=f"https://outlet{outlet}.example/{story}/{position}",
        title=title,
        summary=lead,
        content_html=f"<p>{lead}</p>",
        published=published,
        updated=None,
        first_seen=published,
        dois=dois,
        content_hash=digest,
    )


def run(count: int, folder: Path) -> int:
    rng = random.Random(SEED)
    planned = stories(count, rng)
    storage = Storage.open(f"sqlite:///{folder / 'bench.db'}")
    storage.migrate()
    sources = [
        Source(
            f"outlet-{i:02d}", f"Outlet {i}", f"https://outlet{i}.example/feed", timedelta(hours=1)
        )
        for i in range(OUTLETS)
    ]
    storage.sync_sources(sources, START)
    health = {h.source_id: replace(h, status=SourceStatus.OK) for h in storage.source_health()}
    # The topic vocabulary of the shipped config, as `feeds update` would use it.
    topics = load_settings(REPO / "config.yaml").topics
    policy = StoryPolicy(subject=compile_rules(topics).vocabulary)

    # Batches: consecutive articles of one outlet, in arrival order, BATCH at a time.
    pending: dict[str, list[Article]] = defaultdict(list)
    batches: list[list[Article]] = []
    for item in planned:
        queue = pending[item.article.source_id]
        queue.append(item.article)
        if len(queue) == BATCH:
            batches.append(queue[:])
            queue.clear()
    batches += [q for q in pending.values() if q]

    stored = 0
    timings: list[tuple[int, float, float]] = []  # (stored before, total s/article, cluster)
    began = time.perf_counter()
    for batch in batches:
        t0 = time.perf_counter()
        decided = cluster(storage, batch, policy)
        t1 = time.perf_counter()
        source_health: SourceHealth = health[batch[0].source_id]
        storage.record_update(source_health, batch, batch[-1].published, stories=decided)
        t2 = time.perf_counter()
        timings.append((stored, (t2 - t0) / len(batch), (t1 - t0) / len(batch)))
        stored += len(batch)
        if stored // 10_000 != (stored - len(batch)) // 10_000:
            print(
                f"  {stored:>7,} stored, {stored / (time.perf_counter() - began):,.0f} "
                "articles/s so far",
                flush=True,
            )
    elapsed = time.perf_counter() - began

    early_end = min(10_000, count // 2)  # past the first filled window (about 2,100)
    stretch = max(count // 50, 200)
    early = [t for t in timings if early_end - stretch <= t[0] < early_end]
    late = [t for t in timings if t[0] >= count - stretch - BATCH]
    early_total = statistics.median(t[1] for t in early)
    late_total = statistics.median(t[1] for t in late)
    early_cluster = statistics.median(t[2] for t in early)
    late_cluster = statistics.median(t[2] for t in late)
    ratio = late_total / early_total

    precision, recall = _pair_quality(storage, planned)
    print()
    print(
        f"articles: {count:,} in {len(batches):,} batches of up to {BATCH}; "
        f"{PER_DAY} a simulated day, window {policy.window.days} days"
    )
    print(f"throughput: {count / elapsed:,.0f} articles/s (clustering + store, {elapsed:.1f} s)")
    print(
        f"per article at {early_end:,} stored: {early_total * 1e3:.3f} ms "
        f"(clustering {early_cluster * 1e3:.3f} ms)"
    )
    print(
        f"per article at {count:,} stored: {late_total * 1e3:.3f} ms "
        f"(clustering {late_cluster * 1e3:.3f} ms)"
    )
    print(
        f"ratio {count:,} / {early_end:,}: {ratio:.2f}x (clustering alone "
        f"{late_cluster / early_cluster:.2f}x); target <= {MAX_RATIO}x: "
        f"{verdict(ratio <= MAX_RATIO)}"
    )
    print(
        f"synthetic clusters, same-story pairs: precision {precision:.3f}, "
        f"recall {recall:.3f} (for information)"
    )
    storage.close()
    return 0


def _pair_quality(storage: Storage, planned: Sequence[Planned]) -> tuple[float, float]:
    """Pair precision and recall of the stored clusters against the generator's truth."""
    found = storage.story_ids([p.article.id for p in planned])
    by_story: dict[str | None, list[int]] = defaultdict(list)
    by_truth: dict[int, list[str | None]] = defaultdict(list)
    for p in planned:
        by_story[found.get(p.article.id)].append(p.truth)
        by_truth[p.truth].append(found.get(p.article.id))

    def pairs(groups: Sequence[Sequence[object]]) -> int:
        return sum(len(g) * (len(g) - 1) // 2 for g in groups)

    def agreeing(groups: Sequence[Sequence[object]]) -> int:
        total = 0
        for group in groups:
            counts: dict[object, int] = defaultdict(int)
            for value in group:
                counts[value] += 1
            total += sum(c * (c - 1) // 2 for c in counts.values())
        return total

    said = pairs(list(by_story.values()))
    true = pairs(list(by_truth.values()))
    right = agreeing(list(by_story.values()))
    return (right / said if said else 1.0), (right / true if true else 1.0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 articles")
    parser.add_argument("--articles", type=int, help="how many articles (default 100,000)")
    args = parser.parse_args(argv)
    count = args.articles or (20_000 if args.quick else 100_000)
    print(f"machine: {machine()}")
    print(f"code: {revision()}")
    with tempfile.TemporaryDirectory() as folder:
        return run(count, Path(folder))


if __name__ == "__main__":
    sys.exit(main())
