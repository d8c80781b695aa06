"""Study ids per article: normalize finds them, storage keeps and filters on them, migration
0007 fills them from what was stored before, and every renderer shows them."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text

from feeds.identifiers import find_studies
from feeds.models import Article, ArticleQuery, ParsedEntry, ParsedFeed, Source, StudyId
from feeds.normalize import article_id, content_hash, normalize_entry
from feeds.render.registry import render
from feeds.storage import Storage
from feeds.storage.database import MIGRATIONS
from tests.legacy import insert_source_0006
from tests.render_fixtures import FULL_ITEM, sample_view

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
SOURCE = Source(id="s", name="S", url="https://s.example/feed", interval=timedelta(hours=1))
FEED = ParsedFeed(url=SOURCE.url, title="S", link=None, version="rss20", entries=())
TRIAL_TEXT = (
    "<p>The RECOVERY trial (ISRCTN50189673, NCT04381936) reported in NEJM "
    '(<a href="https://doi.org/10.1056/NEJMoa2021436">doi:10.1056/NEJMoa2021436</a>; '
    "PMID: 32678530).</p>"
)


def entry(entry_id: str, summary: str, links: tuple[str, ...] = ()) -> ParsedEntry:
    return ParsedEntry(
        entry_id=entry_id,
        title="Dexamethasone in hospitalized patients with Covid-19",
        link=f"https://s.example/{entry_id}",
        links=links,
        summary_html=summary,
        content_html="",
        published=NOW - timedelta(days=1),
        updated=None,
        authors=(),
        categories=(),
        enclosures=(),
    )


def normalized(entry_id: str, summary: str, links: tuple[str, ...] = ()) -> Article:
    return normalize_entry(entry(entry_id, summary, links), SOURCE, FEED, now=NOW, first_seen=NOW)


@pytest.fixture
def storage(backend_storage: Storage) -> Storage:
    """Studies are part of the storage contract: these tests run on SQLite and PostgreSQL."""
    return backend_storage


def store(storage: Storage, *batch: Article) -> None:
    storage.sync_sources([SOURCE], NOW)
    (health,) = storage.source_health()
    storage.record_update(health, list(batch), NOW)


# --- normalize ----------------------------------------------------------------------------


def test_normalize_finds_every_study_in_text_and_links_and_keeps_dois_consistent() -> None:
    article = normalized("a", TRIAL_TEXT, links=("https://pubmed.ncbi.nlm.nih.gov/32678530/",))
    # Links come first (they are the entry's own metadata), then the text in reading order.
    assert [s.key for s in article.studies] == [
        "pmid:32678530",
        "isrctn:ISRCTN50189673",
        "nct:NCT04381936",
        "doi:10.1056/nejmoa2021436",
    ]
    assert article.dois == ("10.1056/nejmoa2021436",)


def test_doi_only_studies_leave_the_content_hash_as_it_was_before_studies_existed() -> None:
    article = normalized("a", '<a href="https://doi.org/10.1056/NEJMoa2021436">paper</a>')
    assert article.studies
    assert content_hash(replace(article, studies=())) == article.content_hash
    with_trial = replace(article, studies=(*article.studies, StudyId("nct", "NCT04381936")))
    assert content_hash(with_trial) != article.content_hash


# --- storage ------------------------------------------------------------------------------


def test_studies_round_trip_in_order(storage: Storage) -> None:
    article = normalized("a", TRIAL_TEXT)
    store(storage, article)
    (stored,) = storage.recent_articles()
    assert stored.studies == article.studies
    assert storage.query_articles(ArticleQuery()) == (stored,)


def test_the_study_filter_selects_only_articles_citing_that_study(storage: Storage) -> None:
    trial, other, plain = (
        normalized("a", TRIAL_TEXT),
        normalized("b", "See NCT02348216 and PMID: 32678530."),
        normalized("c", "No study at all."),
    )
    store(storage, trial, other, plain)

    def ids(*keys: str) -> set[str]:
        return {a.id for a in storage.query_articles(ArticleQuery(studies=keys))}

    assert ids("nct:NCT04381936") == {trial.id}
    assert ids("pmid:32678530") == {trial.id, other.id}
    assert ids("nct:NCT04381936", "nct:NCT02348216") == {trial.id, other.id}
    assert ids("doi:10.1000/nobody") == set()


def test_an_edited_article_gets_exactly_its_new_studies(storage: Storage) -> None:
    store(storage, normalized("a", TRIAL_TEXT))
    store(storage, normalized("a", "Now only arXiv:1706.03762v7 is cited."))
    (stored,) = storage.recent_articles()
    assert [s.key for s in stored.studies] == ["arxiv:1706.03762"]
    assert storage.query_articles(ArticleQuery(studies=("nct:NCT04381936",))) == ()


def test_migration_0007_fills_studies_from_stored_text_and_dois(tmp_path: Path) -> None:
    storage = Storage.open(f"sqlite:///{tmp_path / 'old.db'}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with storage.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0006")
    stored_dois = ["10.1056/nejmoa2021436", "10.1101/2020.04.14.20062463v1"]
    with storage.engine.begin() as connection:
        insert_source_0006(connection, "s", NOW)
        connection.execute(
            text(
                "INSERT INTO articles (id, source_id, entry_id, url, title, summary,"
                " content_html, published_at, first_seen_at, changed_at, authors, categories,"
                " enclosures, dois, content_hash) VALUES (:id, 's', 'a', :url, :title, '',"
                " :content, :now, :now, :now, '[]', '[]', '[]', :dois, 'h')"
            ),
            {
                "id": article_id("s", "a"),
                "url": "https://s.example/a",
                "title": "RECOVERY: dexamethasone (NCT04381936)",
                "content": "<p>Registered as ISRCTN50189673.</p>",
                "now": NOW.replace(tzinfo=None),
                "dois": json.dumps(stored_dois),
            },
        )
    storage.migrate()
    (article,) = storage.recent_articles()
    assert [s.key for s in article.studies] == [
        "nct:NCT04381936",
        "isrctn:ISRCTN50189673",
        "doi:10.1056/nejmoa2021436",
        "doi:10.1101/2020.04.14.20062463",
    ]
    # dois now agrees with the studies (the preprint's version suffix is not part of it).
    assert article.dois == ("10.1056/nejmoa2021436", "10.1101/2020.04.14.20062463")
    storage.close()


# --- rendering ----------------------------------------------------------------------------

TRIAL_STUDIES = tuple(find_studies([TRIAL_TEXT, "arXiv:1706.03762"]))
STUDY_ITEM = replace(FULL_ITEM, studies=TRIAL_STUDIES, dois=("10.1056/nejmoa2021436",))


def study_view_body(fmt: str) -> bytes:
    return render(replace(sample_view(), items=(STUDY_ITEM,)), fmt).body


def test_atom_links_every_study_as_related_with_its_id_as_title() -> None:
    (parsed,) = feedparser.parse(study_view_body("atom")).entries
    related = [(link.href, link.title) for link in parsed.links if link.rel == "related"]
    assert related == [(s.url, s.label) for s in TRIAL_STUDIES]
    assert ("https://clinicaltrials.gov/study/NCT04381936", "ClinicalTrials.gov NCT04381936") in (
        related
    )


def test_rss_writes_every_study_as_a_category_in_its_resolvers_domain() -> None:
    (parsed,) = feedparser.parse(study_view_body("rss")).entries
    categories = {(t.scheme, t.term) for t in parsed.tags}
    assert {
        ("https://doi.org/", "10.1056/nejmoa2021436"),
        ("https://pubmed.ncbi.nlm.nih.gov/", "32678530"),
        ("https://clinicaltrials.gov/study/", "NCT04381936"),
        ("https://www.isrctn.com/", "ISRCTN50189673"),
        ("https://arxiv.org/abs/", "1706.03762"),
    } <= categories


def test_json_feed_lists_studies_with_scheme_url_and_preprint_flag() -> None:
    (item,) = json.loads(study_view_body("json"))["items"]
    studies = item["_feeds"]["studies"]
    assert [s["id"] for s in studies] == [s.key for s in TRIAL_STUDIES]
    assert {"id": "arxiv:1706.03762", "scheme": "arxiv"}.items() <= studies[-1].items()
    assert studies[-1]["url"] == "https://arxiv.org/abs/1706.03762"
    assert [s["preprint"] for s in studies] == [False, False, False, False, True]


def test_a_doi_given_only_in_dois_is_still_shown_once() -> None:
    item = replace(STUDY_ITEM, dois=("10.1056/nejmoa2021436", "10.1000/extra"))
    keys = [s.key for s in item.cited]
    assert keys.count("doi:10.1056/nejmoa2021436") == 1
    assert keys[-1] == "doi:10.1000/extra"
