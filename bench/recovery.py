"""Recovery: a fan-out whose `attend serve` is killed (SIGKILL) mid-way, and two servers.

    python bench/recovery.py [--json] [--postgres URL] [--players 300]

A team of email-only players; a local SMTP server counts each mail by Message-ID. For each
backend and each kill point (10% and 60% of the fan-out delivered), the check's jobs are
written, one `attend serve` starts delivering and is killed by the SMTP server itself as the
n-th mail arrives (before it is answered), then it is started again. Prints ``lost``
(messages never delivered; goal 0), ``duplicates`` (mails received twice; goal at most
``in_flight_limit``) and ``recovery_s`` (from the restart command to every mail received;
goal under 30). With ``--postgres``, two servers share a fan-out (each mails its own SMTP
server): ``share_min`` is the smaller server's part (goal at least 0.35); then the first is
killed during a second fan-out and ``takeover_s`` is the time from the kill until every mail
has arrived (goal under 30).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import parser, postgres_schema, progress, report
from bot.delivery import DEFAULT_PACING
from core.aggregates.common import Channel
from tests.support.delivery_processes import (
    Server,
    counting_server,
    jobs_written,
    seed,
    start_check,
    wait_until,
)

IN_FLIGHT = DEFAULT_PACING[Channel.EMAIL].concurrency


def killed_and_restarted(name: str, url: str, players: int, fraction: float,
                         workdir: Path) -> dict[str, object]:
    progress(f"{name}: {players} players, killed at {fraction:.0%}")
    seed(url, players)
    start_check(url, "G1")
    with counting_server() as (sink, port):
        server = Server(url, port, workdir)
        try:
            server.launch()
            sink.kill_at(max(1, int(players * fraction)), server.pid)
            server.wait_killed()
            at_kill = len(sink.messages())
            progress(f"{name}: killed with {at_kill} delivered; restarting")
            restarted = time.monotonic()
            server.start()
            wait_until(lambda: len(sink.messages()) == players, 90.0)
            recovery = time.monotonic() - restarted
        finally:
            server.stop()
    delivered = len(sink.messages())
    return {"backend": name, "players": players, "killed_at": fraction,
            "delivered_at_kill": at_kill, "lost": players - delivered,
            "duplicates": sink.duplicates(), "in_flight_limit": IN_FLIGHT,
            "recovery_s": round(recovery, 2) if delivered == players else None}


def two_servers(url: str, players: int, workdir: Path) -> dict[str, object]:
    progress(f"postgresql: two servers, {players} players")
    seed(url, players)
    with counting_server() as (sink_a, port_a), counting_server() as (sink_b, port_b):
        first, second = Server(url, port_a, workdir), Server(url, port_b, workdir)

        def delivered() -> int:
            return len(sink_a.messages() | sink_b.messages())

        try:
            first.launch()
            second.launch()
            first.wait_ready()
            second.wait_ready()
            start_check(url, "G1")
            wait_until(lambda: delivered() == players, 90.0)
            shares = [len(s.messages()) / players for s in (sink_a, sink_b)]
            progress(f"postgresql: shares {shares}; a second fan-out, the first server killed")
            start_check(url, "G2")
            wait_until(lambda: jobs_written(url) == 2 * players, 60.0)
            sink_a.kill_at(sink_a.total + players // 10, first.pid)
            first.wait_killed()
            killed = time.monotonic()
            done = wait_until(lambda: delivered() == 2 * players, 90.0)
            takeover = time.monotonic() - killed
        finally:
            first.stop()
            second.stop()
    received = len(sink_a.received) + len(sink_b.received)
    return {"backend": "postgresql", "players": players, "servers": 2,
            "share_min": round(min(shares), 3), "lost": 2 * players - delivered(),
            "duplicates": received - delivered(), "in_flight_limit": IN_FLIGHT,
            "takeover_s": round(takeover, 2) if done is not None else None}


def main() -> None:
    args = parser(__doc__)
    args.add_argument("--players", type=int, default=300)
    options = args.parse_args()
    results: list[dict[str, object]] = []
    for fraction in (0.1, 0.6):
        with tempfile.TemporaryDirectory() as tmp:
            results.append(killed_and_restarted("sqlite", f"sqlite:///{tmp}/attend.db",
                                                options.players, fraction, Path(tmp)))
        if options.postgres:
            with tempfile.TemporaryDirectory() as tmp, \
                    postgres_schema(options.postgres) as url:
                results.append(killed_and_restarted("postgresql", url, options.players,
                                                    fraction, Path(tmp)))
    if options.postgres:
        with tempfile.TemporaryDirectory() as tmp, postgres_schema(options.postgres) as url:
            results.append(two_servers(url, options.players, Path(tmp)))
    report(results, as_json=options.json)


if __name__ == "__main__":
    main()
