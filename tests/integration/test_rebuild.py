"""Rebuilding the read models from the log gives back exactly what following it gave."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from core.eventstore.database import Database
from core.projections import board as boards
from core.projections import read_models
from core.projections.rebuild import ProjectionInUse, rebuild
from core.projections.tables import board_lines, schedule_games
from tests.support.clock import FakeClock
from tests.support.domain_fixtures import NO, Story, person, tell_a_season

Dump = dict[str, list[tuple[Any, ...]]]


@pytest.fixture
def story(db: Database, clock: FakeClock) -> Story:
    story = Story(db, clock)
    tell_a_season(story)
    story.run_handlers()
    story.runtime.stop()  # as `attend serve` must be before a rebuild
    return story


def dump(db: Database) -> Dump:
    with db.read() as conn:
        return {table.name: sorted((tuple(row) for row in conn.execute(select(table))), key=repr)
                for projection in read_models() for table in projection.tables}


def test_a_rebuild_gives_identical_rows_and_reports_its_progress(story: Story) -> None:
    before = dump(story.db)
    assert all(before.values()), [name for name, rows in before.items() if not rows]
    calls: list[tuple[int, int]] = []
    total = story.store.last_position()

    read = rebuild(story.store, read_models(), owner="test-rebuild",
                   progress=lambda done, of: calls.append((done, of)), batch_size=7)

    assert read == len(story.store.read_all(limit=10_000)) == total
    assert dump(story.db) == before
    assert len(calls) == -(-total // 7)
    assert [done for done, _ in calls] == sorted({done for done, _ in calls})
    assert calls[-1] == (total, total) and {of for _, of in calls} == {total}
    assert all(story.store.checkpoint(p.name) == total for p in story.handlers)


def test_a_rebuild_repairs_damaged_rows_and_the_service_carries_on(story: Story) -> None:
    before = dump(story.db)
    with story.db.write() as conn:
        conn.execute(delete(board_lines))
        conn.execute(update(schedule_games).values(number=99 + schedule_games.c.number))

    rebuild(story.store, read_models(), owner="test-rebuild")
    assert dump(story.db) == before

    # A new runtime goes on from the rebuilt checkpoint: the next answer lands once.
    story.runtime = story.new_runtime()
    story.answer("c-b1", person("Gus"), NO)
    board = story.read(boards.board, "c-b1")
    assert board is not None and [c.answer for c in board.history] == ["maybe", "no"]


def test_a_rebuild_refuses_while_the_service_runs_and_changes_nothing(story: Story) -> None:
    running = story.new_runtime()
    running.run_until_idle()  # holds every lease, as `attend serve` does
    before = dump(story.db)
    # Let the roster go, so the rebuild takes it before it meets the directory, still held.
    roster_lease = story.store.acquire_lease("roster", owner=running.owner, now=time.time(),
                                             ttl=30)
    assert roster_lease is not None
    story.store.release_lease(roster_lease)

    with pytest.raises(ProjectionInUse, match="stop `attend serve` first"):
        rebuild(story.store, read_models(), owner="test-rebuild")
    assert dump(story.db) == before  # not even the roster was cleared
    someone = story.store.acquire_lease("roster", owner="someone", now=time.time(), ttl=30)
    assert someone is not None  # and the rebuild let go of it
    story.store.release_lease(someone)

    running.stop()
    assert rebuild(story.store, read_models(), owner="test-rebuild") > 0
    assert dump(story.db) == before
