"""Chat: how fast Slack's requests are acknowledged, how close a fan-out of DMs comes to a
platform's rate limit, and how many edits a burst of answers costs the channel's board.

    python bench/chat.py [--json] [--postgres URL] [--rounds 50] [--dms 500] [--limit 50]

Everything runs against the local Slack stand-in (tests/support/slack_api.py) over real HTTP.

- ``ack_p99_ms``: ``attend serve`` in its own process, with Slack set; 8 clients at once,
  each a player on the team, send signed requests to ``/slack/events``: a slash command
  (``/attend status G1``) and a tap on their DM's buttons (recorded before the
  acknowledgement), ``--rounds`` of each. The 99th percentile of the time to the HTTP answer
  (the ``ack``), per kind; the baseline is ``/attend help`` in the same run, which touches
  no database. Goal: under 100 ms (Slack allows 3,000).
- ``fanout_vs_limit``: ``--dms`` Slack invitations delivered through a stand-in that answers
  ``chat.postMessage`` with 429 past ``--limit`` calls a second, by the delivery worker with
  its Slack lane paced to that limit; the time from the first send to the last DM accepted,
  over ``dms / limit`` seconds (the least the limit allows). The lane is paced at 93 % of
  the limit, leaving room for jitter (a 429 pauses the lane for its ``Retry-After``, a
  second). Goal: at most 1.1.
- ``channel_edits_per_burst``: a team of 40 bound to a channel; 40 answers by email over
  about two seconds while ``attend serve``'s edit worker runs (default delay and pacing); the
  ``chat.update`` calls on the board, and whether the last one shows all 40. Baseline: 40
  (one edit per answer). Goal: at most 5.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import backends, parser, progress, report
from bot.config import SlackConfig
from bot.delivery import DeliveryWorker, Pacing
from bot.edits.slack import SlackEditor
from bot.edits.worker import EditWorker
from bot.slack.app import slack_channel, slack_client
from core.actors import Actor
from core.aggregates.common import Answer, Channel, PlayerProfile
from core.aggregates.team import AddPlayer
from core.bootstrap import bootstrap
from tests.support.slack_api import SECRET, FakeSlack, signed
from tests.support.smtp_sink import free_loopback_port

WORKSPACE, CHANNEL, CLIENTS = "T0001", "C1", 8
CAPTAIN = Actor.slack(WORKSPACE, "U0")
KEYS = "bench-chat-key-0123456789abcdefghij"
PACE_SHARE = 0.93  # of the stand-in's limit, for the fan-out's pacing


def _p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


# -- ack_p99_ms ----------------------------------------------------------------------------------
def _seed(url: str, players: int) -> str:
    """A Slack team of ``players`` with a game and an open check; its check id."""
    app = bootstrap(url)
    try:
        service = app.service
        service.create_team(CAPTAIN, "Bench United", "America/Toronto")
        for i in range(1, players + 1):
            service.add_player(CAPTAIN, f"Player {i}", slack_user=f"{WORKSPACE}:U{i}")
        service.bind_channel(CAPTAIN, "slack", f"{WORKSPACE}:{CHANNEL}")
        service.schedule_game(CAPTAIN, datetime.now(UTC) + timedelta(days=3), opponent="Hawks")
        check_id = service.start_check(CAPTAIN, "G1").game.check_id
        assert check_id is not None
        return check_id
    finally:
        app.close()


def acks(url: str, rounds: int, fake: FakeSlack) -> dict[str, object]:
    check_id = _seed(url, CLIENTS)
    port = free_loopback_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "ATTEND_DATABASE_URL": url, "ATTEND_SECRET_KEYS": KEYS,
           "ATTEND_PORT": str(port), "ATTEND_SLACK_BOT_TOKEN": "xoxb-test",
           "ATTEND_SLACK_SIGNING_SECRET": SECRET, "ATTEND_SLACK_API_URL": fake.url}
    server = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(base)

        def post(form: dict[str, str]) -> float:
            body = urlencode(form)
            request = urllib.request.Request(f"{base}/slack/events", data=body.encode(),
                                             headers=signed(body))
            t0 = time.perf_counter()
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
                assert response.status == 200
            return (time.perf_counter() - t0) * 1000

        def command(user: str, text: str) -> float:
            return post({"command": "/attend", "text": text, "team_id": WORKSPACE,
                         "user_id": user, "channel_id": CHANNEL,
                         "response_url": fake.response_url(f"cmd-{user}")})

        def tap(user: str, answer: str) -> float:
            return post({"payload": json.dumps({
                "type": "block_actions", "user": {"id": user, "team_id": WORKSPACE},
                "team": {"id": WORKSPACE}, "response_url": fake.response_url(f"tap-{user}"),
                "actions": [{"type": "button", "action_id": f"attend_{answer}",
                             "value": check_id, "block_id": f"attend:{check_id}",
                             "action_ts": "1"}]})})

        def client(i: int) -> dict[str, list[float]]:
            user = f"U{i}"
            found: dict[str, list[float]] = {"help": [], "command": [], "tap": []}
            for r in range(rounds):
                found["help"].append(command(user, "help"))
                found["command"].append(command(user, "status G1"))
                found["tap"].append(tap(user, ("yes", "no")[r % 2]))
            return found

        for i in range(1, CLIENTS + 1):  # warm up: first requests load code and caches
            command(f"U{i}", "status G1")
            tap(f"U{i}", "maybe")
        with ThreadPoolExecutor(CLIENTS) as pool:
            results = list(pool.map(client, range(1, CLIENTS + 1)))
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=60)
    samples = {kind: [ms for r in results for ms in r[kind]] for kind in results[0]}
    p99 = {kind: round(_p99(values), 1) for kind, values in samples.items()}
    return {
        "clients": CLIENTS, "requests_per_kind": len(samples["tap"]),
        "ack_p99_ms": {"slash_command": p99["command"], "tap": p99["tap"]},
        "ack_median_ms": {"slash_command": round(statistics.median(samples["command"]), 1),
                          "tap": round(statistics.median(samples["tap"]), 1)},
        "baseline_help_p99_ms": p99["help"],
        "ratio_to_baseline": {"slash_command": round(p99["command"] / p99["help"], 2),
                              "tap": round(p99["tap"] / p99["help"], 2)},
    }


def _wait_for(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("attend serve did not answer /healthz within 60 s")


# -- fanout_vs_limit -----------------------------------------------------------------------------
def fan_out(url: str, dms: int, limit: float) -> dict[str, object]:
    with FakeSlack(token="xoxb-test", team_id=WORKSPACE) as fake:
        fake.throttle("chat.postMessage", limit)
        app = bootstrap(url)
        try:
            context = app.service.create_team(CAPTAIN, "Bench United", "America/Toronto")
            team_id = context.team.team_id
            for i in range(1, dms):  # the captain is the dms-th invitee
                app.router.dispatch(AddPlayer(team_id=team_id, player=PlayerProfile(
                    player_id=f"p{i:05d}", name=f"Player {i}",
                    slack_user=f"{WORKSPACE}:U{i}")), actor=CAPTAIN.key)
            app.run_handlers()
            app.service.schedule_game(CAPTAIN, datetime.now(UTC) + timedelta(days=3),
                                      opponent="Hawks")
            app.service.start_check(CAPTAIN, "G1")
            app.run_handlers()
            config = SlackConfig(bot_token="xoxb-test", signing_secret="x", api_url=fake.url)
            # The Slack lane paced just under the stated limit (a hair of jitter must not
            # trip it: a 429 pauses the lane for its Retry-After), several sends in flight
            # so one slow answer does not cost the pace.
            pacing = {Channel.SLACK: Pacing(interval=1 / (PACE_SHARE * limit), concurrency=4,
                                            queue=dms)}
            worker = DeliveryWorker(app.db, app.router,
                                    {Channel.SLACK: slack_channel(config, None)},
                                    clock=lambda: datetime.now(UTC), pacing=pacing,
                                    poll_interval=0.1)
            elapsed, window = asyncio.run(_deliver(worker, fake, dms))
            accepted = sum(1 for m in fake.messages() if m.channel.startswith("D"))
            limited = sum(1 for c in fake.calls("chat.postMessage") if c.limited)
        finally:
            app.close()
    floor = dms / limit
    return {"dms": dms, "limit_per_s": limit, "paced_at_per_s": PACE_SHARE * limit,
            "accepted": accepted,
            "time_to_all_s": round(elapsed, 2), "first_to_last_s": round(window, 2),
            "limit_floor_s": round(floor, 2),
            "fanout_vs_limit": round(elapsed / floor, 3), "answered_429": limited}


async def _deliver(worker: DeliveryWorker, fake: FakeSlack, dms: int) -> tuple[float, float]:
    """Seconds from the worker's start to the last DM accepted, and from the first."""
    def accepted() -> int:
        return sum(1 for m in fake.messages() if m.channel.startswith("D"))

    t0 = time.perf_counter()
    first = None
    worker.start()
    try:
        deadline = t0 + 10 * dms
        while (count := accepted()) < dms and time.perf_counter() < deadline:
            if first is None and count:
                first = time.perf_counter()
            await asyncio.sleep(0.01)
        end = time.perf_counter()
        return end - t0, end - (first or t0)
    finally:
        await worker.stop()


# -- channel_edits_per_burst ---------------------------------------------------------------------
def burst(url: str, answers: int = 40) -> dict[str, object]:
    with FakeSlack(token="xoxb-test", team_id=WORKSPACE) as fake:
        app = bootstrap(url, background=True)
        app.start()
        try:
            service = app.service
            service.create_team(CAPTAIN, "Bench United", "America/Toronto")
            players = [service.add_player(CAPTAIN, f"Player {i}", email=f"p{i}@example.org")
                       for i in range(answers)]
            service.bind_channel(CAPTAIN, "slack", f"{WORKSPACE}:{CHANNEL}")
            service.schedule_game(CAPTAIN, datetime.now(UTC) + timedelta(days=3),
                                  opponent="Hawks")
            check_id = service.start_check(CAPTAIN, "G1").game.check_id
            assert check_id is not None
            config = SlackConfig(bot_token="xoxb-test", signing_secret="x", api_url=fake.url)

            async def token(_workspace: str) -> str | None:
                return "xoxb-test"

            def caught_up() -> None:
                app.runtime.wait_for(app.store.last_position(), ("board", "roster",
                                                                 "schedule"))

            worker = EditWorker(app.db, app.router,
                                {"slack": SlackEditor(slack_client(config), token)},
                                clock=app.clock, catch_up=caught_up)
            return asyncio.run(_burst(worker, fake, service, check_id, players))
        finally:
            app.close()


async def _burst(worker: EditWorker, fake: FakeSlack, service: Any, check_id: str,
                 players: list[Any]) -> dict[str, object]:
    worker.start()
    try:
        while not fake.messages(CHANNEL):
            await asyncio.sleep(0.02)
        before = fake.messages(CHANNEL)[0].updates

        def answer_all() -> float:
            t0 = time.perf_counter()
            for i, player in enumerate(players):
                service.answer_by_link(check_id, player.player_id, Answer.YES)
                pause = t0 + 2.0 * (i + 1) / len(players) - time.perf_counter()
                if pause > 0:
                    threading.Event().wait(pause)
            return time.perf_counter() - t0

        spread = await asyncio.to_thread(answer_all)
        done_at = time.perf_counter()
        everyone = f"In {len(players)} · Out 0"
        while everyone not in _text(fake.messages(CHANNEL)[0]):
            await asyncio.sleep(0.01)
        shown_after = time.perf_counter() - done_at
        await asyncio.sleep(3.0)  # any edit still to come comes by now
    finally:
        await worker.stop()
    board = fake.messages(CHANNEL)[0]
    return {"answers": len(players), "answers_over_s": round(spread, 2),
            "channel_edits_per_burst": board.updates - before,
            "last_edit_shows_all": everyone in _text(board),
            "final_shown_after_last_answer_s": round(shown_after, 2),
            "baseline_edits_one_per_answer": len(players)}


def _text(message: Any) -> str:
    return str(message.blocks[0]["text"]["text"]) if message.blocks else ""


def main() -> None:
    args = parser(__doc__)
    args.add_argument("--rounds", type=int, default=50, help="requests per kind per client")
    args.add_argument("--dms", type=int, default=500)
    args.add_argument("--limit", type=float, default=50.0, help="the stand-in's limit, per s")
    args.add_argument("--only", choices=("ack", "fanout", "burst"), help="one measure")
    options = args.parse_args()
    results: list[dict[str, object]] = []
    wanted = {options.only} if options.only else {"ack", "fanout", "burst"}
    for name, url in backends(options.postgres) if "ack" in wanted else ():
        progress(f"{name}: acknowledgements, {CLIENTS} clients")
        with FakeSlack(token="xoxb-test", team_id=WORKSPACE) as fake:
            results.append({"backend": name, "measure": "ack", **acks(url, options.rounds,
                                                                      fake)})
    for name, url in backends(options.postgres) if "fanout" in wanted else ():
        progress(f"{name}: {options.dms} DMs against {options.limit:g} a second")
        results.append({"backend": name, "measure": "fanout",
                        **fan_out(url, options.dms, options.limit)})
    for name, url in backends(options.postgres) if "burst" in wanted else ():
        progress(f"{name}: a burst of 40 answers")
        results.append({"backend": name, "measure": "burst", **burst(url)})
    report(results, as_json=options.json)


if __name__ == "__main__":
    main()
