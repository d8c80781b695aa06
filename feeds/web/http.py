"""HTTP conditional requests and content negotiation over cached bodies.

- RFC 9110 §13.1.2: If-None-Match wins; an entity tag matches weakly ("W/" ignored).
- RFC 9110 §13.1.3: If-Modified-Since is only consulted when If-None-Match is absent.
- RFC 9110 §15.4.5: a 304 repeats ETag, Cache-Control, Last-Modified and Vary.
- RFC 9110 §12.5.3: Accept-Encoding with q=0 refuses an encoding.

``prepare`` builds an entry's four answers once, when it is stored; ``choose`` picks one from
three request header values. Both the Starlette handlers (``cached_response``) and the
cache-hit fast path (``feeds.web.fastpath``) answer through ``choose``, so they cannot differ.
"""

from __future__ import annotations

from dataclasses import replace
from email.utils import parsedate_to_datetime
from functools import lru_cache

from starlette.requests import Request
from starlette.responses import Response

from feeds.web.cache import Answer, CachedBody, RawHeaders


def prepare(entry: CachedBody, cache_control: str, vary: str, extra: RawHeaders) -> CachedBody:
    """``entry`` with its answers built: (identity 200, gzip 200, identity 304, gzip 304)."""

    def answer(gzipped: bool, status: int) -> Answer:
        body = entry.gzipped if gzipped and entry.gzipped is not None else entry.body
        common: RawHeaders = [
            (b"etag", (entry.gzip_etag if gzipped else entry.etag).encode()),
            (b"last-modified", entry.last_modified.encode()),
            (b"cache-control", cache_control.encode()),
            (b"vary", vary.encode()),
        ]
        if status == 304:  # no body, so no Content-Length or Content-Type (RFC 9110 §15.4.5)
            return Answer(304, common + extra, b"")
        head: RawHeaders = [
            (b"content-length", str(len(body)).encode()),
            (b"content-type", entry.media_type.encode()),
        ]
        if gzipped:
            common.append((b"content-encoding", b"gzip"))
        return Answer(200, head + common + extra, body)

    zipped = entry.gzipped is not None
    answers = (answer(False, 200), answer(zipped, 200), answer(False, 304), answer(zipped, 304))
    return replace(entry, answers=answers)


def choose(
    entry: CachedBody,
    accept_encoding: str | None,
    if_none_match: str | None,
    if_modified_since: str | None,
) -> Answer:
    """The answer for a request with these header values (``entry`` must be prepared)."""
    index = 1 if entry.gzipped is not None and accepts_gzip(accept_encoding) else 0
    if not_modified(entry, if_none_match, if_modified_since):
        index += 2
    return entry.answers[index]


class AnswerResponse(Response):
    """A prepared answer as a Starlette response (the headers list is copied: middleware
    may add to it, and the cached one is shared)."""

    def __init__(self, answer: Answer) -> None:
        self.status_code = answer.status
        self.body = answer.body
        self.background = None
        self.raw_headers = list(answer.headers)


def cached_response(request: Request, entry: CachedBody) -> Response:
    """The 200 or 304 answer for a prepared ``entry``, gzip-encoded when accepted."""
    headers = request.headers
    answer = choose(
        entry,
        headers.get("accept-encoding"),
        headers.get("if-none-match"),
        headers.get("if-modified-since"),
    )
    return AnswerResponse(answer)


def not_modified(
    entry: CachedBody, if_none_match: str | None, if_modified_since: str | None
) -> bool:
    """Whether the client's validators show it has this body already."""
    if if_none_match is not None:
        if if_none_match in (entry.etag, entry.gzip_etag):  # what a cache sends back: exact
            return True
        if if_none_match.strip() == "*":
            return True
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return bool(tags & {entry.etag, entry.gzip_etag})
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
            modified = parsedate_to_datetime(entry.last_modified)
        except (TypeError, ValueError, IndexError, OverflowError):
            return False  # an unreadable date is ignored, as RFC 9110 §13.1.3 requires
        if since.tzinfo is None:
            return False
        return modified <= since
    return False


@lru_cache(maxsize=256)  # clients send a handful of distinct values; parsing each costs µs
def accepts_gzip(header: str | None) -> bool:
    """Whether Accept-Encoding allows gzip (explicitly, or through ``*``)."""
    if not header:
        return False
    allowed: dict[str, bool] = {}
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        allowed[name.strip().lower()] = quality > 0
    if "gzip" in allowed:
        return allowed["gzip"]
    return allowed.get("*", False)
