"""Admin actions: bearer token (RFC 6750), refresh, disable/enable that survive syncs and
restarts; without a configured token the routes do not exist."""

from __future__ import annotations

import asyncio
import gc
import sys
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from feeds.config import Settings
from feeds.storage import Storage
from feeds.update import update
from feeds.web.app import create_app, create_app_from_environment
from tests.conftest import MakeSettings
from tests.httpserver import FeedServer

TOKEN = "s3cret-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ROUTES = [
    "/admin/refresh",
    "/admin/sources/fine/refresh",
    "/admin/sources/fine/disable",
    "/admin/sources/fine/enable",
]


@pytest.fixture
def settings(server: FeedServer, make_settings: MakeSettings) -> Settings:
    return make_settings(
        "sources:\n"
        f"  - {{id: fine, name: Fine Feed, url: '{server.url('/feeds/rss20.xml')}',"
        " allow_private: true}\n"
        f"  - {{id: other, name: Other Feed, url: '{server.url('/feeds/atom10.xml')}',"
        " allow_private: true}\n"
    )


@pytest.fixture
def admin(settings: Settings, storage: Storage) -> TestClient:
    asyncio.run(update(settings, storage))  # the sources exist and have been fetched once
    return TestClient(create_app(settings, storage, admin_token=TOKEN))


def fetched(server: FeedServer) -> list[str]:
    return [r.path for r in server.requests]


@pytest.mark.parametrize("token", [None, ""])
def test_without_a_configured_token_the_admin_routes_do_not_exist(
    settings: Settings, storage: Storage, token: str | None
) -> None:
    client = TestClient(create_app(settings, storage, admin_token=token))
    for path in ROUTES:
        assert client.post(path, headers=AUTH).status_code == 404
        assert client.post(path, headers={"Authorization": "Bearer "}).status_code == 404


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        ({}, None),  # no credentials: the challenge carries no error code (RFC 6750 §3.1)
        ({"Authorization": "Bearer "}, "invalid_request"),
        ({"Authorization": "Bearer"}, "invalid_request"),
        ({"Authorization": f"Basic {TOKEN}"}, "invalid_request"),
        ({"Authorization": "Bearer wrong-token"}, "invalid_token"),
        ({"Authorization": f"Bearer {TOKEN}x"}, "invalid_token"),
        ({"Authorization": f"Bearer {TOKEN[:-1]}"}, "invalid_token"),
    ],
)
def test_missing_empty_and_wrong_tokens_are_refused_with_a_bearer_challenge(
    admin: TestClient, server: FeedServer, headers: dict[str, str], error: str | None
) -> None:
    server.requests.clear()
    for path in ROUTES:
        response = admin.post(path, headers=headers)
        assert response.status_code == 401, path
        challenge = response.headers["www-authenticate"]
        assert challenge.startswith("Bearer realm=")
        assert (f'error="{error}"' in challenge) if error else ("error=" not in challenge)
        assert response.json()["error"].startswith("admin: ")
    assert fetched(server) == []  # nothing was refreshed
    assert admin.get("/sources.json").json()[0]["status"] != "disabled"


def test_refreshing_one_source_fetches_it_now(admin: TestClient, server: FeedServer) -> None:
    server.requests.clear()
    response = admin.post("/admin/sources/fine/refresh", headers=AUTH)
    assert response.status_code == 202
    assert response.json() == {"refreshing": ["fine"]}
    assert fetched(server) == ["/feeds/rss20.xml"]  # not due, but fetched on request


def test_refreshing_all_fetches_every_enabled_source(admin: TestClient, server: FeedServer) -> None:
    server.requests.clear()
    assert admin.post("/admin/refresh", headers=AUTH).status_code == 202
    assert sorted(fetched(server)) == ["/feeds/atom10.xml", "/feeds/rss20.xml"]


def test_admin_actions_answer_clear_errors(admin: TestClient) -> None:
    assert admin.post("/admin/sources/nope/refresh", headers=AUTH).status_code == 404
    assert admin.post("/admin/sources/nope/disable", headers=AUTH).status_code == 404
    wrong_method = admin.get("/admin/refresh", headers=AUTH)
    assert wrong_method.status_code == 405
    assert "POST" in wrong_method.headers["allow"]


def test_a_disabled_source_stays_disabled_across_config_syncs_and_restarts(
    admin: TestClient,
    server: FeedServer,
    settings: Settings,
    storage: Storage,
    tmp_path: Path,
) -> None:
    response = admin.post("/admin/sources/fine/disable", headers=AUTH)
    assert response.status_code == 200
    assert response.json() == {"source": "fine", "disabled": True}

    server.requests.clear()
    asyncio.run(update(settings, storage, force=True))  # syncs the config, fetches all enabled
    assert fetched(server) == ["/feeds/atom10.xml"]
    assert admin.post("/admin/refresh", headers=AUTH).status_code == 202
    assert "/feeds/rss20.xml" not in fetched(server)
    refused = admin.post("/admin/sources/fine/refresh", headers=AUTH)
    assert refused.status_code == 409
    assert "disabled" in refused.json()["error"]

    restarted = Storage.open(f"sqlite:///{tmp_path / 'feeds.db'}")  # a new process's view
    try:
        health = {h.source_id: h for h in restarted.source_health()}
        assert not health["fine"].enabled
        assert health["other"].enabled
        rows = {
            r["id"]: r
            for r in TestClient(create_app(settings, restarted)).get("/sources.json").json()
        }
        assert rows["fine"]["status"] == "disabled"
    finally:
        restarted.close()

    assert admin.post("/admin/sources/fine/enable", headers=AUTH).json()["disabled"] is False
    server.requests.clear()
    asyncio.run(update(settings, storage, force=True))
    assert sorted(fetched(server)) == ["/feeds/atom10.xml", "/feeds/rss20.xml"]


def test_the_server_factory_takes_the_token_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, storage: Storage
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"database: sqlite:///{tmp_path / 'feeds.db'}\n", encoding="utf-8")
    monkeypatch.setenv("FEEDS_CONFIG", str(config))
    try:
        for token, status in ((None, 404), ("", 404), (TOKEN, 202)):
            if token is None:
                monkeypatch.delenv("FEEDS_ADMIN_TOKEN", raising=False)
            else:
                monkeypatch.setenv("FEEDS_ADMIN_TOKEN", token)
            client = TestClient(create_app_from_environment())
            assert client.post("/admin/refresh", headers=AUTH).status_code == status, token
    finally:
        gc.unfreeze()  # the factory freezes what it built, for a server's lifetime


def test_the_server_factory_gives_renders_the_interpreter_back_at_the_configured_interval(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        f"database: sqlite:///{tmp_path / 'feeds.db'}\nweb:\n  switch_interval: 0.002\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("FEEDS_CONFIG", str(config))
    before = sys.getswitchinterval()
    try:
        create_app_from_environment()
        assert sys.getswitchinterval() == pytest.approx(0.002)
    finally:
        sys.setswitchinterval(before)
        gc.unfreeze()
