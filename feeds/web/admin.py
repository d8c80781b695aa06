"""Admin actions for operators, behind a bearer token (RFC 6750):

    POST /admin/refresh                     fetch every enabled source now
    POST /admin/sources/{id}/refresh        fetch one source now
    POST /admin/sources/{id}/disable        stop fetching a source (kept across restarts
    POST /admin/sources/{id}/enable         and config syncs), or start again

What it does: the routes exist only when ``$FEEDS_ADMIN_TOKEN`` is set and not empty
(``admin_routes`` returns none otherwise, so they are 404 like any unknown path). Each
request must carry ``Authorization: Bearer <token>``, compared in constant time
(``hmac.compare_digest``); a missing, empty or wrong token is a 401 with
``WWW-Authenticate: Bearer`` (RFC 6750 §3). A refresh answers ``202 Accepted`` at once and
runs one update pass (``feeds.update.update``) after the response is sent, in this process;
one refresh at a time per process (a second one meanwhile is a 409).

What it does not do: change the config file (a source disabled here stays configured and
shows as ``disabled``), or stop the background updater (``feeds serve``) from running its
own passes beside a refresh; the database takes their writes one transaction at a time.
"""

from __future__ import annotations

import hmac
import logging
from typing import TYPE_CHECKING

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from feeds.update import update
from feeds.web.respond import state_of

if TYPE_CHECKING:
    from feeds.web.app import AppState

ADMIN_TOKEN_ENV = "FEEDS_ADMIN_TOKEN"
log = logging.getLogger("feeds.web.admin")


class AdminUnauthorized(HTTPException):
    """401 with the RFC 6750 challenge."""

    def __init__(self, error: str, description: str) -> None:
        challenge = f'Bearer realm="feeds admin", error="{error}"'
        if error == "":  # no credentials at all: no error code (RFC 6750 §3.1)
            challenge = 'Bearer realm="feeds admin"'
        super().__init__(401, description, headers={"WWW-Authenticate": challenge})


def authorize(request: Request, token: str) -> None:
    """Raise ``AdminUnauthorized`` unless the request carries ``token`` as a bearer token."""
    header = request.headers.get("authorization")
    if header is None:
        raise AdminUnauthorized("", "admin: an Authorization: Bearer token is required")
    scheme, _, given = header.partition(" ")
    given = given.strip()
    if scheme.lower() != "bearer" or not given:
        raise AdminUnauthorized("invalid_request", "admin: use Authorization: Bearer <token>")
    if not hmac.compare_digest(given.encode(), token.encode()):
        raise AdminUnauthorized("invalid_token", "admin: the token is not valid")


def _admin(request: Request) -> AppState:
    state = state_of(request)
    if not state.admin_token:  # never reached: the routes are not mounted without a token
        raise HTTPException(404, "Not Found")
    authorize(request, state.admin_token)
    return state


def _configured(state: AppState, source_id: str) -> None:
    if source_id not in {s.id for s in state.settings.sources}:
        raise HTTPException(404, f"admin: unknown source {source_id!r}")


def _refresh(state: AppState, only: list[str], force: bool) -> Response:
    if state.refreshing.locked():
        raise HTTPException(409, "admin: a refresh is already running; try again shortly")

    async def run() -> None:
        # Taken here, not before answering: if the answer cannot be sent, this never runs,
        # and a lock taken earlier would never be released.
        if not state.refreshing.acquire(blocking=False):
            log.info("admin refresh skipped: another one started meanwhile")
            return
        try:
            summary = await update(state.settings, state.storage, only=only, force=force)
            log.info("admin refresh: %s", summary.to_json())
        except Exception:  # logged, not raised: the response has been sent already
            log.exception("admin refresh failed")
        finally:
            state.version.invalidate()
            state.refreshing.release()

    body = {"refreshing": only or "all enabled sources"}
    return JSONResponse(body, status_code=202, background=BackgroundTask(run))


async def refresh_all(request: Request) -> Response:
    state = _admin(request)
    return _refresh(state, [], force=True)


async def refresh_source(request: Request) -> Response:
    state = _admin(request)
    source_id = request.path_params["id"]
    _configured(state, source_id)
    health = await run_in_threadpool(state.storage.source_health, [source_id])
    if health and not health[0].enabled:
        raise HTTPException(409, f"admin: source {source_id!r} is disabled; enable it first")
    return _refresh(state, [source_id], force=False)


async def _set_paused(request: Request, paused: bool) -> Response:
    state = _admin(request)
    source_id = request.path_params["id"]
    _configured(state, source_id)
    if not await run_in_threadpool(state.storage.set_paused, source_id, paused):
        raise HTTPException(404, f"admin: source {source_id!r} is not in the database yet")
    state.version.invalidate()
    return JSONResponse({"source": source_id, "disabled": paused})


async def disable_source(request: Request) -> Response:
    return await _set_paused(request, True)


async def enable_source(request: Request) -> Response:
    return await _set_paused(request, False)


def admin_routes(token: str | None) -> list[BaseRoute]:
    """The admin routes, or none at all when no token is configured."""
    if not token:
        return []
    return [
        Route("/admin/refresh", refresh_all, methods=["POST"], name="admin_refresh"),
        Route("/admin/sources/{id}/refresh", refresh_source, methods=["POST"]),
        Route("/admin/sources/{id}/disable", disable_source, methods=["POST"]),
        Route("/admin/sources/{id}/enable", enable_source, methods=["POST"]),
    ]
