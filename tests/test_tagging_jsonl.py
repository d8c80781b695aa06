"""Tagging a stream of JSON Lines: in order, lazily, stopping at the first bad line."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from feeds.config import TopicSettings
from feeds.tagging.jsonl import BadLine, TaggedLine, tag_json_lines
from feeds.tagging.rules import CompiledRules, compile_rules


@pytest.fixture(scope="module")
def rules() -> CompiledRules:
    return compile_rules((TopicSettings(slug="measles", title="Measles", terms=("measles",)),))


def test_lines_are_tagged_in_order_and_blank_lines_are_skipped(rules: CompiledRules) -> None:
    lines = ['{"id": 1, "title": "Measles returns"}\n', "\n", '{"id": "b", "summary": "rain"}\n']
    results = list(tag_json_lines(lines, rules))
    assert all(isinstance(r, TaggedLine) for r in results)
    assert [(r.number, r.item_id) for r in results if isinstance(r, TaggedLine)] == [
        (1, 1),
        (3, "b"),
    ]
    first = results[0]
    assert isinstance(first, TaggedLine)
    assert [t.topic for t in first.tags] == ["measles"]


@pytest.mark.parametrize(
    ("bad", "reason"),
    [("[1, 2]", "not an object"), ("not json", "Expecting value")],
)
def test_a_line_that_is_not_an_object_ends_the_stream(
    rules: CompiledRules, bad: str, reason: str
) -> None:
    lines = ['{"title": "measles"}', bad, '{"title": "never read"}']
    *good, last = tag_json_lines(lines, rules)
    assert len(good) == 1
    assert isinstance(last, BadLine)
    assert last.number == 2
    assert reason in last.reason


def test_the_stream_is_read_one_line_at_a_time(rules: CompiledRules) -> None:
    read: list[int] = []

    def lines() -> Iterator[str]:
        for number in range(1, 1000):
            read.append(number)
            yield '{"title": "measles"}'

    results = tag_json_lines(lines(), rules)
    next(results)
    next(results)
    assert read == [1, 2]
