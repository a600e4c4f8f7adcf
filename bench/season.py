"""The season page's read time while answers flow, against a plain board read.

    python bench/season.py [--json] [--postgres URL] [--reads 400]

A 40-player team with 30 games, each with an attendance check that every player has
answered. While 4 client threads keep answering through the application service (the call
every adapter makes), 2 reader threads take turns reading what the captain's season page
shows (``season_table``, the page's one service call), a player's calendar feed
(``calendar``), and, as the baseline measured in the same run under the same load, one
game's board (``board_for_game``, what the board page reads). Prints season_read_p50_ms /
season_read_p99_ms (goal: under 20 ms at p99), the season's p99 with no answers flowing
(season_read_quiet_p99_ms), calendar_read_p99_ms, board_read_p50_ms / p99_ms and the ratio
season_read_p99_vs_board_read per backend.
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

PLAYERS, GAMES, ANSWERING, READERS = 40, 30, 4, 2
GOAL_P99_MS = 20.0
ANSWERS = (Answer.YES, Answer.NO, Answer.MAYBE)


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def run(name: str, url: str, reads: int) -> dict[str, object]:
    app = bootstrap(url, background=True, poll_interval=1.0)
    app.start()
    try:
        service = app.service
        captain = Actor.console("captain@example.com")
        progress(f"{name}: a team of {PLAYERS} and {GAMES} games with checks")
        team = service.create_team(captain, "Bench United", "America/Toronto").team
        for i in range(PLAYERS - 1):
            service.add_player(captain, f"Player {i}", email=f"p{i}@example.com")
        start = datetime.now(UTC) + timedelta(days=30)
        games = []
        for g in range(GAMES):
            status = service.schedule_game(captain, start + timedelta(days=7 * g),
                                           opponent=f"Rivals {g}", location="Monarch Park")
            games.append(service.start_check(captain, status.game.handle).game)
        actors = [captain] + [Actor.console(f"p{i}@example.com") for i in range(PLAYERS - 1)]
        progress(f"{name}: every player answers every game ({PLAYERS * GAMES} answers)")
        rng = random.Random(7)
        for actor in actors:
            for game in games:
                service.answer(actor, rng.choice(ANSWERS), ref=game.handle)
        app.runtime.wait_for(app.store.last_position(), app.runtime.handler_names,
                             timeout=300)
        me = service.context(captain).player
        page_actor = Actor.player(team.team_id, me.player_id)

        stop = threading.Event()
        answered = [0] * ANSWERING
        timings: dict[str, list[float]] = {"season": [], "calendar": [], "board": []}
        lock = threading.Lock()

        def answering(seed: int) -> None:
            local = random.Random(seed)
            while not stop.is_set():
                service.answer(local.choice(actors), local.choice(ANSWERS),
                               ref=local.choice(games).handle)
                answered[seed] += 1

        def reader(seed: int) -> None:
            local = random.Random(100 + seed)
            mine: dict[str, list[float]] = {k: [] for k in timings}
            reads_of = {
                "season": lambda: service.season_table(page_actor, team.team_id, captain=True),
                "calendar": lambda: service.calendar(page_actor, team.team_id),
                "board": lambda: service.board_for_game(local.choice(games).game_id),
            }
            for _ in range(reads // READERS if seed < READERS else reads):
                for kind in local.sample(list(reads_of), k=len(reads_of)):
                    t0 = time.perf_counter()
                    reads_of[kind]()
                    mine[kind].append((time.perf_counter() - t0) * 1000)
            with lock:
                for kind, samples in mine.items():
                    timings[kind].extend(samples)

        progress(f"{name}: {reads} reads of each kind, quiet")
        quiet = threading.Thread(target=reader, args=(9,))
        quiet.start()
        quiet.join()
        quiet_season = timings["season"]
        timings = {kind: [] for kind in timings}
        progress(f"{name}: {reads} reads of each kind while {ANSWERING} clients answer")
        writers = [threading.Thread(target=answering, args=(i,)) for i in range(ANSWERING)]
        readers = [threading.Thread(target=reader, args=(i,)) for i in range(READERS)]
        for t in writers:
            t.start()
        t0 = time.perf_counter()
        for t in readers:
            t.start()
        for t in readers:
            t.join()
        elapsed = time.perf_counter() - t0
        stop.set()
        for t in writers:
            t.join()
        season, board = timings["season"], timings["board"]
        return {
            "backend": name,
            "players": PLAYERS,
            "games": GAMES,
            "answers_per_s_meanwhile": round(sum(answered) / elapsed),
            "season_read_p50_ms": round(statistics.median(season), 2),
            "season_read_p99_ms": round(percentile(season, 99), 2),
            "season_read_goal_p99_ms": GOAL_P99_MS,
            "season_read_quiet_p99_ms": round(percentile(quiet_season, 99), 2),
            "calendar_read_p99_ms": round(percentile(timings["calendar"], 99), 2),
            "board_read_p50_ms": round(statistics.median(board), 2),
            "board_read_p99_ms": round(percentile(board, 99), 2),
            "season_read_p99_vs_board_read": round(percentile(season, 99)
                                                   / percentile(board, 99), 2),
        }
    finally:
        app.close()


def main() -> None:
    args_parser = parser(__doc__)
    args_parser.add_argument("--reads", type=int, default=400)
    args = args_parser.parse_args()
    report([run(name, url, args.reads) for name, url in backends(args.postgres)],
           as_json=args.json)


if __name__ == "__main__":
    main()
