"""The scheduling rules: given a game's state and its team's timing, the due items.

Pure functions, no tables and no clock reads (``at`` is the time of the event that asks
for a plan); :mod:`core.projections.due_work` keeps the rows and writes what these decide.

- ``start_check`` at the start minus the team's check lead time, or at ``at`` when that has
  passed (a game scheduled with less time to go gets its check at once): :func:`check_starts_at`;
- ``remind`` at the start minus each reminder time, only if that falls after ``at`` and after
  the check starts (or opened); its ``reminder_key`` is ``<minutes>@<start, UTC,
  YYYYMMDDTHHMMZ>`` (e.g. ``1440@20261205T1900Z``), so a moved game gets its reminders again
  for the new time;
- ``minimum_check``, only while the team has a minimum: at the latest reminder time (the
  smallest reminder minutes, or 3 hours before a team with no reminders), under the same rule
  as a reminder. Its key, which the scheduler sends as ``AlertIfBelowMinimum``'s, holds the
  start (``g1:minimum_check:20261205T1900Z``) but not the minutes: a moved game is checked
  again, changed reminder times only move a check still pending;
- ``ask_reserves``, only while the team has a minimum and a reserve time
  (``team settings reserves 24h``): at the start minus that time, under the same rule as a
  reminder; its key holds the start as a minimum check's does
  (``g1:ask_reserves:20261205T1900Z``), and the scheduler sends it as ``AskReserves``'s;
- ``answer_deadline`` at the deadline a captain set (:func:`plan_deadline`); a new plan keeps
  it where it is;
- ``start_game`` at the start, ``end_game`` after the team's game length.

Everything before the game (check, reminders, minimum check, deadline) expires at the start.
All arithmetic is on UTC instants, so "48 hours before" is 48 real hours across a
daylight-saving change. :func:`replan` compares a new plan with the items a game has.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


class DueKind(enum.StrEnum):
    START_CHECK = "start_check"
    REMIND = "remind"
    MINIMUM_CHECK = "minimum_check"
    ASK_RESERVES = "ask_reserves"
    ANSWER_DEADLINE = "answer_deadline"
    START_GAME = "start_game"
    END_GAME = "end_game"


class DueStatus(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    SKIPPED = "skipped"


MINIMUM_CHECK_MINUTES = 180  # before the start, for a team without reminders
BEFORE_START = (DueKind.START_CHECK, DueKind.REMIND, DueKind.MINIMUM_CHECK,
                DueKind.ASK_RESERVES, DueKind.ANSWER_DEADLINE)


def item_key(game_id: str, kind: DueKind, reminder_key: str | None = None) -> str:
    return f"{game_id}:{kind}" if reminder_key is None else f"{game_id}:{kind}:{reminder_key}"


def reminder_key(minutes: int, starts_at: datetime) -> str:
    return f"{minutes}@{_stamp(starts_at)}"


def _stamp(starts_at: datetime) -> str:
    return f"{starts_at.astimezone(UTC):%Y%m%dT%H%MZ}"


@dataclass(frozen=True, kw_only=True, slots=True)
class TeamTiming:
    """The team's settings a plan reads."""

    check_lead_minutes: int
    reminder_minutes: tuple[int, ...]
    game_length_minutes: int
    min_players: int | None  # None: no minimum, so no minimum check
    reserve_minutes: int | None = None  # None: reserves are never asked


@dataclass(frozen=True, kw_only=True, slots=True)
class GameState:
    """What a plan needs to know of a scheduled game and its items so far."""

    game_id: str
    starts_at: datetime
    check_opened_at: datetime | None = None
    check_start_pending: bool = True  # False once the check's item is done or skipped
    deadline: datetime | None = None  # a captain's answer deadline still pending


@dataclass(frozen=True, kw_only=True, slots=True)
class Planned:
    """One item of a plan."""

    key: str
    kind: DueKind
    due_at: datetime
    expires_at: datetime | None = None
    reminder_key: str | None = None


def check_starts_at(starts_at: datetime, *, lead_minutes: int, at: datetime) -> datetime:
    """When a game's check starts: the lead time before the game, or at once (``at``) when
    that has passed."""
    return max(starts_at - timedelta(minutes=lead_minutes), at)


def plan_game(game: GameState, team: TeamTiming, *, at: datetime) -> list[Planned]:
    """The items a scheduled game should have pending, planned at ``at``, in due order of
    kind (check, reminders, minimum check, reserves, deadline, start, end)."""
    starts = game.starts_at
    planned: list[Planned] = []
    floor = at  # nothing before the game goes out before the check starts or opened
    if game.check_start_pending:
        check_at = check_starts_at(starts, lead_minutes=team.check_lead_minutes, at=at)
        planned.append(Planned(key=item_key(game.game_id, DueKind.START_CHECK),
                               kind=DueKind.START_CHECK, due_at=check_at, expires_at=starts))
        floor = check_at
    if game.check_opened_at is not None:
        floor = max(floor, game.check_opened_at)
    for minutes in team.reminder_minutes:
        due = starts - timedelta(minutes=minutes)
        if due > floor:
            key = reminder_key(minutes, starts)
            planned.append(Planned(key=item_key(game.game_id, DueKind.REMIND, key),
                                   kind=DueKind.REMIND, due_at=due, expires_at=starts,
                                   reminder_key=key))
    if team.min_players is not None:
        due = starts - timedelta(minutes=min(team.reminder_minutes,
                                             default=MINIMUM_CHECK_MINUTES))
        if due > floor:
            planned.append(Planned(
                key=item_key(game.game_id, DueKind.MINIMUM_CHECK, _stamp(starts)),
                kind=DueKind.MINIMUM_CHECK, due_at=due, expires_at=starts))
    if team.min_players is not None and team.reserve_minutes is not None:
        due = starts - timedelta(minutes=team.reserve_minutes)
        if due > floor:
            planned.append(Planned(
                key=item_key(game.game_id, DueKind.ASK_RESERVES, _stamp(starts)),
                kind=DueKind.ASK_RESERVES, due_at=due, expires_at=starts))
    if game.deadline is not None:
        # The captain's time stays; only its expiry follows the start.
        planned.append(plan_deadline(game.game_id, game.deadline, starts_at=starts))
    planned.append(Planned(key=item_key(game.game_id, DueKind.START_GAME),
                           kind=DueKind.START_GAME, due_at=starts))
    planned.append(Planned(key=item_key(game.game_id, DueKind.END_GAME), kind=DueKind.END_GAME,
                           due_at=starts + timedelta(minutes=team.game_length_minutes)))
    return planned


def plan_deadline(game_id: str, deadline: datetime, *, starts_at: datetime) -> Planned:
    """A captain's answer deadline: the scheduler closes the check then, unless the game
    starts first (the start closes it anyway)."""
    return Planned(key=item_key(game_id, DueKind.ANSWER_DEADLINE),
                   kind=DueKind.ANSWER_DEADLINE, due_at=deadline, expires_at=starts_at)


@dataclass(frozen=True, kw_only=True, slots=True)
class Existing:
    """An item a game has already: its status and times."""

    status: DueStatus
    due_at: datetime
    expires_at: datetime | None


@dataclass(frozen=True, kw_only=True, slots=True)
class Replan:
    """How a game's items change for a new plan."""

    new: tuple[Planned, ...] = ()  # not there yet
    moved: tuple[Planned, ...] = ()  # pending at another time: a new job, claims reset
    dropped: tuple[str, ...] = ()  # pending, no longer planned: skipped


def replan(existing: Mapping[str, Existing], planned: Sequence[Planned]) -> Replan:
    """Bring pending items in line with ``planned``; done and skipped items stay as they
    are."""
    wanted = {item.key: item for item in planned}
    new, moved = [], []
    for key, item in wanted.items():
        row = existing.get(key)
        if row is None:
            new.append(item)
        elif row.status is DueStatus.PENDING and (row.due_at, row.expires_at) != (
                item.due_at, item.expires_at):
            moved.append(item)
    dropped = [key for key, row in existing.items()
               if key not in wanted and row.status is DueStatus.PENDING]
    return Replan(new=tuple(new), moved=tuple(moved), dropped=tuple(dropped))


__all__ = ["BEFORE_START", "DueKind", "DueStatus", "Existing", "GameState", "Planned", "Replan",
           "TeamTiming", "check_starts_at", "item_key", "plan_deadline", "plan_game",
           "reminder_key", "replan"]
