"""Delivery survives a crash, and servers share it: real `attend serve` processes mailing a
fan-out to a local SMTP server, one of them killed with SIGKILL in the middle.

What a captain would notice: every player is asked (nothing lost), at most the messages in
flight at the kill arrive twice (with the same Message-ID), and the rest go out promptly
after a restart, or from the other server when there are two.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.delivery import DEFAULT_PACING
from core.aggregates.common import Channel
from tests.support.databases import make_database_url
from tests.support.delivery_processes import (
    Server,
    counting_server,
    jobs_written,
    seed,
    start_check,
    wait_until,
)

pytestmark = pytest.mark.slow

IN_FLIGHT = DEFAULT_PACING[Channel.EMAIL].concurrency  # sends unrecorded at any moment
TAKEOVER_S = 30.0  # a dead server's claims are another's within this


def test_a_server_killed_mid_fan_out_delivers_the_rest_promptly_after_a_restart(
        database_url: str, tmp_path: Path) -> None:
    players = 100
    seed(database_url, players)
    start_check(database_url, "G1")  # nobody serving: the jobs are written in the foreground
    with counting_server() as (sink, smtp_port):
        server = Server(database_url, smtp_port, tmp_path)
        try:
            server.launch()
            sink.kill_at(players // 10, server.pid)
            server.wait_killed()
            sent_before = len(sink.messages())
            assert sent_before < players  # killed mid fan-out

            server.start()
            recovered = wait_until(lambda: len(sink.messages()) == players, 30.0)
        finally:
            server.stop()
    assert recovered is not None, f"only {len(sink.messages())} of {players} arrived"
    assert sink.duplicates() <= IN_FLIGHT
    assert all(n == 1 for n in sink.recipients_of_repeats().values())  # same Message-ID


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from make_database_url("postgresql", request, tmp_path)


@pytest.mark.postgres
def test_two_servers_share_a_fan_out_and_one_takes_over_when_the_other_dies(
        postgres_url: str, tmp_path: Path) -> None:
    url = postgres_url
    players = 200
    seed(url, players)
    with counting_server() as (sink_a, port_a), counting_server() as (sink_b, port_b):
        first, second = Server(url, port_a, tmp_path), Server(url, port_b, tmp_path)
        try:
            first.launch()
            second.launch()
            first.wait_ready()
            second.wait_ready()

            start_check(url, "G1")
            assert wait_until(lambda: len(sink_a.messages() | sink_b.messages()) == players,
                              60.0) is not None
            shares = [len(sink.messages()) / players for sink in (sink_a, sink_b)]
            assert all(0.35 <= share <= 0.65 for share in shares), shares

            start_check(url, "G2")
            assert wait_until(lambda: jobs_written(url) == 2 * players, 30.0) is not None
            sink_a.kill_at(sink_a.total + 10, first.pid)
            first.wait_killed()
            took_over = wait_until(
                lambda: len(sink_a.messages() | sink_b.messages()) == 2 * players, 45.0)
        finally:
            first.stop()
            second.stop()
    assert took_over is not None and took_over < TAKEOVER_S, took_over
    repeats = len(sink_a.received) + len(sink_b.received) - len(
        sink_a.messages() | sink_b.messages())
    assert repeats <= IN_FLIGHT
