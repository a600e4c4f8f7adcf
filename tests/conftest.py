"""Shared fixtures: databases (SQLite always, PostgreSQL when configured), the clock and a
local SMTP server. What they are built from lives in ``tests/support/``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from core.eventstore.database import Database
from core.eventstore.sql import SqlEventStore
from core.migrations import upgrade
from tests.support.clock import FakeClock
from tests.support.databases import (
    POSTGRES_URL,
    REQUIRE_ALL,
    backends,
    make_database_url,
    postgres_schema_url,
)
from tests.support.smtp_sink import Inbox, smtp_server
from tests.support.tally import tally_registry


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    if not POSTGRES_URL:
        if REQUIRE_ALL:
            pytest.fail("ATTEND_TEST_REQUIRE_ALL=1 but ATTEND_TEST_POSTGRES_URL is not set")
        pytest.skip("set ATTEND_TEST_POSTGRES_URL to run PostgreSQL tests")
    engine = create_engine(POSTGRES_URL)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as error:
        pytest.fail(f"PostgreSQL at {POSTGRES_URL} is not reachable: {error}")
    finally:
        engine.dispose()
    return POSTGRES_URL


@pytest.fixture(params=backends())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL on each backend."""
    yield from make_database_url(request.param, request, tmp_path)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A migrated database on each backend."""
    database = Database(database_url)
    upgrade(database)
    yield database
    database.dispose()


@pytest.fixture
def pg_store(postgres_admin_url: str) -> Iterator[SqlEventStore]:
    """An event store for the tally test aggregate, on a fresh PostgreSQL schema."""
    for url in postgres_schema_url(postgres_admin_url):
        database = Database(url, pool_size=12)
        upgrade(database)
        yield SqlEventStore(database, tally_registry())
        database.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def smtp_inbox() -> Iterator[tuple[Inbox, int]]:
    """A local SMTP server keeping what it receives: ``(inbox, port)``."""
    inbox = Inbox()
    with smtp_server(inbox) as port:
        yield inbox, port
