"""Fresh, empty databases for tests: SQLite always, PostgreSQL when configured.

Set ``ATTEND_TEST_POSTGRES_URL`` to run every storage test on PostgreSQL too; each test gets
its own schema there. With ``ATTEND_TEST_REQUIRE_ALL=1`` (as in CI) a missing PostgreSQL is a
failure, not a skip (see the ``postgres_admin_url`` fixture in tests/conftest.py).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

POSTGRES_URL = os.environ.get("ATTEND_TEST_POSTGRES_URL", "")
REQUIRE_ALL = os.environ.get("ATTEND_TEST_REQUIRE_ALL") == "1"


def backends() -> list[object]:
    """The databases a storage test runs on."""
    params: list[object] = ["sqlite"]
    if POSTGRES_URL or REQUIRE_ALL:
        params.append(pytest.param("postgresql", marks=pytest.mark.postgres))
    return params


def postgres_schema_url(admin_url: str) -> Iterator[str]:
    """A URL whose sessions use a new, empty schema, dropped afterwards."""
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
        yield from postgres_schema_url(request.getfixturevalue("postgres_admin_url"))
