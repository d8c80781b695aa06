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
    lines = ['{"id": "a", "title": "Measles returns"}\n', "\n", '{"summary": "rain"}\n']
    results = list(tag_json_lines(lines, rules))
    assert all(isinstance(r, TaggedLine) for r in results)
    assert [(r.number, r.item_id) for r in results if isinstance(r, TaggedLine)] == [
        (1, "a"),
        (3, None),
    ]
    first = results[0]
    assert isinstance(first, TaggedLine)
    assert [e.tag.topic for e in first.explained] == ["measles"]


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


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ('{"id": 7, "title": "measles"}', '"id" must be a string, not a number'),
        ('{"id": "a", "title": ["measles"]}', '"title" must be a string, not an array'),
        ('{"id": "a", "summary": 3.5}', '"summary" must be a string, not a number'),
        ('{"id": true}', '"id" must be a string, not a boolean'),
        ('{"title": {"text": "measles"}}', '"title" must be a string, not an object'),
    ],
)
def test_a_field_that_is_not_a_string_ends_the_stream_naming_the_field(
    rules: CompiledRules, bad: str, reason: str
) -> None:
    lines = ['{"title": "measles"}', bad, '{"title": "never read"}']
    *good, last = tag_json_lines(lines, rules)
    assert len(good) == 1
    assert last == BadLine(2, reason)


def test_null_fields_count_as_absent(rules: CompiledRules) -> None:
    (result,) = tag_json_lines(['{"id": null, "title": null, "summary": "measles"}'], rules)
    assert isinstance(result, TaggedLine)
    assert result.item_id is None
    assert [e.tag.topic for e in result.explained] == ["measles"]


def test_a_deeply_nested_line_is_a_bad_line_not_a_crash(rules: CompiledRules) -> None:
    nested = '{"title": "measles", "extra": ' + "[" * 100_000 + "]" * 100_000 + "}"
    *good, last = tag_json_lines(['{"title": "measles"}', nested], rules)
    assert len(good) == 1
    assert isinstance(last, BadLine)
    assert last.number == 2
    assert "nested too deeply" in last.reason


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
