"""What the commands print, from result values: text lines, JSON and the tables' words."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from feeds.config import TopicSettings
from feeds.models import iso
from feeds.reporting import (
    counted,
    mesh_hit_lines,
    mesh_hits_json,
    prune_line,
    retag_lines,
    tag_lines,
    tags_json,
)
from feeds.retag import RetagReport, TopicChange
from feeds.retention import PruneReport
from feeds.storage.mesh import MeshHit
from feeds.tagging.matcher import TagInput, explain
from feeds.tagging.rules import CompiledRules, compile_rules


@pytest.fixture(scope="module")
def rules() -> CompiledRules:
    return compile_rules(
        (
            TopicSettings(slug="lupus", title="Lupus", terms=("lupus",), acronyms=("SLE",)),
            TopicSettings(slug="kidney", title="Kidney", terms=("kidney",)),
        )
    )


def test_iso_writes_utc_with_an_upper_case_z() -> None:
    two_hours_east = datetime(2024, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    assert iso(two_hours_east) == "2024-01-02T03:04:05Z"
    assert iso(None) is None


def test_tag_lines_say_no_topic_when_nothing_matched(rules: CompiledRules) -> None:
    assert list(tag_lines(explain(TagInput(title="weather report"), rules))) == ["no topic"]


def test_tag_lines_show_each_match_under_its_topic(rules: CompiledRules) -> None:
    explained = explain(TagInput(title="Lupus (SLE) and the kidney"), rules)
    lines = list(tag_lines(explained))
    headers = [line for line in lines if not line.startswith("  ")]
    assert [h.split()[0] for h in headers] == [e.tag.topic for e in explained]
    assert len(lines) == len(explained) + sum(len(e.tag.matches) for e in explained)
    assert "  +3   term       'lupus' at title 0-5" in lines
    assert "  +0.5 acronym    'SLE' at title 7-10" in lines  # a repeat in the same place


def test_tags_json_carries_the_id_and_every_match(rules: CompiledRules) -> None:
    explained = explain(TagInput(title="Lupus nephritis harms the kidney"), rules)
    out = json.loads(json.dumps(tags_json({"any": "id"}, explained)))
    assert out["id"] == {"any": "id"}
    assert out["topics"] == [e.tag.topic for e in explained]
    assert len(out["matches"]) == sum(len(e.tag.matches) for e in explained)


def test_retag_lines_word_a_dry_run_as_would_change() -> None:
    report = RetagReport(
        articles=3,
        changed=1,
        topics={"lupus": TopicChange(added=1, added_examples=["SLE flares"])},
        dry_run=True,
    )
    assert list(retag_lines(report, dry_run=True)) == [
        "3 articles retagged; 1 would change topics",
        "lupus: +1 -0",
        "  + SLE flares",
    ]
    assert next(retag_lines(report, dry_run=False)).endswith("1 changed topics")


def test_prune_line_counts_freed_pages_only_when_it_deleted() -> None:
    cutoff = datetime(2020, 1, 1, tzinfo=UTC)
    report = PruneReport(cutoff, 5, 9, 1, False, "incremental", 12)
    assert prune_line(report, dry_run=False) == (
        "deleted 5 articles (9 topic tags) published before 2020-01-01T00:00:00Z; freed 12 pages"
    )
    assert prune_line(report, dry_run=True).startswith("would delete 5 articles")
    assert "freed" not in prune_line(report, dry_run=True)


def test_counted_keeps_the_order_of_the_tables() -> None:
    assert counted({"sources": 2, "articles": 30}) == "2 sources, 30 articles"


def test_mesh_hits_name_the_entry_term_that_matched() -> None:
    hits = [
        MeshHit(ui="D006333", heading="Heart Failure", term="Heart Failure"),
        MeshHit(ui="D009203", heading="Myocardial Infarction", term="Heart Attack"),
    ]
    assert list(mesh_hit_lines(hits)) == [
        "D006333  Heart Failure",
        "D009203  Myocardial Infarction  (via 'Heart Attack')",
    ]
    assert list(mesh_hit_lines([])) == ["no descriptor found"]
    assert json.loads(mesh_hits_json(hits))[1]["term"] == "Heart Attack"
