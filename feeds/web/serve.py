"""Run the web application under uvicorn, with exactly one updater process beside it.

The updater is a child process of ``feeds serve`` (``python -m feeds.worker``: the loop of
``feeds worker``), not a thread: parsing, tagging and clustering are CPU work that holds the
GIL, and in the web process it held up the event loop serving cached feeds (hot-feed p99
about 1 s during an update, see docs/performance.md "Load"). It is not inside uvicorn's
workers either (each builds the app from ``$FEEDS_CONFIG``), so there is one updater whatever
``--workers`` is. Replicas started with ``--no-update`` share the database; their caches
follow its data version.

``UpdaterProcess`` supervises it: started once the server accepts connections (so its start-up
never delays the first requests), restarted with a backoff if it dies (one stopped by a
signal serve did not send, as when the whole process group is told to stop, only once serve
has outlived its graceful shutdown), and told to stop on
SIGTERM/SIGINT after uvicorn has drained in-flight requests; it then finishes the source it
is writing (each source is one transaction). It dies with ``feeds serve`` however that ends
(``feeds.worker.die_with_parent``). Its stderr is ``feeds serve``'s.

This module does not decide when sources are due or write anything: that is ``feeds.worker``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from feeds.config import CONFIG_ENV, Settings
from feeds.storage import Storage
from feeds.web.app import create_app
from feeds.worker import IDLE_MAX, retry_delay

log = logging.getLogger("feeds.serve")

GRACEFUL_SHUTDOWN = 10  # seconds uvicorn gives in-flight requests once it is told to stop


class UpdaterProcess(threading.Thread):
    """Start, watch and restart ``python -m feeds.worker``; ``stop`` ends it gracefully."""

    def __init__(self, host: str, port: int, grace: float) -> None:
        super().__init__(name="feeds-updater-supervisor", daemon=True)
        self._address = (_connectable(host), port)
        self._grace = grace  # seconds a stopping updater gets before SIGKILL
        self._stopping = threading.Event()
        self.starts = 0  # how many times the updater was started (for the log and tests)

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        # The child is started from this thread and watched by it until it ends: Linux's
        # parent-death signal follows the thread that forked (prctl(2)), so this thread must
        # outlive every child it starts.
        if not self._wait_for_server():
            return
        failures = 0
        while not self._stopping.is_set():
            child = subprocess.Popen(
                [sys.executable, "-m", "feeds.worker", str(os.getpid())], stdin=subprocess.DEVNULL
            )
            self.starts += 1
            started = time.monotonic()
            while child.poll() is None and not self._stopping.wait(0.5):
                pass
            if child.poll() is None:  # stopping: let it finish the source it writes
                child.send_signal(signal.SIGTERM)
                try:
                    child.wait(timeout=self._grace)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
                return
            signalled = stopped_by(child.returncode)
            if signalled:
                # Stopped by a signal this thread did not send: usually one sent to the whole
                # process group (Ctrl-C in a terminal, systemd stopping the unit), in which
                # case feeds serve is stopping too. Restarting at once would start an updater
                # during the shutdown; it is restarted only if serve is still running after
                # its graceful shutdown could have ended.
                wait = GRACEFUL_SHUTDOWN + 5.0
                log.warning(
                    "updater stopped by %s; restarting in %g s unless feeds serve stops first",
                    signalled,
                    wait,
                )
                self._stopping.wait(wait)
                continue
            # It ended by itself: restart, sooner if it had been running for a while.
            failures = 1 if time.monotonic() - started > IDLE_MAX.total_seconds() else failures + 1
            wait = retry_delay(failures).total_seconds()
            log.error("updater exited with status %s; restarting in %g s", child.returncode, wait)
            self._stopping.wait(wait)

    def _wait_for_server(self) -> bool:
        """Wait until the web server accepts connections; False if stopped before."""
        while not self._stopping.is_set():
            try:
                socket.create_connection(self._address, timeout=1).close()
                return True
            except OSError:
                self._stopping.wait(0.1)
        return False


def stopped_by(returncode: int) -> str | None:
    """The name of the signal that stopped an updater with this exit status, if one did:
    ``python -m feeds.worker`` exits with 128 + its number when it stopped cleanly on SIGTERM
    or SIGINT; a negative status is a signal that killed it before it could (subprocess)."""
    for signum in (signal.SIGTERM, signal.SIGINT):
        if returncode in (128 + signum, -signum):
            return signum.name
    return None


def _connectable(host: str) -> str:
    """The address to reach a server listening on ``host`` (a wildcard means loopback)."""
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)


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
    """Serve until a signal stops uvicorn; then stop the updater.

    ``storage`` is the database the command opened and migrated; the web workers and the
    updater process open their own from ``config_path``."""
    os.environ[CONFIG_ENV] = str(config_path.resolve())
    # uvicorn restores the handlers it found and re-raises the signal once it has drained
    # requests; with the default handler that would kill the process before the updater is
    # stopped. A handler that only notes the signal lets the shutdown below run.
    received: list[int] = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda number, _frame: received.append(number))
    updater = UpdaterProcess(host, port, grace=settings.fetch.deadline + 5) if run_updater else None
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
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN,
        )
    finally:
        if updater:
            updater.stop()
            updater.join()  # the supervisor itself bounds the wait (SIGKILL after the grace)
        if received:
            log.info("stopped by signal %s", received[0])


def get(settings: Settings, storage: Storage, path: str) -> httpx.Response:
    """One request to the app, in-process (``feeds get``). A route that raises gives the 500
    response a server would send; a path no URL can carry (over httpx's 64 KB limit, a
    control character) raises ``httpx.InvalidURL``."""

    async def run() -> httpx.Response:
        # raise_app_exceptions=False: the app has already sent its 500 when the error
        # reaches the transport, and that response is what `feeds get` is asked for.
        transport = httpx.ASGITransport(
            app=create_app(settings, storage), raise_app_exceptions=False
        )
        async with httpx.AsyncClient(
            transport=transport, base_url=settings.site.base_url
        ) as client:
            response = await client.get(path)
            await response.aread()
            return response

    return asyncio.run(run())
