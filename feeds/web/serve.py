"""Run the web application under uvicorn, with exactly one background updater.

The updater is a thread of the ``feeds serve`` process, not of the web workers: uvicorn's
workers are separate processes (each builds the app from ``$FEEDS_CONFIG``), so putting the
updater beside them, not inside them, keeps it at one whatever ``--workers`` is. Replicas
started with ``--no-update`` share the database; their caches follow its data version.

On SIGTERM/SIGINT uvicorn drains in-flight requests and returns; the updater is then asked
to stop and finishes the source it is writing (each source is one transaction).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
from pathlib import Path

import httpx
import uvicorn

from feeds.config import CONFIG_ENV, Settings
from feeds.storage import Storage
from feeds.web.app import create_app
from feeds.worker import run_until_stopped

log = logging.getLogger("feeds.serve")


class Updater(threading.Thread):
    """``feeds.worker.run_until_stopped`` in a thread, beside the web server."""

    def __init__(self, settings: Settings, storage: Storage) -> None:
        super().__init__(name="feeds-updater", daemon=True)
        self._settings = settings
        self._storage = storage
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        run_until_stopped(self._settings, self._storage, self._stopping)


def serve(
    settings: Settings,
    config_path: Path,
    storage: Storage,
    *,
    host: str,
    port: int,
    workers: int,
    run_updater: bool,
    access_log: bool,
) -> None:
    """Serve until a signal stops uvicorn; then stop the updater."""
    os.environ[CONFIG_ENV] = str(config_path.resolve())
    # uvicorn restores the handlers it found and re-raises the signal once it has drained
    # requests; with the default handler that would kill the process before the updater is
    # stopped. A handler that only notes the signal lets the shutdown below run.
    received: list[int] = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda number, _frame: received.append(number))
    updater = Updater(settings, storage) if run_updater else None
    if updater:
        updater.start()
    try:
        uvicorn.run(
            "feeds.web.app:create_app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            access_log=access_log,
            log_level="info",
            timeout_graceful_shutdown=10,
        )
    finally:
        if updater:
            updater.stop()
            updater.join(timeout=settings.fetch.deadline + 5)
        if received:
            log.info("stopped by signal %s", received[0])


def get(settings: Settings, storage: Storage, path: str) -> httpx.Response:
    """One request to the app, in-process (``feeds get``)."""

    async def run() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(settings, storage))
        async with httpx.AsyncClient(
            transport=transport, base_url=settings.site.base_url
        ) as client:
            response = await client.get(path)
            await response.aread()
            return response

    return asyncio.run(run())
