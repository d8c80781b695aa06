"""Load ``config.yaml`` into frozen, validated settings, reporting every problem with its line.

What it does: parse YAML, validate it with pydantic (types, ranges, URLs, durations), run the
checks that span several entries (unique ids, known topic slugs), resolve relative paths
against the config file's folder, and apply ``FEEDS_DATABASE_URL``. On any problem it raises
one ``ConfigError`` listing all of them as ``FILE:LINE: location: message``.

What it does not do: read the database or the network, or compile topic rules (the tagging
package does that from ``Settings.topics``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from feeds import __version__
from feeds.errors import ConfigError
from feeds.models import Source
from feeds.stories import StoryPolicy

CONFIG_ENV = "FEEDS_CONFIG"
DATABASE_ENV = "FEEDS_DATABASE_URL"
DEFAULT_CONFIG = "config.yaml"

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(w|d|h|m|s)")
_UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
RESERVED_SLUGS = frozenset({"all"})  # topic slugs the web routes use for themselves


def parse_duration(value: object) -> timedelta:
    """Read ``90``, ``"45s"``, ``"30m"``, ``"1h30m"``, ``"2d"`` or ``"1w"`` as a duration."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("not a duration (use for example 30m, 1h or 2d)")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        parts = list(_DURATION_PART.finditer(text))
        if not parts or "".join(p.group(0) for p in parts) != text:
            raise ValueError(f"{value!r} is not a duration (use for example 30m, 1h or 2d)")
        seconds = sum(float(p.group(1)) * _UNIT_SECONDS[p.group(2)] for p in parts)
    else:
        raise ValueError("not a duration (use for example 30m, 1h or 2d)")
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    return timedelta(seconds=seconds)


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Slug = Annotated[str, Field(pattern=_SLUG, max_length=64)]
Phrase = Annotated[str, Field(min_length=1, max_length=200)]
MeshUI = Annotated[str, Field(pattern=r"^D\d{6}(\d{3})?$")]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class SiteSettings(_Frozen):
    """``site:`` — how the service names and locates itself."""

    title: str = Field("Health News Feeds", min_length=1)
    base_url: str = "http://localhost:8000"

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("not an http(s) URL")
        return value.rstrip("/")


class FetchSettings(_Frozen):
    """``fetch:`` — how sources are fetched."""

    user_agent: str | None = None  # default: "feeds/VERSION (+base_url)"
    timeout: float = Field(20.0, gt=0, le=600)  # seconds, per connect and per read
    deadline: float = Field(120.0, gt=0, le=3600)  # seconds for a whole request
    max_bytes: int = Field(10_000_000, ge=1024)  # body limit, after decompression
    max_items: int = Field(1000, ge=1, le=100_000)  # entries kept per fetch, the newest
    concurrency: int = Field(8, ge=1, le=256)  # fetches in flight at once
    per_host: int = Field(2, ge=1, le=64)  # fetches in flight to one host at once
    host_spacing: float = Field(0.5, ge=0, le=60)  # seconds between request starts to one host
    max_redirects: int = Field(5, ge=0, le=20)
    interval: Duration = timedelta(minutes=30)  # default time between checks of a source
    min_interval: Duration = timedelta(minutes=5)  # floor of every delay, whatever headers say
    max_interval: Duration = timedelta(hours=24)  # cap of every delay, backoff included
    backoff_base: Duration = timedelta(minutes=10)  # delay after a first failure, then doubled
    failing_after: int = Field(10, ge=1, le=1000)  # failures before checking only at the cap
    lease: Duration = timedelta(minutes=10)  # a claimed source is this worker's for this long

    @model_validator(mode="after")
    def _lease_outlasts_a_fetch(self) -> FetchSettings:
        # A lease that can run out before its fetch ends would let a second worker fetch the
        # same source (storage.claims). A claimed source may first wait for this process's
        # other fetches to its host (per_host at a time, host_spacing apart), then run for
        # up to deadline: the lease must cover that worst case.
        rounds = -(-self.concurrency // self.per_host)  # ceil
        longest = rounds * self.deadline + self.concurrency * self.host_spacing
        lease = self.lease.total_seconds()
        if lease <= longest:
            raise ValueError(
                f"lease ({lease:g} s) must outlast the longest a claimed fetch can take "
                f"({longest:g} s: ceil(concurrency / per_host) × deadline + concurrency × "
                "host_spacing)"
            )
        return self


class RateLimitSettings(_Frozen):
    """``web.rate_limit:`` — a token bucket per client address on ``/api/`` (429 when empty)."""

    enabled: bool = True
    per_minute: float = Field(120.0, gt=0, le=1_000_000)  # sustained requests per client
    burst: int = Field(30, ge=1, le=100_000)  # requests a client may make at once
    loopback: bool = False  # also limit clients on 127.0.0.0/8 and ::1 (local tools, tests)


class WebSettings(_Frozen):
    """``web:`` — how feeds and pages are served."""

    max_age: Duration = timedelta(minutes=5)  # Cache-Control max-age of feeds and pages
    cors_origins: tuple[str, ...] = ("*",)  # origins allowed to read feeds and the API
    cache_mb: int = Field(64, ge=1, le=4096)  # memory for rendered bodies (plain + gzip)
    page_size: int = Field(50, ge=1, le=200)  # items per feed when no limit= is given
    max_query_length: int = Field(2048, ge=256, le=65536)  # bytes of query string, else 414
    rate_limit: RateLimitSettings = RateLimitSettings()
    collapse: Literal["stories", "none"] = "stories"  # feeds: one item per story, or all


class StorySettings(_Frozen):
    """``stories:`` — when two articles are one story, and which one a feed shows."""

    window: Duration = timedelta(days=7)  # farthest apart two articles of one story can be
    threshold: float = Field(62.0, ge=1, le=100)  # rapidfuzz text score that makes one story
    source_priority: tuple[Slug, ...] = ()  # source ids, most authoritative first

    def policy(self) -> StoryPolicy:
        """The clustering policy these settings describe."""
        return StoryPolicy(window=self.window, threshold=self.threshold)


class SourceSettings(_Frozen):
    """One entry of ``sources:``."""

    id: Slug
    name: str = Field(min_length=1)
    url: str
    interval: Duration | None = None
    topics: tuple[Slug, ...] = ()
    enabled: bool = True
    allow_private: bool = False  # may fetch from loopback, private and link-local addresses

    @field_validator("url")
    @classmethod
    def _url_or_path(cls, value: str, info: ValidationInfo) -> str:
        base_dir = Path((info.context or {}).get("base_dir", "."))
        return resolve_source_url(value, base_dir)


class TopicSettings(_Frozen):
    """One entry of ``topics:``; the rule language is specified in ``feeds.tagging.rules``."""

    slug: Slug
    title: str = Field(min_length=1)
    description: str = ""
    terms: tuple[Phrase, ...] = ()  # case-insensitive phrases
    acronyms: tuple[Phrase, ...] = ()  # exact-case words
    exclude: tuple[Phrase, ...] = ()  # phrases that veto matches they overlap
    context: dict[Phrase, tuple[Phrase, ...]] = Field(default_factory=dict)  # term: needs one of
    mesh: tuple[MeshUI, ...] = ()  # MeSH descriptor UIs
    narrower: bool = False  # include descriptors below ``mesh`` in the MeSH tree
    parents: tuple[Slug, ...] = ()  # broader topics this one belongs to
    threshold: float | None = Field(None, gt=0)  # score needed; default tagging.threshold


class Settings(_Frozen):
    """The whole validated configuration."""

    site: SiteSettings = SiteSettings()
    database: str = "sqlite:///data/feeds.db"
    retention_days: int | None = Field(None, ge=1, le=36500)  # `feeds prune` default age
    fetch: FetchSettings = FetchSettings()
    web: WebSettings = WebSettings()
    stories: StorySettings = StorySettings()
    sources: tuple[SourceSettings, ...] = ()
    topics: tuple[TopicSettings, ...] = ()
    _path: Path | None = PrivateAttr(None)  # the file these settings were read from

    @property
    def path(self) -> Path | None:
        """The config file these settings came from (None when built in code)."""
        return self._path

    def problems(self, found: Sequence[tuple[tuple[Any, ...], str]]) -> tuple[str, ...]:
        """Format problems found after loading (by location) as ``FILE:LINE: where: what``."""
        if self._path is None:
            return tuple(f"{_format_loc(loc)}: {message}" for loc, message in found)
        return format_problems(self._path, self._path.read_text("utf-8"), found)

    @field_validator("database")
    @classmethod
    def _database_url(cls, value: str, info: ValidationInfo) -> str:
        base_dir = Path((info.context or {}).get("base_dir", "."))
        return resolve_database_url(value, base_dir)

    @property
    def user_agent(self) -> str:
        """The User-Agent sent with every request: names the project and this deployment."""
        return self.fetch.user_agent or f"feeds/{__version__} (+{self.site.base_url})"

    def source_models(self) -> tuple[Source, ...]:
        """The configured sources as pipeline values, with the default interval applied."""
        return tuple(
            Source(
                id=s.id,
                name=s.name,
                url=s.url,
                interval=s.interval or self.fetch.interval,
                topics=s.topics,
                enabled=s.enabled,
                allow_private=s.allow_private,
            )
            for s in self.sources
        )


def resolve_source_url(value: str, base_dir: Path) -> str:
    """An http(s) URL as given; a file path or file: URL as an absolute file: URL."""
    parts = urlsplit(value)
    if parts.scheme in ("http", "https"):
        if not parts.hostname:
            raise ValueError("not an http(s) URL or file path")
        return value
    if parts.scheme == "file":
        return Path(parts.path).resolve().as_uri()
    if parts.scheme and len(parts.scheme) > 1:  # "C:" is a drive letter, not a scheme
        raise ValueError("not an http(s) URL or file path")
    if not value.strip():
        raise ValueError("not an http(s) URL or file path")
    return (base_dir / value).resolve().as_uri()


def resolve_database_url(value: str, base_dir: Path) -> str:
    """Make a relative SQLite path absolute against ``base_dir``; check the URL's form."""
    try:
        url = make_url(value)
    except ArgumentError:
        raise ValueError("not a database URL (for example sqlite:///data/feeds.db)") from None
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            path = Path(database)
            if not path.is_absolute():
                url = url.set(database=str((base_dir / path).resolve()))
    return url.render_as_string(hide_password=False)


# --- loading ------------------------------------------------------------------------------


def default_config_path() -> Path:
    """``$FEEDS_CONFIG`` if set, else ``./config.yaml``."""
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


def load_settings(path: Path | None = None) -> Settings:
    """Read, validate and resolve the config file; raise ``ConfigError`` with every problem."""
    path = path or default_config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    return parse_settings(text, path)


def parse_settings(text: str, path: Path) -> Settings:
    """Validate config ``text`` that was read from ``path``."""
    name = str(path)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"{mark.line + 1}" if mark is not None else "1"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(
            f"{name} is not valid YAML", (f"{name}:{line}: yaml: {problem}",)
        ) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{name}: the top level must be a mapping", (f"{name}:1: not a mapping",))
    lines = dict(_node_lines(root, ())) if root is not None else {}
    env_database = os.environ.get(DATABASE_ENV)
    if env_database:
        data = {**data, "database": resolve_env_database(env_database)}

    problems: list[tuple[tuple[Any, ...], str]] = []
    settings: Settings | None = None
    try:
        settings = Settings.model_validate(data, context={"base_dir": path.resolve().parent})
    except ValidationError as exc:
        problems.extend((tuple(err["loc"]), _message(err)) for err in exc.errors())
    problems.extend(_cross_checks(data))
    if problems:
        formatted = _format(name, lines, problems)
        count = len(formatted)
        raise ConfigError(f"{name} has {count} problem{'s' if count != 1 else ''}", formatted)
    assert settings is not None
    settings._path = path
    return settings


def format_problems(
    path: Path, text: str, problems: Sequence[tuple[tuple[Any, ...], str]]
) -> tuple[str, ...]:
    """``FILE:LINE: location: message`` for each problem, by line, from the config text."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        root = None
    lines = dict(_node_lines(root, ())) if root is not None else {}
    return _format(str(path), lines, problems)


def _format(
    name: str,
    lines: Mapping[tuple[Any, ...], int],
    problems: Sequence[tuple[tuple[Any, ...], str]],
) -> tuple[str, ...]:
    return tuple(
        f"{name}:{_line_for(loc, lines)}: {_format_loc(loc)}: {message}"
        for loc, message in sorted(problems, key=lambda p: _line_for(p[0], lines))
    )


def resolve_env_database(value: str) -> str:
    """``FEEDS_DATABASE_URL``: a relative SQLite path is relative to the working directory."""
    try:
        return resolve_database_url(value, Path.cwd())
    except ValueError:
        return value  # reported by validation, with the same message as in the file


def _cross_checks(data: Mapping[str, Any]) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Checks that span entries; tolerant of entries that already failed validation."""
    topic_slugs: set[str] = set()
    parents: dict[str, list[str]] = {}
    for i, topic in enumerate(_mappings(data.get("topics"))):
        slug = topic.get("slug")
        if isinstance(slug, str):
            if slug in RESERVED_SLUGS:
                yield (
                    ("topics", i, "slug"),
                    f"{slug!r} is reserved (/feeds/{slug}.rss is every topic)",
                )
            if slug in topic_slugs:
                yield ("topics", i, "slug"), f"duplicate topic slug {slug!r}"
            topic_slugs.add(slug)
            listed = topic.get("parents")
            parents[slug] = (
                [p for p in listed if isinstance(p, str)] if isinstance(listed, list) else []
            )
        context = topic.get("context")
        if isinstance(context, dict):
            known = {str(t).casefold() for t in _list(topic.get("terms"))}
            known |= {str(a).casefold() for a in _list(topic.get("acronyms"))}
            for term in context:
                if str(term).casefold() not in known:
                    yield (
                        ("topics", i, "context", term),
                        "not one of this topic's terms or acronyms",
                    )
    for i, topic in enumerate(_mappings(data.get("topics"))):
        for j, parent in enumerate(_list(topic.get("parents"))):
            if isinstance(parent, str) and parent not in topic_slugs:
                yield ("topics", i, "parents", j), f"unknown topic {parent!r}"
        slug = topic.get("slug")
        if isinstance(slug, str) and _reaches(parents, slug, slug):
            yield ("topics", i, "parents"), f"topic {slug!r} is its own ancestor (a cycle)"
    source_ids: set[str] = set()
    for i, source in enumerate(_mappings(data.get("sources"))):
        source_id = source.get("id")
        if isinstance(source_id, str):
            if source_id in source_ids:
                yield ("sources", i, "id"), f"duplicate source id {source_id!r}"
            source_ids.add(source_id)
        topics = source.get("topics")
        if isinstance(topics, list):
            for j, slug in enumerate(topics):
                if isinstance(slug, str) and slug not in topic_slugs:
                    yield ("sources", i, "topics", j), f"unknown topic {slug!r}"
    stories = data.get("stories")
    priority = stories.get("source_priority") if isinstance(stories, dict) else None
    for j, source_id in enumerate(_list(priority)):
        if isinstance(source_id, str) and source_id not in source_ids:
            yield ("stories", "source_priority", j), f"unknown source {source_id!r}"


def _reaches(parents: Mapping[str, list[str]], start: str, target: str) -> bool:
    """Whether ``target`` is an ancestor of ``start`` through ``parents``."""
    seen: set[str] = set()
    stack = list(parents.get(start, ()))
    while stack:
        slug = stack.pop()
        if slug == target:
            return True
        if slug not in seen:
            seen.add(slug)
            stack.extend(parents.get(slug, ()))
    return False


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _mappings(value: object) -> Iterator[Mapping[str, Any]]:
    items: Sequence[object] = value if isinstance(value, list) else ()
    for item in items:
        yield item if isinstance(item, dict) else {}


def _node_lines(node: yaml.Node, path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], int]]:
    """Map every path in the YAML document to its 1-based line (a key's own line)."""
    yield path, node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = (*path, key_node.value)
            yield from _node_lines(value_node, key)
            yield key, key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _node_lines(item, (*path, index))


def _line_for(loc: tuple[Any, ...], lines: Mapping[tuple[Any, ...], int]) -> int:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 1


def _format_loc(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _message(error: Mapping[str, Any]) -> str:
    kind = error.get("type")
    loc = error.get("loc", ())
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required"
    if kind == "string_too_short" and (error.get("ctx") or {}).get("min_length") == 1:
        return "must not be empty"
    if kind == "string_pattern_mismatch":
        if "mesh" in loc:
            return f"{error.get('input')!r} is not a MeSH descriptor ID (D and 6 or 9 digits)"
        return f"{error.get('input')!r} is not a slug (lower-case letters, digits, hyphens)"
    message = str(error.get("msg", "invalid"))
    return message.removeprefix("Value error, ")
