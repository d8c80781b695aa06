"""Who renders a render-cache miss, when, and what the other requests get meanwhile.

Renders run on a small pool of their own (``web.render_threads``, default 2), not in the
thread pool that database reads and other blocking calls share. A render is CPU work under
the GIL: more of them at once finish no sooner, and each extra one takes the interpreter
away from the event loop, which answers every cache hit (bench/load.py: with forty render
threads during an update, hot-feed hits waited 100 ms at the median). One render per key
is under way at a time, at the newest versions read when a thread takes it up; every
request that misses the key meanwhile joins it.

While a key is being rendered anew after a change, a request for it may get the previous
body, as RFC 5861's ``stale-while-revalidate`` lets a cache do: only if that body is at most
``web.serve_stale`` seconds out of date (default 2 s: this process read versions at which it
was current less than that ago; ``DataVersion.stale_for``). The request that starts the
render waits ``WAIT`` for it first, in case it is quick (on a quiet server it is, and the
change is served at once); the others take the previous body without waiting. So no body
is served more than ``serve_stale`` after the write that superseded it (the replica bound
of docs/deployment.md), and under load the request that happens to come first after a
change is not the one that pays for everybody's render. With ``serve_stale: 0`` every
request after a change waits for the new body.

What it does not do: decide what a body is (the route's ``build``), or HTTP (``http``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from feeds.web.cache import CachedBody, DataVersion, RenderCache, Versions

log = logging.getLogger(__name__)

WAIT = 0.05  # seconds a request waits for a quick render before taking the previous body


Render = Callable[[Versions], CachedBody]  # builds the body at the versions given


class Renderer:
    """Renders cache misses on a bounded pool, one job per key at a time."""

    def __init__(
        self,
        cache: RenderCache,
        *,
        threads: int,
        serve_stale: float,
        observe: Callable[[float], None] = lambda seconds: None,
    ) -> None:
        self._cache = cache
        self._serve_stale = serve_stale
        self._observe = observe  # each render's wall time, in seconds (a metric)
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="feeds-render")
        self._jobs: dict[str, Future[CachedBody]] = {}  # key -> its queued or running render
        self._lock = threading.Lock()  # requests of several event loops (tests) may meet here

    async def after_miss(
        self, key: str, version: Versions, render: Render, versions: DataVersion
    ) -> CachedBody:
        """What to answer after ``key`` missed the cache at ``version``: the body that
        ``render`` builds (it raises what the request should answer, for example a 400),
        or the previous one while that renders, if ``versions`` says it is recent enough
        (see the module docstring)."""
        job, started = self._job(key, version, render, versions)
        previous = self._servable(self._cache.peek(key), versions)
        if previous is not None:
            if not started:  # another request waits for this render already
                return previous
            try:
                return await asyncio.wait_for(self._await(job), WAIT)
            except TimeoutError:
                return previous
        entry = await self._await(job)
        if entry.version < version and self._servable(entry, versions) is None:
            # That job had started before this request read the versions: one more.
            job, _ = self._job(key, version, render, versions)
            entry = await self._await(job)
        return entry

    def stale(self, key: str, versions: DataVersion) -> CachedBody | None:
        """The previous body of ``key`` if a render of it is under way and the body may be
        served meanwhile; else None. For the fast path: no waiting, no I/O."""
        with self._lock:
            if key not in self._jobs:
                return None
        return self._servable(self._cache.peek(key), versions)

    def _servable(self, entry: CachedBody | None, versions: DataVersion) -> CachedBody | None:
        """``entry`` if it is recent enough to serve while a newer one renders, else None."""
        if entry is None or versions.stale_for(entry.version) >= self._serve_stale:
            return None
        return entry

    def _job(
        self, key: str, version: Versions, render: Render, versions: DataVersion
    ) -> tuple[Future[CachedBody], bool]:
        """The render of ``key`` under way, and whether it was started now (there was
        none). One job per key: while it waits for a thread, newer misses join it rather
        than queue renders that would be out of date before they start."""
        with self._lock:
            job = self._jobs.get(key)
            if job is not None:
                return job, False
            job = self._pool.submit(self._render, key, version, render, versions)
            self._jobs[key] = job
            return job, True

    def _render(
        self, key: str, version: Versions, render: Render, versions: DataVersion
    ) -> CachedBody:
        # Render at the newest versions read by the time a thread is free, not those of
        # the request that queued the job (no I/O: the event loop keeps them read).
        newest = versions.last_read()
        if newest is not None and newest[: len(version)] > version:
            version = newest[: len(version)]
        started = time.perf_counter()
        try:
            entry = render(version)
            self._cache.put(key, entry)
            self._observe(time.perf_counter() - started)
            return entry
        except Exception:
            log.debug("render of %s failed", key, exc_info=True)
            raise
        finally:
            with self._lock:
                del self._jobs[key]

    @staticmethod
    async def _await(job: Future[CachedBody]) -> CachedBody:
        waiting = asyncio.wrap_future(job)
        # A failure counts as seen even when the request stopped waiting (it took the
        # previous body), or asyncio would log it as never retrieved.
        waiting.add_done_callback(lambda done: done.cancelled() or done.exception())
        # Shielded: a client that goes away must not cancel a render others wait for.
        return await asyncio.shield(waiting)

    def close(self) -> None:
        """Let running renders finish; start no more."""
        self._pool.shutdown(wait=True, cancel_futures=True)
