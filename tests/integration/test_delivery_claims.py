"""Delivery claims belong to a live worker: renewed while it holds them, lapsed soon after it
dies, given back at once by its restart. Runs on every backend."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest

from core.aggregates.common import Channel
from core.bootstrap import App, bootstrap
from core.deliveries import (
    CLAIM_LEASE,
    Delivered,
    NewJob,
    add_jobs,
    claim_due,
    jobs,
    mark_all_delivered,
    release_claims,
    renew_claims,
)
from core.notifications import NotificationKind
from tests.support.clock import FakeClock
from tests.support.delivery_processes import seed, start_check


@pytest.fixture
def app(database_url: str) -> Iterator[App]:
    seed(database_url, 3)
    start_check(database_url, "G1")  # three invitations to send
    built = bootstrap(database_url)
    yield built
    built.close()


def test_a_renewed_claim_is_kept_and_a_lapsed_one_is_taken_up_in_doubt(app: App) -> None:
    clock = FakeClock(app.clock())
    with app.db.write() as conn:
        held = claim_due(conn, now=clock.now, limit=10, owner="alive")
    assert len(held) == 3 and not any(job.in_doubt for job in held)

    for _ in range(3):  # renewed while the worker runs: nobody else gets them
        clock.advance(seconds=CLAIM_LEASE.total_seconds() * 0.75)
        with app.db.write() as conn:
            assert renew_claims(conn, [j.id for j in held], owner="alive",
                                now=clock.now) == {j.id for j in held}
            assert claim_due(conn, now=clock.now, limit=10, owner="other") == []

    clock.advance(seconds=CLAIM_LEASE.total_seconds() + 1)  # the worker died
    with app.db.write() as conn:
        taken = claim_due(conn, now=clock.now, limit=10, owner="other")
        assert renew_claims(conn, [j.id for j in held], owner="alive", now=clock.now) == set()
    assert len(taken) == 3 and all(job.in_doubt for job in taken)


def test_a_restarted_worker_gives_its_claims_back_at_once(app: App) -> None:
    now = app.clock()
    with app.db.write() as conn:
        claim_due(conn, now=now, limit=10, owner="server-1")
    later = now + timedelta(seconds=1)
    with app.db.write() as conn:
        assert claim_due(conn, now=later, limit=10, owner="server-1") == []
        assert release_claims(conn, owner="server-1", now=later) == 3
        again = claim_due(conn, now=later, limit=10, owner="server-1")
    assert len(again) == 3 and all(job.in_doubt for job in again)


def test_a_round_of_sent_messages_is_settled_at_once_each_with_its_own_reference(
        app: App) -> None:
    now = app.clock()
    with app.db.write() as conn:
        first, second, third = claim_due(conn, now=now, limit=10, owner="server-1")
    with app.db.write() as conn:
        mark_all_delivered(conn, [Delivered(first.id, Channel.EMAIL, "<a@example.org>"),
                                  Delivered(third.id, Channel.SLACK, None)],
                           now=now + timedelta(seconds=1))
    with app.db.read() as conn:
        after = {job.id: job for job in jobs(conn)}
    assert [(after[j.id].status, after[j.id].channel, after[j.id].reference)
            for j in (first, second, third)] == [
        ("delivered", Channel.EMAIL, "<a@example.org>"),
        ("pending", None, None),
        ("delivered", Channel.SLACK, None),
    ]
    with app.db.write() as conn:  # settled: no longer anyone's, never claimed again
        assert release_claims(conn, owner="server-1", now=now + timedelta(seconds=2)) == 1
        again = claim_due(conn, now=now + timedelta(seconds=2), limit=10, owner="server-2")
    assert [job.id for job in again] == [second.id]


def test_jobs_added_in_pages_keep_their_order_and_details_and_never_double(app: App) -> None:
    at = app.clock()
    new = [NewJob(scope="team:bench", recipient_id=f"p{i:03d}", message_key="roster",
                  kind=NotificationKind.INVITATION, team_id="bench", game_id=None,
                  check_id=None, details={"n": i, "name": f"Zoë {i}"},
                  not_before=at + timedelta(seconds=i), position=i)
           for i in range(250)]  # more than one INSERT's worth on PostgreSQL
    with app.db.write() as conn:
        add_jobs(conn, new[:10])
    changed = replace(new[3], details={"n": -1})
    with app.db.write() as conn:  # again, with one already there and one twice over
        add_jobs(conn, [changed, *new, new[200]])
    with app.db.read() as conn:
        added = jobs(conn, scope="team:bench")
    assert [(j.recipient_id, j.details["n"], j.details["name"], j.not_before, j.status)
            for j in added] == [(f"p{i:03d}", i, f"Zoë {i}", at + timedelta(seconds=i),
                                 "pending") for i in range(250)]
