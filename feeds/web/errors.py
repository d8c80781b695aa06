"""Error responses: a one-line reason, JSON for machine routes, text for pages. Never a 500
with a traceback: unexpected errors are logged and answered with a generic message."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from feeds.errors import StorageError
from feeds.web.params import BadRequest

log = logging.getLogger("feeds.web")
MACHINE_PREFIXES = (
    "/feeds/",
    "/api/",
    "/sources.json",
    "/sources/failing.",
    "/studies/",
    "/admin/",
)


def error_response(request: Request, status: int, message: str) -> Response:
    if request.url.path.startswith(MACHINE_PREFIXES):
        return JSONResponse({"error": message, "status": status}, status_code=status)
    return PlainTextResponse(f"{status}: {message}\n", status_code=status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    response = error_response(request, exc.status_code, str(exc.detail))
    if exc.headers:  # Allow on a 405, WWW-Authenticate on a 401
        response.headers.update(exc.headers)
    return response


async def _bad_request(request: Request, exc: Exception) -> Response:
    return error_response(request, 400, str(exc))


async def _storage_error(request: Request, exc: Exception) -> Response:
    log.error("%s %s: %s", request.method, request.url.path, exc)
    return error_response(request, 503, "the database is not available; try again shortly")


EXCEPTION_HANDLERS = {
    HTTPException: _http_error,
    BadRequest: _bad_request,
    StorageError: _storage_error,
}
