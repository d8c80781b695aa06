"""The render cache and its renderer: entries keyed on the versions they depend on, one
render per key at a time, and the previous body served while a new one renders only for a
bounded time after the change (bench/load.py found the herd and the starved event loop)."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from datetime import UTC, datetime

import pytest

from feeds.web.cache import ARTICLES, HEALTH, CachedBody, DataVersion, RenderCache, make_entry
from feeds.web.rendering import WAIT, Render, Renderer

WHEN = datetime(2026, 1, 15, tzinfo=UTC)
KEY = "/feeds/a.rss?"


def body(text: str, version: tuple[int, ...]) -> CachedBody:
    return make_entry(f"<rss>{text}</rss>".encode(), "application/rss+xml", WHEN, version)


class Counter:
    """A storage version reader the test moves by hand."""

    def __init__(self) -> None:
        self.value = (1, 1)

    def __call__(self) -> tuple[int, int]:
        return self.value


def test_a_body_of_articles_stays_valid_when_only_source_health_moves() -> None:
    cache = RenderCache(1 << 20)
    cache.put("/feeds/a.rss?", body("feed", (1, 5)[:ARTICLES]))
    cache.put("/sources?", body("health", (1, 5)[:HEALTH]))

    assert cache.get("/feeds/a.rss?", (1, 6)) is not None  # a fetch that brought nothing
    assert cache.get("/sources?", (1, 6)) is None  # the sources page shows that fetch
    assert cache.get("/feeds/a.rss?", (2, 6)) is None  # new articles: every body is stale


def test_a_slow_render_finishing_late_never_replaces_a_newer_body() -> None:
    cache = RenderCache(1 << 20)
    cache.put(KEY, body("new", (3,)))
    cache.put(KEY, body("old", (2,)))
    assert cache.get(KEY, (3, 0)) is not None


def test_the_version_reader_knows_at_most_how_out_of_date_a_body_is() -> None:
    counter = Counter()
    versions = DataVersion(counter, ttl=0)
    assert versions.stale_for((1,)) == math.inf  # never read: cannot tell
    versions.current()
    time.sleep(0.05)
    counter.value = (1, 2)
    versions.current()
    assert versions.stale_for((1,)) < 0.05  # only the health moved: still current
    assert 0.05 <= versions.stale_for((1, 1)) < 1.0  # last known current before the sleep
    time.sleep(0.05)
    counter.value = (2, 2)
    versions.current()
    assert 0.05 <= versions.stale_for((1,)) < 1.0  # current until the read of (1, 2)


class SlowRender:
    """A render that blocks until released, counting its calls."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.calls = 0
        self.release = threading.Event()

    def __call__(self, version: tuple[int, ...]) -> CachedBody:
        self.calls += 1
        assert self.release.wait(10)
        return body(self.text, version)


async def gather_after_miss(
    renderer: Renderer, versions: DataVersion, render: Render, count: int
) -> list[CachedBody]:
    tasks = [
        asyncio.ensure_future(renderer.after_miss(KEY, (2,), render, versions))
        for _ in range(count)
    ]
    await asyncio.sleep(WAIT * 2)  # every request has missed and waits or took the old body
    return await asyncio.gather(*tasks)


def moved_versions() -> DataVersion:
    """A reader that saw version 1, then 2 just now."""
    counter = Counter()
    versions = DataVersion(counter, ttl=0)
    versions.current()
    counter.value = (2, 1)
    versions.current()
    return versions


async def released_while_waiting(
    renderer: Renderer, render: SlowRender, count: int
) -> list[CachedBody]:
    """``count`` requests miss after a change; the render finishes while they wait."""
    tasks = asyncio.ensure_future(gather_after_miss(renderer, moved_versions(), render, count))
    await asyncio.sleep(WAIT)
    render.release.set()
    return await tasks


def test_requests_missing_one_key_together_share_one_render() -> None:
    cache = RenderCache(1 << 20)
    renderer = Renderer(cache, threads=2, serve_stale=0.0)
    render = SlowRender("new")

    results = asyncio.run(released_while_waiting(renderer, render, 5))
    assert render.calls == 1
    assert {r.body for r in results} == {b"<rss>new</rss>"}
    assert cache.get(KEY, (2, 1)) is results[0]


def test_while_a_key_renders_after_a_recent_change_requests_get_the_previous_body() -> None:
    cache = RenderCache(1 << 20)
    cache.put(KEY, body("old", (1,)))
    renderer = Renderer(cache, threads=1, serve_stale=5.0)
    render = SlowRender("new")

    results = asyncio.run(gather_after_miss(renderer, moved_versions(), render, 3))
    assert {r.body for r in results} == {b"<rss>old</rss>"}  # nobody waited for the render
    render.release.set()
    renderer.close()
    assert render.calls == 1
    assert cache.get(KEY, (2, 1)) is not None  # and it landed for the next request


def test_once_the_change_is_older_than_serve_stale_requests_wait_for_the_new_body() -> None:
    cache = RenderCache(1 << 20)
    cache.put(KEY, body("old", (1,)))
    renderer = Renderer(cache, threads=1, serve_stale=0.0)
    render = SlowRender("new")

    results = asyncio.run(released_while_waiting(renderer, render, 3))
    assert {r.body for r in results} == {b"<rss>new</rss>"}


def test_a_quick_render_is_served_fresh_even_within_serve_stale() -> None:
    cache = RenderCache(1 << 20)
    cache.put(KEY, body("old", (1,)))
    renderer = Renderer(cache, threads=1, serve_stale=5.0)

    result = asyncio.run(
        renderer.after_miss(KEY, (2,), lambda version: body("new", version), moved_versions())
    )
    assert result.body == b"<rss>new</rss>"


def test_a_failing_render_reaches_the_request_and_the_next_miss_renders_again() -> None:
    cache = RenderCache(1 << 20)
    renderer = Renderer(cache, threads=1, serve_stale=1.0)
    versions = moved_versions()

    def fail(version: tuple[int, ...]) -> CachedBody:
        raise ValueError("bad parameter")

    with pytest.raises(ValueError, match="bad parameter"):
        asyncio.run(renderer.after_miss(KEY, (2,), fail, versions))
    result = asyncio.run(
        renderer.after_miss(KEY, (2,), lambda version: body("ok", version), versions)
    )
    assert result.body == b"<rss>ok</rss>"


def test_a_render_waiting_for_a_thread_renders_the_newest_versions_read() -> None:
    cache = RenderCache(1 << 20)
    renderer = Renderer(cache, threads=1, serve_stale=0.0)
    counter = Counter()
    versions = DataVersion(counter, ttl=0)
    versions.current()
    blocker = SlowRender("other")

    async def scenario() -> CachedBody:
        busy = asyncio.ensure_future(renderer.after_miss("/other?", (1,), blocker, versions))
        queued = asyncio.ensure_future(
            renderer.after_miss(KEY, (1,), lambda version: body("a", version), versions)
        )
        await asyncio.sleep(WAIT)  # the key's job waits for the one thread
        counter.value = (3, 1)
        versions.current()  # versions move on before it starts
        blocker.release.set()
        await busy
        return await queued

    assert asyncio.run(scenario()).version == (3,)
