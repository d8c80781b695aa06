"""Who renders a render-cache miss, when, and what the other requests get meanwhile.

Renders run on a small pool of their own (``web.render_threads``, default 2), not in the
thread pool that database reads and other blocking calls share. A render is CPU work under
the GIL: more of them at once finish no sooner, and each extra one takes the interpreter
away from the event loop, which answers every cache hit (bench/load.py: with forty render
threads during an update, hot-feed hits waited 100 ms at the median). One render per
(key, versions) runs at a time; every request that misses the same key awaits that one.

While a key is being rendered anew after a change, a request for it may get the previous
body, as RFC 5861's ``stale-while-revalidate`` lets a cache do: only if that body is at most
``web.serve_stale`` seconds out of date (default 2 s: this process read versions at which it
was current less than that ago; ``DataVersion.stale_for``), and only after waiting ``WAIT``
for the new render in case it is quick. So no body is served more than ``serve_stale``
after the write that superseded it (the replica bound of docs/deployment.md), and under load
the request that happens to come first after a change is not the one that pays for
everybody's render. With ``serve_stale: 0`` every request after a change waits for it.

What it does not do: decide what a body is (the route's ``build``), or HTTP (``http``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from feeds.web.cache import CachedBody, DataVersion, RenderCache, Versions

log = logging.getLogger(__name__)

WAIT = 0.05  # seconds a request waits for a quick render before taking the previous body


class Renderer:
    """Renders cache misses on a bounded pool; one render per (key, versions) at a time."""

    def __init__(self, cache: RenderCache, *, threads: int, serve_stale: float) -> None:
        self._cache = cache
        self._serve_stale = serve_stale
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="feeds-render")
        self._running: dict[tuple[str, Versions], Future[CachedBody]] = {}
        self._lock = threading.Lock()  # requests of several event loops (tests) may meet here

    async def after_miss(
        self,
        key: str,
        version: Versions,
        render: Callable[[], CachedBody],
        versions: DataVersion,
    ) -> CachedBody:
        """What to answer after ``key`` missed the cache at ``version``: the body that
        ``render`` builds (it raises what the request should answer, for example a 400),
        or the previous one while that renders, if ``versions`` says it is recent enough
        (see the module docstring)."""
        future = self._start(key, version, render)
        waiting = asyncio.wrap_future(future)
        # Mark a failure as seen even when nobody awaits it (a request took the old body).
        waiting.add_done_callback(lambda done: done.cancelled() or done.exception())
        previous = self._cache.peek(key)
        if previous is not None and versions.stale_for(previous.version) < (self._serve_stale):
            try:
                return await asyncio.wait_for(asyncio.shield(waiting), WAIT)
            except TimeoutError:
                return previous
        # Shielded: a client that goes away must not cancel a render others wait for.
        return await asyncio.shield(waiting)

    def _start(
        self, key: str, version: Versions, render: Callable[[], CachedBody]
    ) -> Future[CachedBody]:
        """The running render of ``key`` at ``version``, started now if there is none."""
        with self._lock:
            running = self._running.get((key, version))
            if running is not None:
                return running
            future = self._pool.submit(self._render, key, version, render)
            self._running[(key, version)] = future
            return future

    def _render(self, key: str, version: Versions, render: Callable[[], CachedBody]) -> CachedBody:
        try:
            entry = render()
            self._cache.put(key, entry)
            return entry
        except Exception:
            log.debug("render of %s failed", key, exc_info=True)
            raise
        finally:
            with self._lock:
                self._running.pop((key, version), None)

    def close(self) -> None:
        """Let running renders finish; start no more."""
        self._pool.shutdown(wait=True, cancel_futures=True)
