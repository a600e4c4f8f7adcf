"""Shared fixtures: databases (SQLite always, PostgreSQL when configured) and the clock.

Set ``ATTEND_TEST_POSTGRES_URL`` to run every storage test on PostgreSQL too; each test gets
its own schema there. With ``ATTEND_TEST_REQUIRE_ALL=1`` (as in CI) a missing PostgreSQL is a
failure, not a skip.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from core.eventstore.database import Database
from core.eventstore.sql import SqlEventStore
from core.migrations import upgrade
from tests.smtp_sink import Inbox, smtp_server
from tests.tally import tally_registry

POSTGRES_URL = os.environ.get("ATTEND_TEST_POSTGRES_URL", "")
REQUIRE_ALL = os.environ.get("ATTEND_TEST_REQUIRE_ALL") == "1"


def backends() -> list[object]:
    params: list[object] = ["sqlite"]
    if POSTGRES_URL or REQUIRE_ALL:
        params.append(pytest.param("postgresql", marks=pytest.mark.postgres))
    return params


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


def _postgres_schema_url(admin_url: str) -> Iterator[str]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = make_url(admin_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def make_database_url(kind: str, request: pytest.FixtureRequest,
                      tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of ``kind`` ("sqlite" or "postgresql"), as a URL."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path}/attend.db"
    else:
        yield from _postgres_schema_url(request.getfixturevalue("postgres_admin_url"))


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
    for url in _postgres_schema_url(postgres_admin_url):
        database = Database(url, pool_size=12)
        upgrade(database)
        yield SqlEventStore(database, tally_registry())
        database.dispose()


def run_threads(count: int, target: Callable[[int], object]) -> list[BaseException]:
    """Run ``target(0)`` to ``target(count - 1)`` on threads of their own, wait for them (a
    minute at most) and return what they raised."""
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            target(i)
        except BaseException as error:  # reported to the caller
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "a thread was still running after a minute"
    return errors


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 28, 15, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def smtp_inbox() -> Iterator[tuple[Inbox, int]]:
    """A local SMTP server keeping what it receives: ``(inbox, port)``."""
    inbox = Inbox()
    with smtp_server(inbox) as port:
        yield inbox, port
