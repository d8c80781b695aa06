"""The bundled offline samples: the first run shows real content with no network."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from feeds.config import Settings, load_settings
from feeds.models import SourceStatus, UpdateSummary
from feeds.storage import Storage
from feeds.update import update

REPO = Path(__file__).parent.parent


@pytest.fixture
def samples(storage: Storage) -> tuple[Settings, UpdateSummary]:
    """The shipped config, and the update of its bundled sample sources into ``storage``."""
    settings = load_settings(REPO / "config.yaml")
    sample_ids = [s.id for s in settings.sources if s.url.startswith("file:")]
    return settings, asyncio.run(update(settings, storage, only=sample_ids))


def test_shipped_samples_load_offline_into_at_least_40_articles(
    storage: Storage, samples: tuple[Settings, UpdateSummary]
) -> None:
    settings, summary = samples
    sample_ids = [s.id for s in settings.sources if s.url.startswith("file:")]
    assert len(sample_ids) >= 4
    assert all(r.status is SourceStatus.OK and not r.warnings for r in summary.sources)
    assert sum(r.counts.new for r in summary.sources) >= 40
    articles = storage.recent_articles(limit=1000)
    assert len({a.source_id for a in articles}) == len(sample_ids)
    assert all(a.url and a.url.startswith("https://samples.feeds.example/") for a in articles)
    assert all(a.title and a.summary for a in articles)


def test_samples_cover_the_formats_and_the_legacy_encoding(
    storage: Storage, samples: tuple[Settings, UpdateSummary]
) -> None:
    settings, _ = samples
    text = " ".join(a.title + " " + a.summary for a in storage.recent_articles(limit=1000))
    assert "â€" not in text
    assert "\ufffd" not in text
    suffixes = {Path(s.url).suffix for s in settings.sources if s.url.startswith("file:")}
    assert suffixes >= {".rss", ".atom", ".rdf"}


def test_the_car_t_lupus_remission_paper_is_covered_by_several_sample_outlets(
    storage: Storage, samples: tuple[Settings, UpdateSummary]
) -> None:
    outlets = {
        a.source_id
        for a in storage.recent_articles(limit=1000)
        if "10.1038/s41591-022-02017-5" in a.dois
    }
    assert len(outlets) >= 3


def test_sample_traps_stay_out_of_lupus_and_car_t_and_the_real_stories_are_in(
    storage: Storage, samples: tuple[Settings, UpdateSummary]
) -> None:
    by_title = {a.title: {t.topic for t in a.topics} for a in storage.recent_articles(limit=1000)}
    traps = [
        title
        for title in by_title
        if any(
            word in title.lower()
            for word in ("lupus vulgaris", "anticoagulant", "wolf", "sle and west nile", "cart")
        )
    ]
    assert len(traps) >= 6
    for title in traps:
        assert not by_title[title] & {"lupus", "car-t"}, title
    paper = [t for t, topics in by_title.items() if {"lupus", "car-t"} <= topics]
    assert len(paper) >= 4
