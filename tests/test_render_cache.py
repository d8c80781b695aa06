"""The render cache's one-render-per-key rule: while one request renders a key anew, the others
get the previous body instead of rendering it too (bench/load.py found the herd)."""

from __future__ import annotations

from datetime import UTC, datetime

from feeds.web.cache import RenderCache, make_entry

WHEN = datetime(2026, 1, 15, tzinfo=UTC)


def test_a_miss_during_another_render_of_the_key_gets_the_previous_body() -> None:
    cache = RenderCache(1 << 20)
    old = make_entry(b"<rss>old</rss>", "application/rss+xml", WHEN, (1, 1))
    cache.put("/feeds/a.rss?", old)

    assert cache.get("/feeds/a.rss?", (2, 1)) is None  # the data changed: a miss
    assert cache.claim("/feeds/a.rss?") is None  # the first asker renders
    assert cache.claim("/feeds/a.rss?") is old  # the next ones get the previous body
    assert cache.claim("/feeds/b.rss?") is None  # other keys are not held up

    new = make_entry(b"<rss>new</rss>", "application/rss+xml", WHEN, (2, 1))
    cache.put("/feeds/a.rss?", new)
    cache.release("/feeds/a.rss?")
    assert cache.get("/feeds/a.rss?", (2, 1)) is new


def test_a_render_that_fails_releases_the_key() -> None:
    cache = RenderCache(1 << 20)
    old = make_entry(b"<rss>old</rss>", "application/rss+xml", WHEN, (1, 1))
    cache.put("/feeds/a.rss?", old)
    assert cache.claim("/feeds/a.rss?") is None
    cache.release("/feeds/a.rss?")  # the render raised (for example a 400): nothing stored
    assert cache.claim("/feeds/a.rss?") is None  # the next asker renders, not served stale


def test_a_key_never_rendered_is_rendered_by_every_asker() -> None:
    cache = RenderCache(1 << 20)
    assert cache.claim("/feeds/a.rss?") is None
    assert cache.claim("/feeds/a.rss?") is None  # nothing older to give: render it too
