"""Answers per second and p99 latency with the board strongly consistent.

    python bench/domain.py [--json] [--postgres URL] [--answers 4000]

8 client threads answer 50 open checks of a 40-player team through the application service
(the same call every adapter makes); each call returns only once the board read model shows
the answer. Prints record_answer_per_s and record_answer_p50_ms / p99_ms per backend, and as
a baseline measured in the same run the p99 of a plain board read under the same 8-client
load (board_read_p99_ms).
"""

from __future__ import annotations

import random
import statistics
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import backends, parser, progress, report
from core.actors import Actor
from core.aggregates.common import Answer
from core.bootstrap import bootstrap

PLAYERS, CHECKS, CLIENTS = 40, 50, 8


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def run(name: str, url: str, answers: int) -> dict[str, object]:
    app = bootstrap(url, background=True,
                    poll_interval=1.0)
    app.start()
    try:
        service = app.service
        captain = Actor.console("captain@example.com")
        progress(f"{name}: a team of {PLAYERS}")
        service.create_team(captain, "Bench United", "America/Toronto")
        for i in range(PLAYERS - 1):
            service.add_player(captain, f"Player {i}", email=f"p{i}@example.com")
        progress(f"{name}: {CHECKS} games with open checks")
        start = datetime.now(UTC) + timedelta(days=30)
        handles = []
        for g in range(CHECKS):
            status = service.schedule_game(captain, start + timedelta(hours=g))
            service.start_check(captain, status.game.handle)
            handles.append(status.game.handle)
        progress(f"{name}: letting every handler catch up before measuring")
        app.runtime.wait_for(app.store.last_position(), app.runtime.handler_names,
                             timeout=300)
        actors = [captain] + [Actor.console(f"p{i}@example.com") for i in range(PLAYERS - 1)]
        latencies: list[float] = []
        reads: list[float] = []
        lock = threading.Lock()
        per_client = answers // CLIENTS

        def client(seed: int) -> None:
            rng = random.Random(seed)
            # Each client answers for its own players, so the board must show exactly
            # what this client just said.
            players = actors[seed::CLIENTS]
            mine = []
            for _ in range(per_client):
                actor, handle = rng.choice(players), rng.choice(handles)
                answer = rng.choice((Answer.YES, Answer.NO, Answer.MAYBE))
                t0 = time.perf_counter()
                result = service.answer(actor, answer, ref=handle)
                mine.append((time.perf_counter() - t0) * 1000)
                line = next(ln for ln in result.board.lines
                            if ln.player_id == result.player.player_id)
                assert line.answer is answer, "the board must already show the answer"
            with lock:
                latencies.extend(mine)

        def reader(seed: int) -> None:
            rng = random.Random(seed)
            mine = []
            for _ in range(per_client // 4):
                t0 = time.perf_counter()
                service.status(rng.choice(actors), rng.choice(handles))
                mine.append((time.perf_counter() - t0) * 1000)
            with lock:
                reads.extend(mine)

        progress(f"{name}: baseline: board reads from {CLIENTS} clients")
        pool = [threading.Thread(target=reader, args=(i,)) for i in range(CLIENTS)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        progress(f"{name}: {per_client * CLIENTS} answers from {CLIENTS} clients")
        threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        return {
            "backend": name,
            "answers": len(latencies),
            "record_answer_per_s": round(len(latencies) / elapsed),
            "record_answer_p50_ms": round(statistics.median(latencies), 2),
            "record_answer_p99_ms": round(percentile(latencies, 99), 2),
            "board_read_p99_ms": round(percentile(reads, 99), 2),
            "p99_vs_board_read": round(percentile(latencies, 99) / percentile(reads, 99), 2),
        }
    finally:
        app.close()


def main() -> None:
    args_parser = parser(__doc__)
    args_parser.add_argument("--answers", type=int, default=4000)
    args = args_parser.parse_args()
    report([run(name, url, args.answers) for name, url in backends(args.postgres)],
           as_json=args.json)


if __name__ == "__main__":
    main()
