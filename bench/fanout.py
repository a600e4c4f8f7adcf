"""Fan-out: from a captain starting a check to every player's invitation accepted by SMTP.

    python bench/fanout.py [--json] [--postgres URL] [--players 1000] [--baseline 250]
                           [--rounds 3]

A team of email-only players; a local SMTP server (aiosmtpd, in its own process, on a free
loopback port) accepts and counts the mail. Everything runs as in ``attend serve``: the
handlers (process manager, notifier, read models) follow the log in their threads, and the
delivery worker, on serve's event loop (``bot.event_loop``), sends with its default email
pacing (several connections, batches per connection, connections kept between batches).
The clock runs from ``start_check`` to the last invitation accepted by the server. Prints,
per backend and team size: ``invitations_per_s``, ``time_to_all_delivered_s`` and
``peak_memory_mb`` (the tracemalloc peak over the same work, measured in a second,
identical run so tracing does not slow the timed one), ``fanout_vs_smtp_floor`` (the time a
plain aiosmtplib loop, one connection, on the same event loop, takes to send the same
invitations to the same server in the same run, over Attend's time; goal at least 0.7: the
floor resends the very notifications the worker sent, built beforehand by the same channel,
and ``mail_bytes`` / ``floor_mail_bytes`` show the server got mails of one size), each
fan-out measured with its floor right after it, ``--rounds`` times: the figures are those
of the round with the median ratio, and ``round_ratios`` lists every round's (a machine
shared with others can slow either side by half between two runs), then ``memory_ratio``:
the peak for the big team over the peak for the baseline team, which is near 1 when memory
does not grow with the team.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import sys
import tempfile
import time
import tracemalloc
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any

import aiosmtplib

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import postgres_schema, progress
from bot import event_loop
from bot.delivery import DEFAULT_PACING, DeliveryWorker
from bot.delivery.jobs import Ready, prepare
from bot.delivery.reads import Reads
from bot.email.channel import EmailChannel
from bot.email.smtp import KEEP_ALIVE, SmtpMailer, SmtpSettings
from bot.links import LinkSigner
from core.actors import Actor
from core.aggregates.common import Channel, PlayerProfile
from core.aggregates.team import AddPlayer
from core.bootstrap import App, bootstrap, utc_now
from core.deliveries import jobs
from core.notifications import Notification
from tests.support.smtp_sink import free_loopback_port

KEYS = ("bench-fanout-key-0123456789abcdef",)
CAPTAIN = Actor.console("captain@example.com")


def _serve_smtp(port: int, accepted: Synchronized[int], size: Synchronized[int], ready: Any,
                stop: Any) -> None:
    from aiosmtpd.controller import Controller

    class Count:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            with accepted.get_lock():
                accepted.value += 1
                size.value += len(envelope.original_content or envelope.content)
            return "250 OK"

    controller = Controller(Count(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


class SmtpSink:
    """An SMTP server in its own process, so its work is not in our timings or memory."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.port = free_loopback_port()
        self.accepted: Synchronized[int] = context.Value("i", 0)
        self.bytes: Synchronized[int] = context.Value("q", 0)  # of the messages accepted
        ready, self._stop = context.Event(), context.Event()
        self._process = context.Process(target=_serve_smtp, daemon=True,
                                        args=(self.port, self.accepted, self.bytes, ready,
                                              self._stop))
        self._process.start()
        if not ready.wait(30):
            raise RuntimeError("the SMTP sink did not start")

    def close(self) -> None:
        self._stop.set()
        self._process.join(10)


@dataclass(frozen=True, slots=True)
class Run:
    elapsed: float  # start_check until the last mail is accepted
    fanned: float  # start_check until it returns (the check is open, its board shown)
    peak: int  # tracemalloc's peak, when traced
    bytes: int  # of the mails the server accepted
    notifications: list[Notification]  # what was sent, for the floor to send again


def fan_out(url: str, players: int, sink: SmtpSink, *, trace: bool) -> Run:
    app = bootstrap(url, background=True)
    app.start()  # the handlers follow the log in their threads, as in ``attend serve``
    try:
        context = app.service.create_team(CAPTAIN, "Bench United", "America/Toronto")
        team_id = context.team.team_id
        for i in range(players - 1):
            app.router.dispatch(AddPlayer(team_id=team_id, player=PlayerProfile(
                player_id=f"p{i:05d}", name=f"Player {i}", email=f"p{i}@example.com")),
                actor=CAPTAIN.key)
        app.run_handlers()
        app.service.schedule_game(CAPTAIN, datetime.now(UTC) + timedelta(days=3),
                                  opponent="Hawks")
        mailer = SmtpMailer(SmtpSettings(host="127.0.0.1", port=sink.port, starttls=False,
                                         local_hostname="localhost"),
                            keep_alive=KEEP_ALIVE,  # as ``attend serve`` has it
                            kept=DEFAULT_PACING[Channel.EMAIL].concurrency)
        channel = EmailChannel(mailer, LinkSigner(KEYS), base_url="https://attend.example.org",
                               sender="Attend <attend@example.org>", clock=utc_now)
        worker = DeliveryWorker(app.db, app.router, {Channel.EMAIL: channel}, clock=utc_now,
                                generation=app.runtime.generation)  # as serve makes it
        before, size_before = sink.accepted.value, sink.bytes.value
        if trace:
            tracemalloc.start()
        elapsed, fanned = event_loop.run(_deliver(app, worker, sink, before, players))
        peak = tracemalloc.get_traced_memory()[1] if trace else 0
        tracemalloc.stop()
        with app.db.read() as conn:
            sent = jobs(conn)
            # What the worker sent, to send again for the floor (prepared as it prepares).
            reads = Reads(conn, ((job.team_id, job.recipient_id) for job in sent))
            notifications = [ready.notification for job in sent if isinstance(
                ready := prepare(reads, job, utc_now(), [], router=app.router,
                                 channels={Channel.EMAIL: channel}), Ready)]
        delivered = [job.status for job in sent].count("delivered")
        if delivered != players or sink.accepted.value - before != players:
            raise RuntimeError(f"only {delivered} of {players} delivered")
        if len(notifications) != players:
            raise RuntimeError("could not rebuild the invitations for the floor")
        return Run(elapsed, fanned, peak, sink.bytes.value - size_before, notifications)
    finally:
        app.close()


async def _deliver(app: App, worker: DeliveryWorker, sink: SmtpSink, before: int,
                   players: int) -> tuple[float, float]:
    """As in ``attend serve``: the worker follows the jobs table (woken when jobs are
    written) while the check fans out; the clock runs from ``start_check`` to the last mail
    accepted."""
    worker.start()
    unsubscribe = app.on_new_jobs(worker.wake)
    try:
        t0 = time.perf_counter()
        await asyncio.to_thread(app.service.start_check, CAPTAIN, "G1")
        fanned = time.perf_counter() - t0
        reported = t0
        while sink.accepted.value - before < players:
            if time.perf_counter() - t0 > 600:
                break
            if time.perf_counter() - reported > 1.0:
                reported = time.perf_counter()
                progress(f"   {sink.accepted.value - before} of {players} accepted")
            await asyncio.sleep(0.005)
        elapsed = time.perf_counter() - t0
        for _ in range(1000):  # the last outcomes are being recorded (not timed)
            with app.db.read() as conn:
                if len(jobs(conn, statuses=["delivered"])) >= players:
                    break
            await asyncio.sleep(0.01)
        return elapsed, fanned
    finally:
        unsubscribe()
        await worker.stop()


def smtp_floor(notifications: list[Notification], sink: SmtpSink) -> tuple[float, int]:
    """Seconds for a plain aiosmtplib loop (one connection, one message after another) to
    hand the same invitations (the notifications the worker sent, built again beforehand by
    the same channel, so the same sizes), to the same server: the floor that Attend's
    fan-out is measured against. Also the bytes the server accepted."""
    channel = EmailChannel(SmtpMailer(SmtpSettings(host="127.0.0.1", port=sink.port)),
                           LinkSigner(KEYS), base_url="https://attend.example.org",
                           sender="Attend <attend@example.org>", clock=utc_now)
    messages = [channel.message(n) for n in notifications]

    async def send() -> float:
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=sink.port, start_tls=False,
                               local_hostname="localhost")
        t0 = time.perf_counter()
        await smtp.connect()
        for mail in messages:
            await smtp.sendmail(mail.sender, [mail.recipient], mail.data)
        await smtp.quit()
        return time.perf_counter() - t0

    before, size_before = sink.accepted.value, sink.bytes.value
    elapsed = event_loop.run(send())  # on the loop Attend runs on
    if sink.accepted.value - before != len(messages):
        raise RuntimeError("the SMTP floor lost mail")
    return elapsed, sink.bytes.value - size_before


def measure(name: str, url_for: Any, players: int, sink: SmtpSink,
            rounds: int) -> dict[str, object]:
    measured: list[tuple[float, Run, float, int]] = []  # ratio, fan-out, floor, floor bytes
    try:
        for done in range(rounds):
            progress(f"{name}: {players} email players, timed (round {done + 1} of {rounds})")
            run = fan_out(url_for(), players, sink, trace=False)
            progress(f"{name}: the same {players} invitations by a plain aiosmtplib loop")
            floor_s, floor_size = smtp_floor(run.notifications, sink)
            measured.append((floor_s / run.elapsed, run, floor_s, floor_size))
        progress(f"{name}: {players} email players again, with tracemalloc")
        traced = fan_out(url_for(), players, sink, trace=True)
    except Exception as error:  # report it and go on with the other measurements
        progress(f"{name}: {players} players FAILED: {str(error).splitlines()[0][:200]}")
        return {"backend": name, "players": players,
                "error": str(error).splitlines()[0][:200]}
    ratios = [ratio for ratio, *_ in measured]
    _, timed, floor, floor_bytes = sorted(measured, key=lambda m: m[0])[len(measured) // 2]
    return {
        "backend": name,
        "players": players,
        "invitations_per_s": round(players / timed.elapsed),
        "time_to_all_delivered_s": round(timed.elapsed, 2),
        "fan_out_s": round(timed.fanned, 2),  # start_check until it returns to the captain
        "peak_memory_mb": round(traced.peak / 2**20, 1),
        "smtp_floor_s": round(floor, 2),
        # The floor sends what the fan-out sent: the same mails, the same bytes (give or
        # take the Date and the part boundaries).
        "mail_bytes": round(timed.bytes / players),
        "floor_mail_bytes": round(floor_bytes / players),
        # Attend's throughput against the floor's: 1.0 would be as fast as the bare loop.
        "fanout_vs_smtp_floor": round(floor / timed.elapsed, 2),
        "round_ratios": [round(ratio, 2) for ratio in ratios],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--postgres", help="also measure PostgreSQL at this URL")
    parser.add_argument("--players", type=int, default=1000)
    parser.add_argument("--baseline", type=int, default=250)
    parser.add_argument("--no-sqlite", action="store_true", help="measure PostgreSQL only")
    parser.add_argument("--rounds", type=int, default=3,
                        help="fan-outs, each with its floor, per team size (the median counts)")
    args = parser.parse_args()
    sink = SmtpSink()
    results: list[dict[str, object]] = []
    schemas = ExitStack()  # each PostgreSQL measurement gets a fresh schema, dropped at the end
    try:
        with tempfile.TemporaryDirectory() as tmp:
            counter = iter(range(1000))

            def sqlite_url() -> str:
                return f"sqlite:///{tmp}/fanout-{next(counter)}.db"

            backends: list[tuple[str, Any]] = [] if args.no_sqlite else [
                ("sqlite", sqlite_url)]
            if args.postgres:
                def postgres_url() -> str:
                    return schemas.enter_context(postgres_schema(args.postgres))

                backends.append(("postgresql", postgres_url))
            for name, url_for in backends:
                small = measure(name, url_for, args.baseline, sink, args.rounds)
                big = measure(name, url_for, args.players, sink, args.rounds)
                if "error" not in small and "error" not in big:
                    ratio = float(str(big["peak_memory_mb"])) / max(
                        float(str(small["peak_memory_mb"])), 0.1)
                    big = {**big, "memory_ratio": round(ratio, 2),
                           "team_size_ratio": round(args.players / args.baseline, 2)}
                results += [small, big]
    finally:
        sink.close()
        schemas.close()
    for result in results:
        print(json.dumps(result) if args.json else json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
