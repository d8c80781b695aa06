"""Loading and validating config.yaml."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from feeds.config import load_settings, parse_duration, parse_settings
from feeds.config.problems import document_lines
from feeds.errors import ConfigError

REPO = Path(__file__).parent.parent

THREE_MISTAKES = """\
site:
  title: Health News
  base_url: localhost:8000
fetch:
  interval: soon
sources:
  - id: ok-source
    name: OK
    url: https://example.org/feed.xml
  - id: bad-source
    name: Bad
    url: ftp://example.org/feed.xml
"""


def problems_of(text: str, tmp_path: Path) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, tmp_path / "config.yaml")
    return caught.value.problems


def test_shipped_config_is_valid() -> None:
    settings = load_settings(REPO / "config.yaml")
    assert 15 <= sum(1 for s in settings.sources if s.url.startswith("https://")) <= 25
    assert {t.slug for t in settings.topics} >= {"lupus", "car-t", "autoimmune", "oncology"}


def test_every_problem_is_reported_at_once_with_its_line(tmp_path: Path) -> None:
    problems = problems_of(THREE_MISTAKES, tmp_path)
    name = tmp_path / "config.yaml"
    assert problems == (
        f"{name}:3: site.base_url: not an http(s) URL",
        f"{name}:5: fetch.interval: 'soon' is not a duration (use for example 30m, 1h or 2d)",
        f"{name}:12: sources[1].url: not an http(s) URL or file path",
    )


def test_cross_entry_problems_point_at_the_offending_entry(tmp_path: Path) -> None:
    text = """\
topics:
  - {slug: lupus, title: Lupus}
sources:
  - {id: a, name: A, url: https://a.example/feed}
  - {id: a, name: B, url: https://b.example/feed, topics: [lupus, nope]}
"""
    assert [p.split(": ", 1)[1] for p in problems_of(text, tmp_path)] == [
        "sources[1].id: duplicate source id 'a'",
        "sources[1].topics[1]: unknown topic 'nope'",
    ]


def test_unknown_keys_and_missing_fields_are_errors(tmp_path: Path) -> None:
    text = "sources:\n  - id: a\n    url: https://a.example/feed\n    intervall: 1h\n"
    problems = problems_of(text, tmp_path)
    assert any(p.endswith(":4: sources[0].intervall: unknown key") for p in problems)
    assert any(p.endswith(":2: sources[0].name: required") for p in problems)


def test_invalid_yaml_is_reported_with_its_line(tmp_path: Path) -> None:
    (problem,) = problems_of("sources:\n  - id: [unclosed\n", tmp_path)
    assert problem.startswith(f"{tmp_path / 'config.yaml'}:3: yaml:")


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    text = "database: sqlite:///db/feeds.db\nsources:\n  - {id: s, name: S, url: samples/a.xml}\n"
    settings = parse_settings(text, tmp_path / "config.yaml")
    assert settings.database == f"sqlite:///{tmp_path / 'db' / 'feeds.db'}"
    assert settings.sources[0].url == (tmp_path / "samples" / "a.xml").as_uri()


def test_database_url_from_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEEDS_DATABASE_URL", "postgresql+psycopg://db.example/feeds")
    settings = parse_settings("database: sqlite:///x.db\n", tmp_path / "config.yaml")
    assert settings.database == "postgresql+psycopg://db.example/feeds"


def test_config_path_defaults_to_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "elsewhere.yaml"
    path.write_text("site: {title: From env}\n", encoding="utf-8")
    monkeypatch.setenv("FEEDS_CONFIG", str(path))
    assert load_settings().site.title == "From env"


def test_default_interval_applies_to_sources_without_one(tmp_path: Path) -> None:
    text = "fetch: {interval: 2h}\nsources:\n  - {id: s, name: S, url: https://s.example/f}\n"
    (source,) = parse_settings(text, tmp_path / "config.yaml").source_models()
    assert source.interval == timedelta(hours=2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (90, timedelta(seconds=90)),
        ("45s", timedelta(seconds=45)),
        ("30m", timedelta(minutes=30)),
        ("1h30m", timedelta(minutes=90)),
        ("2d", timedelta(days=2)),
        ("1w", timedelta(weeks=1)),
        ("1.5h", timedelta(minutes=90)),
    ],
)
def test_durations_are_read_in_human_units(text: object, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "soon", "10 parsecs", "-5m", "0s", True, [1]])
def test_bad_durations_are_refused(text: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_the_all_topic_slug_is_reserved(tmp_path: Path) -> None:
    (problem,) = problems_of("topics:\n  - {slug: all, title: Everything}\n", tmp_path)
    assert problem.endswith(":2: topics[0].slug: 'all' is reserved (/feeds/all.rss is every topic)")


def test_a_lease_that_a_fetch_could_outlast_is_refused_with_its_line(tmp_path: Path) -> None:
    text = "fetch:\n  deadline: 60\n  concurrency: 8\n  per_host: 2\n  lease: 3m\n"
    (problem,) = problems_of(text, tmp_path)
    assert problem.endswith(
        ":1: fetch: lease (180 s) must outlast the longest a claimed fetch can take (244 s: "
        "ceil(concurrency / per_host) × deadline + concurrency × host_spacing)"
    )
    ok = parse_settings(text.replace("3m", "5m"), tmp_path / "config.yaml")
    assert ok.fetch.lease == timedelta(minutes=5)


def test_metrics_networks_are_read_and_a_bad_one_is_refused_with_its_line(
    tmp_path: Path,
) -> None:
    text = "web:\n  metrics_networks:\n    - 10.1.0.0/16\n    - 10.1.2.3/8\n"
    (problem,) = problems_of(text, tmp_path)
    assert ":4: web.metrics_networks[1]: " in problem
    assert "not a valid IPv4 or IPv6 network" in problem
    ok = parse_settings(text.replace("10.1.2.3/8", "fd00::/8"), tmp_path / "config.yaml")
    assert [str(n) for n in ok.web.metrics_networks] == ["10.1.0.0/16", "fd00::/8"]


def test_context_unless_and_alone_rules_must_name_a_term_of_their_topic(tmp_path: Path) -> None:
    text = """\
topics:
  - slug: lupus
    title: Lupus
    terms: [lupus]
    acronyms: [SLE]
    context: {SLE: [lupus], wolf: [pack]}
    unless: {lupus: [canine], Lupus: [veterinar], SLE: [mosquito], CAR-T: [macrophage]}
    alone: {lupus: [kidney], Lupus nephritis: []}
"""
    assert [p.split(": ", 1)[1] for p in problems_of(text, tmp_path)] == [
        "topics[0].context.wolf: not one of this topic's terms or acronyms",
        "topics[0].unless.CAR-T: not one of this topic's terms or acronyms",
        "topics[0].alone.Lupus nephritis: not one of this topic's terms or acronyms",
    ]


def test_topic_phrases_that_could_never_match_as_written_are_problems_with_their_line(
    tmp_path: Path,
) -> None:
    text = """\
topics:
  - slug: lupus
    title: Lupus
    terms: [lupus, "!!!", "\u200b"]
    acronyms: [SLE, sle]
    exclude: [lupus vulgaris, Lupus]
"""
    found = [p.split(": ", 1)[1] for p in problems_of(text, tmp_path)]
    assert found == [
        "topics[0].terms[1]: '!!!' has no letter or digit, so it can never match",
        "topics[0].terms[2]: '\\u200b' has no letter or digit, so it can never match",
        "topics[0].acronyms[1]: 'sle' has no capital letter: acronyms match in the exact case "
        "written, so list it under terms",
        "topics[0].exclude[1]: 'Lupus' is also a term of this topic: it would veto every "
        "match of it",
    ]


def test_a_word_ending_that_would_match_too_much_is_a_problem_with_its_line(
    tmp_path: Path,
) -> None:
    text = """\
topics:
  - slug: car-t
    title: CAR-T
    terms: [-cabtagene, -gene, -cab tagene]
"""
    found = [p.split(": ", 1) for p in problems_of(text, tmp_path)]
    assert [line.rsplit(":", 1)[1] for line, _ in found] == ["4", "4"]
    assert [reason for _, reason in found] == [
        f"topics[0].terms[{n}]: {term!r} starts with a hyphen, so it is a word ending: it "
        "must be one word of at least 5 letters (or it would match too many words)"
        for n, term in ((1, "-gene"), (2, "-cab tagene"))
    ]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (".inf", "inf is longer than 100 years (36500d)"),
        ("99999999999d", "'99999999999d' is longer than 100 years (36500d)"),
        ("5300w", "'5300w' is longer than 100 years (36500d)"),
        (".nan", "not a duration (use for example 30m, 1h or 2d)"),
    ],
)
def test_a_duration_too_long_to_compute_is_a_problem_with_its_line(
    tmp_path: Path, value: str, reason: str
) -> None:
    # timedelta overflowed (an OverflowError traceback), and one just inside its range made
    # `feeds update` overflow later, adding it to now.
    (problem,) = problems_of(f"site:\n  title: T\nfetch:\n  interval: {value}\n", tmp_path)
    assert problem.endswith(f":4: fetch.interval: {reason}")
    assert parse_duration("36500d") == timedelta(days=36500)


def test_a_recursive_yaml_alias_is_a_problem_with_its_line(tmp_path: Path) -> None:
    # Mapping every path to its line followed the alias into itself: a RecursionError.
    text = "site:\n  title: T\nweb: &loop\n  rate_limit: *loop\n"
    problems = problems_of(text, tmp_path)
    assert any(":3: web" in p or ":4: web" in p for p in problems), problems


def test_a_yaml_alias_bomb_is_mapped_to_lines_without_walking_every_copy(
    tmp_path: Path,
) -> None:
    # Seven levels of ten aliases are 10^7 paths; every aliased node is mapped once.
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 7)]
    text = "\n".join(levels) + "\n"
    assert len(document_lines(yaml.compose(text, Loader=yaml.SafeLoader))) < 200
    problems = problems_of(text, tmp_path)
    assert problems[0].endswith(":1: a0: unknown key")


def test_a_key_given_twice_in_one_mapping_is_a_problem_on_both_lines(tmp_path: Path) -> None:
    # YAML keeps the last one silently: a second `topics:` list dropped the whole first one.
    text = "topics:\n  - {slug: lupus, title: Lupus}\nsite:\n  title: T\ntopics: []\n"
    (problem,) = problems_of(text, tmp_path)
    assert problem.endswith(":5: topics: given twice in one mapping (also on line 1)")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://xn--a.example/feed", "not a valid host name"),
        ("http://example.org:99999/feed", "port"),
        ("'http://exa mple.org/feed'", "space or control character"),
        ('"http://example.org/\\x01"', "space or control character"),
    ],
)
def test_a_source_url_the_fetcher_could_not_request_is_a_problem_with_its_line(
    tmp_path: Path, url: str, reason: str
) -> None:
    text = f"sources:\n  - id: a\n    name: A\n    url: {url}\n"
    (problem,) = problems_of(text, tmp_path)
    assert ":4: sources[0].url: " in problem
    assert reason in problem


@pytest.mark.parametrize(
    ("section", "where"),
    [
        ("site:\n  base_url: http://exämple.org", "site.base_url"),
        ('fetch:\n  user_agent: "feeds é"', "fetch.user_agent"),
        ('fetch:\n  user_agent: "feeds\\r\\nX-Evil: 1"', "fetch.user_agent"),
    ],
)
def test_a_base_url_or_user_agent_that_cannot_be_an_http_header_is_refused(
    tmp_path: Path, section: str, where: str
) -> None:
    # Both go into the User-Agent header, which httpx encodes as ASCII: the first fetch of
    # `feeds update` ended with a UnicodeEncodeError.
    (problem,) = problems_of(section + "\n", tmp_path)
    assert f":2: {where}: " in problem
    assert "ASCII" in problem


def test_a_bad_database_url_from_the_environment_is_blamed_on_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEEDS_DATABASE_URL", "::::")
    (problem,) = problems_of("site:\n  title: T\ndatabase: sqlite:///feeds.db\n", tmp_path)
    assert problem == (
        "FEEDS_DATABASE_URL: not a database URL (for example sqlite:///data/feeds.db)"
    )


def test_a_control_character_in_the_file_is_a_problem_on_its_own_line(tmp_path: Path) -> None:
    # YAML's reader error has no line mark: it was reported on line 1, over two lines.
    (problem,) = problems_of("site:\n  title: T\n  base_url: \x00\n", tmp_path)
    assert problem == (
        f"{tmp_path / 'config.yaml'}:3: yaml: unacceptable character #x0000: "
        "special characters are not allowed"
    )
