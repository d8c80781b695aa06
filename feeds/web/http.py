"""HTTP conditional requests and content negotiation over cached bodies.

- RFC 9110 §13.1.2: If-None-Match wins; an entity tag matches weakly ("W/" ignored).
- RFC 9110 §13.1.3: If-Modified-Since is only consulted when If-None-Match is absent.
- RFC 9110 §15.4.5: a 304 repeats ETag, Cache-Control, Last-Modified and Vary.
- RFC 9110 §12.5.3: Accept-Encoding with q=0 refuses an encoding.
"""

from __future__ import annotations

from email.utils import parsedate_to_datetime

from starlette.requests import Request
from starlette.responses import Response

from feeds.web.cache import CachedBody


def cached_response(request: Request, entry: CachedBody, max_age: int) -> Response:
    """The 200 or 304 answer for ``entry``, gzip-encoded when the client accepts it."""
    use_gzip = entry.gzipped is not None and accepts_gzip(request.headers.get("accept-encoding"))
    etag = entry.gzip_etag if use_gzip else entry.etag
    headers = {
        "ETag": etag,
        "Last-Modified": entry.last_modified,
        "Cache-Control": f"public, max-age={max_age}",
        "Vary": "Accept-Encoding",
    }
    if not_modified(request, entry):
        return Response(status_code=304, headers=headers)
    if use_gzip:
        assert entry.gzipped is not None
        headers["Content-Encoding"] = "gzip"
        return Response(entry.gzipped, media_type=entry.media_type, headers=headers)
    return Response(entry.body, media_type=entry.media_type, headers=headers)


def not_modified(request: Request, entry: CachedBody) -> bool:
    """Whether the client's validators show it has this body already."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        if if_none_match.strip() == "*":
            return True
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return bool(tags & {entry.etag, entry.gzip_etag})
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
            modified = parsedate_to_datetime(entry.last_modified)
        except (TypeError, ValueError, IndexError):
            return False  # an unreadable date is ignored, as RFC 9110 §13.1.3 requires
        if since.tzinfo is None:
            return False
        return modified <= since
    return False


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
