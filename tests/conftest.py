"""Shared fixtures: the loopback feed server, a migrated database, config files."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Select
from starlette.testclient import TestClient

from feeds.config import Settings, load_settings, parse_settings
from feeds.storage import Storage
from feeds.update import update
from feeds.web.app import create_app
from tests import databases, httpserver


@pytest.fixture(scope="session")
def _server_process() -> Iterator[httpserver.FeedServer]:
    handle, httpd = httpserver.start()
    yield handle
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def server(_server_process: httpserver.FeedServer) -> httpserver.FeedServer:
    """The loopback feed server, with this test's request log only."""
    _server_process.requests.clear()
    _server_process.custom.clear()
    _server_process.released.set()
    return _server_process


@pytest.fixture(autouse=True)
def _no_env_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FEEDS_DATABASE_URL", raising=False)
    monkeypatch.delenv("FEEDS_CONFIG", raising=False)


MakeSettings = Callable[[str], Settings]


@pytest.fixture
def make_settings(tmp_path: Path) -> MakeSettings:
    """Write a config file in tmp_path from YAML text and load it."""

    def make(text: str) -> Settings:
        path = tmp_path / "config.yaml"
        path.write_text(text, encoding="utf-8")
        return parse_settings(text, path)

    return make


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[Storage]:
    """A migrated SQLite database in tmp_path."""
    store = Storage.open(f"sqlite:///{tmp_path / 'feeds.db'}")
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def sqlite_storage(tmp_path: Path) -> Iterator[Storage]:
    """A migrated SQLite database in tmp_path (for SQLite-only behaviour)."""
    store = Storage.open(f"sqlite:///{tmp_path / 'feeds.db'}")
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL to a fresh schema in the PostgreSQL test database (see tests/databases.py)."""
    with databases.postgres_schema() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend: the storage contract runs on both."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'feeds.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def backend_storage(backend_url: str) -> Iterator[Storage]:
    """A migrated database on each backend: the storage contract runs on both."""
    store = Storage.open(backend_url)
    store.migrate()
    yield store
    store.close()


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, Storage]]:
    """The shipped config with its offline samples loaded into a fresh database (once per
    test module: the web tests only read it)."""
    storage = Storage.open(f"sqlite:///{tmp_path_factory.mktemp('samples') / 'feeds.db'}")
    storage.migrate()
    yield update_samples(storage), storage
    storage.close()


def update_samples(storage: Storage) -> Settings:
    """Update ``storage`` from the shipped config's offline sample sources (and cluster
    them into stories); the shipped settings."""
    settings = load_settings(Path(__file__).parent.parent / "config.yaml")
    samples = [s.id for s in settings.sources if s.url.startswith("file:")]
    asyncio.run(update(settings, storage, only=samples))
    return settings


def sqlite_plan(storage: Storage, statement: Select[Any]) -> str:
    """SQLite's plan for ``statement`` (values do not change a plan's shape: all NULL here)."""
    compiled = statement.compile(storage.engine)
    nulls = (None,) * len(compiled.positiontup or ())
    with storage.engine.connect() as connection:
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", nulls)
        return " | ".join(row[-1] for row in rows)


@pytest.fixture
def client(loaded: tuple[Settings, Storage]) -> TestClient:
    """An in-process client of the app over ``loaded``."""
    return TestClient(create_app(*loaded))
