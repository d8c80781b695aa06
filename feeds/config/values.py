"""The value types config entries share: durations, slugs, phrases, MeSH IDs, URLs and paths.

What it does: read ``"1h30m"``-style durations, declare the constrained string types the
sections use, and resolve source URLs and database URLs against a base folder.

What it does not do: read files or the environment (``feeds.config.loader`` does), or know
about any one section of the config.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import httpx
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(w|d|h|m|s)")
_UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
# Longer is a typo, and it would overflow: timedelta past 999,999,999 days, or a next check
# time (now + interval) or a story window (published - window) past the years 1-9999.
MAX_DURATION = timedelta(days=36500)
_SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


def parse_duration(value: object) -> timedelta:
    """Read ``90``, ``"45s"``, ``"30m"``, ``"1h30m"``, ``"2d"`` or ``"1w"`` as a duration."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("not a duration (use for example 30m, 1h or 2d)")
    if isinstance(value, int | float):
        seconds = float(value)
        if math.isnan(seconds):
            raise ValueError("not a duration (use for example 30m, 1h or 2d)")
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
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"{value!r} is longer than 100 years ({MAX_DURATION.days}d)")
    return timedelta(seconds=seconds)


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Slug = Annotated[str, Field(pattern=_SLUG, max_length=64)]


def _wordlike(value: str) -> str:
    """A phrase matches as whole words, so one without a letter or digit ("!!!", "-", a
    zero-width space) could never match: a mistake, not a rule."""
    if not any(char.isalnum() for char in value):
        raise ValueError(f"{value!r} has no letter or digit, so it can never match")
    return value


def _capitalized(value: str) -> str:
    """An acronym matches only in the case written; one with no capital letter ("sle")
    is a term listed in the wrong place."""
    if not any(char.isupper() for char in value):
        raise ValueError(
            f"{value!r} has no capital letter: acronyms match in the exact case written, "
            "so list it under terms"
        )
    return value


STEM_LETTERS = 5  # fewest letters of a word ending, or it would match too many words


def _ending(value: str) -> str:
    """A term that starts with a hyphen is a word ending ("-cabtagene", an INN stem): one
    word of letters, long enough to say something."""
    if value.startswith("-"):
        stem = value[1:]
        if not stem.isalpha() or len(stem) < STEM_LETTERS:
            raise ValueError(
                f"{value!r} starts with a hyphen, so it is a word ending: it must be one word "
                f"of at least {STEM_LETTERS} letters (or it would match too many words)"
            )
    return value


Phrase = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_wordlike)]
Term = Annotated[Phrase, AfterValidator(_ending)]
Acronym = Annotated[Phrase, AfterValidator(_capitalized)]
MeshUI = Annotated[str, Field(pattern=r"^D\d{6}(\d{3})?$")]


class Frozen(BaseModel):
    """Base of every config model: immutable, unknown keys rejected, strings stripped."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


def resolve_source_url(value: str, base_dir: Path) -> str:
    """An http(s) URL as given; a file path or file: URL as an absolute file: URL."""
    parts = urlsplit(value)
    if parts.scheme in ("http", "https"):
        if not parts.hostname:
            raise ValueError("not an http(s) URL or file path")
        check_requestable(value)
        return value
    if parts.scheme == "file":
        return Path(parts.path).resolve().as_uri()
    if parts.scheme and len(parts.scheme) > 1:  # "C:" is a drive letter, not a scheme
        raise ValueError("not an http(s) URL or file path")
    if not value.strip():
        raise ValueError("not an http(s) URL or file path")
    return (base_dir / value).resolve().as_uri()


def check_requestable(url: str) -> None:
    """Raise ``ValueError`` unless the fetcher (httpx) can make a request to this http(s)
    URL: no spaces or control characters, a port in range, a host name valid as IDNA."""
    if any(c.isspace() or not c.isprintable() for c in url):
        raise ValueError("contains a space or control character (percent-encode it)")
    try:
        urlsplit(url).port  # noqa: B018 -- reading it checks the range
    except ValueError:
        raise ValueError("the port is not a number from 0 to 65535") from None
    try:
        httpx.URL(url).host  # noqa: B018 -- reading it decodes the IDNA host name
    except (httpx.InvalidURL, UnicodeError) as exc:
        raise ValueError(f"not a valid host name or URL ({exc})") from None


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
