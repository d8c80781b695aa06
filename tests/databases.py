"""The databases the storage contract runs on: SQLite always, PostgreSQL when configured.

PostgreSQL is the server at ``FEEDS_TEST_DATABASE_URL`` (``.ci/run`` creates a fresh database
per run and sets it). Each test gets its own schema in that database (``search_path`` set
through the connection's ``options``), dropped afterwards, so tests never see each other's
rows and need no database-creation rights. Without the variable the PostgreSQL tests skip
with the reason, except under CI, where they fail: a CI run must exercise both databases.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

PG_ENV = "FEEDS_TEST_DATABASE_URL"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def postgres_base_url() -> str:
    """The configured PostgreSQL URL, checked reachable; skips or fails the test if not."""
    url = os.environ.get(PG_ENV, "").strip()
    if not url:
        reason = f"PostgreSQL tests need {PG_ENV}=postgresql+psycopg://USER@HOST/DB"
        if in_ci():
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            # Installed once per database, in public, so that dropping a test's schema never
            # drops the extension from under another (the migration uses it where it is).
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public"))
    except SQLAlchemyError as exc:
        pytest.fail(f"{PG_ENV} is set but PostgreSQL is unreachable: {exc}")
    finally:
        engine.dispose()
    return url


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A URL whose connections use a fresh, empty schema; the schema is dropped after."""
    base = postgres_base_url()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
