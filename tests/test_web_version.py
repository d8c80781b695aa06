"""The data version the render cache keys on is re-read at most once per ``DataVersion`` ttl,
whatever the requests: bench/load.py found API requests re-reading it (through the site
summary) several times a second under an update, each new value re-rendering every hot key."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from starlette.testclient import TestClient

from feeds.config import load_settings
from feeds.storage import Storage
from feeds.web.app import create_app
from feeds.web.cache import DataVersion

REPO = Path(__file__).parent.parent


def test_api_requests_do_not_move_the_version_the_render_cache_keys_on(storage: Storage) -> None:
    settings = load_settings(REPO / "config.yaml")
    storage.sync_sources(settings.source_models(), datetime.now(UTC))
    app = create_app(settings, storage)
    app.state.feeds.version = DataVersion(storage.versions, ttl=3600)  # one read, then kept
    client = TestClient(app)
    assert client.get("/feeds/all.rss").status_code == 200
    seen = app.state.feeds.version.fresh()
    assert seen is not None

    assert storage.set_paused(settings.sources[0].id, True)  # a write: the versions move
    assert storage.versions() != seen
    for path in ("/api/articles", "/api/articles?topics=lupus", "/feeds/lupus.rss"):
        assert client.get(path).status_code == 200
    assert app.state.feeds.version.fresh() == seen  # still the one read, until the ttl ends
