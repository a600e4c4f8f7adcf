"""What every benchmark shares: the command line, a fresh database per backend, output."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def progress(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


def parser(doc: str | None) -> argparse.ArgumentParser:
    parsed = argparse.ArgumentParser(description=(doc or "").split("\n")[0])
    parsed.add_argument("--json", action="store_true", help="one JSON object per line")
    parsed.add_argument("--postgres", help="also measure PostgreSQL at this URL")
    return parsed


@contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """A URL for a new, empty schema in that database, dropped afterwards."""
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield scoped.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def backends(postgres: str | None) -> Iterator[tuple[str, str]]:
    """``(name, url)`` of a fresh SQLite file, then of a fresh PostgreSQL schema if asked."""
    with tempfile.TemporaryDirectory() as tmp:
        yield "sqlite", f"sqlite:///{tmp}/bench.db"
    if postgres:
        with postgres_schema(postgres) as url:
            yield "postgresql", url


def report(results: list[dict[str, object]], *, as_json: bool) -> None:
    for result in results:
        print(json.dumps(result) if as_json else json.dumps(result, indent=2))
