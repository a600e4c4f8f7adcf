"""How PostgreSQL plans the reads every handler makes, on a table it knows nothing about yet."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from core.eventstore import EventMetadata, NewEvent
from core.eventstore.database import Database, on_driver
from core.eventstore.sql import SqlEventStore
from tests.support.clock import FakeClock
from tests.support.tally import TallyAdded, tally_registry

pytestmark = pytest.mark.postgres


def _plan_nodes(plan: dict[str, Any]) -> list[str]:
    return [plan["Node Type"], *(node for child in plan.get("Plans", [])
                                 for node in _plan_nodes(child))]


def test_a_page_of_the_log_walks_the_primary_key_before_the_table_is_analysed(
        pg_store: SqlEventStore, clock: FakeClock) -> None:
    # As after a restore or a busy first minute: 10,000 events, and autovacuum has not yet
    # looked at the table (here it is told not to), so the planner has no statistics.
    db = pg_store.db
    with db.write() as conn:
        on_driver(conn, "ALTER TABLE events SET (autovacuum_enabled = false)", ())
    meta = EventMetadata(event_id="e", command_id="c", causation_id="c", correlation_id="c",
                         actor="t", recorded_at=clock())
    for start in range(0, 10_000, 500):
        pg_store.append("tally-bulk", [
            NewEvent(TallyAdded(tally_id="bulk", amount=1, total=start + i + 1), meta)
            for i in range(500)], expected_version=start)
    with db.read() as conn:
        [(analysed,)] = on_driver(conn, "SELECT coalesce(last_analyze, last_autoanalyze) "
                                  "FROM pg_stat_user_tables WHERE relid = 'events'::regclass",
                                  ()).fetchall()
        assert analysed is None
        # The statement read_all sends, planned as read_all has it planned (not prepared).
        [(plan,)] = on_driver(conn, "EXPLAIN (FORMAT JSON) " + pg_store._reader.read_all_sql,
                              {"after": 5_000, "limit": 1_000}, prepare=False).fetchall()
    nodes = _plan_nodes((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"])
    assert "Seq Scan" not in nodes, nodes
    assert "Index Scan" in nodes, nodes

    # And it is the right page, read from the table (not from what this store appended).
    page = SqlEventStore(db, tally_registry()).read_all(after=5_000, limit=1_000)
    assert [r.version for r in page] == list(range(5_001, 6_001))


def test_the_database_url_can_set_its_own_planner_costs(postgres_admin_url: str) -> None:
    url = make_url(postgres_admin_url).update_query_dict(
        {"options": "-c random_page_cost=3 -c work_mem=8MB"})
    db = Database(url.render_as_string(hide_password=False))
    try:
        with db.read() as conn:
            settings = [conn.execute(text(f"SHOW {name}")).scalar()
                        for name in ("random_page_cost", "work_mem")]
        with db.write(durable=False) as conn:  # the engine for read models too
            settings.append(conn.execute(text("SHOW random_page_cost")).scalar())
    finally:
        db.dispose()
    assert settings == ["3", "8MB", "3"]

    default = Database(postgres_admin_url)
    try:
        with default.read() as conn:
            assert conn.execute(text("SHOW random_page_cost")).scalar() == "1.1"
    finally:
        default.dispose()
