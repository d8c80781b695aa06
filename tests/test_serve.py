"""``feeds serve`` as a real process: first start fills the database, readers get 304s,
SIGTERM stops it cleanly."""

from __future__ import annotations

from pathlib import Path

import feedparser

from tests.servers import serving


def test_serve_fills_an_empty_database_answers_304_and_stops_on_sigterm(tmp_path: Path) -> None:
    with serving(tmp_path, sources=("wire", "digest")) as served:
        first = feedparser.parse(f"{served.base}/feeds/lupus.rss")
        assert first.status == 200
        assert first.entries  # the first page a new user opens is never empty
        assert all("lupus" in {t.term for t in e.tags} for e in first.entries)
        second = feedparser.parse(
            f"{served.base}/feeds/lupus.rss", etag=first.etag, modified=first.modified
        )
        assert second.status == 304
    assert served.process.returncode == 0, served.output()
    assert "Shutting down" in served.output()
