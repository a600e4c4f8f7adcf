"""The edit worker: posts each check's board in the team's channel and keeps it, and players'
DMs, showing the current answers (see :mod:`core.message_edits` for what makes them stale).

It claims stale messages whose first unshown change is ``delay`` old, reads the current
state, and posts or edits through the platform's :class:`Editor`; one message is edited at
most once per ``interval``, and each platform has a budget of edits (:class:`Budget`), so a
burst of answers becomes a few edits within Slack's and Discord's limits. A 429 waits for
its ``Retry-After``; a board the bot may no longer post to (removed from the channel, no
permission) is left alone and the team's captains are told once, in a DM, what to do.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from bot.edits.render import BoardSnapshot, DmSnapshot
from core import message_edits as edits
from core.aggregates import check
from core.aggregates.common import Channel
from core.backoff import backoff
from core.eventstore.database import Database
from core.message_edits import EditTarget
from core.notifications import DeliveryError
from core.projections import board as boards
from core.projections import roster, schedule
from core.router import Clock, Router

log = logging.getLogger(__name__)

DELAY = timedelta(seconds=1.0)  # changes within this are shown by one edit
INTERVAL = timedelta(seconds=1.0)  # at most one edit of a message this often
LEASE = timedelta(seconds=60)
RETRY = timedelta(seconds=5)  # the first wait after a failure, doubled each time
MAX_RETRY = timedelta(minutes=5)
MAX_ATTEMPTS = 5
CLAIM_BATCH = 50
_ANSWERABLE_KEYS = ("invite", "remind:", "reschedule:", "promoted:", "waitlisted:")


class ChannelGone(DeliveryError):
    """The bot can't post in the channel any more (removed, or no permission): permanent.
    ``advice`` says what a captain should do."""

    permanent = True

    def __init__(self, reason: str, advice: str) -> None:
        super().__init__(reason)
        self.advice = advice


class Editor(Protocol):
    """A platform's side of it: post or edit a board, edit a DM, tell a captain."""

    async def board(self, channel_id: str, reference: str | None,
                    snapshot: BoardSnapshot) -> str:
        """Post the board (``reference`` None) or edit it; its reference."""

    async def dm(self, reference: str, snapshot: DmSnapshot) -> None: ...

    async def tell(self, identity: str, text: str) -> None:
        """A DM to one person (``identity`` as in a player's contacts)."""


@dataclass
class Budget:
    """Edits a platform takes: ``burst`` at once, then ``per_second`` (a token bucket)."""

    per_second: float
    burst: float
    _tokens: float = field(default=-1.0)
    _at: float = 0.0

    def available(self) -> int:
        """Edits that may go now."""
        now = time.monotonic()
        if self._tokens < 0:
            self._tokens, self._at = self.burst, now
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.per_second)
        self._at = now
        return int(self._tokens)

    def take(self) -> float:
        """0 if an edit may go now (and counts it), else the seconds to wait."""
        if self.available() >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self.per_second


# Slack's chat.update is Tier 3 (50+ a minute per workspace); Discord allows 50 requests a
# second, and about 5 edits per 5 s in one channel (one message is edited once a second).
BUDGETS = {"slack": (50 / 60, 20.0), "discord": (10.0, 20.0)}


@dataclass(frozen=True, slots=True)
class _Job:
    target: EditTarget
    board: BoardSnapshot | None = None
    dm: DmSnapshot | None = None
    references: tuple[tuple[str, str], ...] = ()  # a DM's (platform, reference)
    captains: tuple[str, ...] = ()  # a board's captains on its platform, to tell them
    waiting: bool = False  # the read models don't show the check yet: try again soon


class EditWorker:
    def __init__(self, db: Database, router: Router, editors: Mapping[str, Editor], *,
                 clock: Clock, owner: str | None = None, delay: timedelta = DELAY,
                 interval: timedelta = INTERVAL, poll_interval: float = 0.2,
                 budgets: Mapping[str, tuple[float, float]] | None = None,
                 catch_up: Callable[[], object] | None = None) -> None:
        self._db, self._router, self._editors = db, router, dict(editors)
        self._clock = clock
        self.owner = owner or f"edits:{uuid.uuid4().hex[:8]}"
        self._delay, self._interval, self._poll = delay, interval, poll_interval
        self._budgets = {p: Budget(*(budgets or BUDGETS).get(p, (10.0, 10.0)))
                         for p in self._editors}
        self._task: asyncio.Task[None] | None = None
        # Waits until the read models have caught up with the log, so an edit never shows
        # less than the change that made it due.
        self._catch_up = catch_up

    def start(self) -> None:
        self._task = asyncio.create_task(self._follow(), name="attend-edits")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _follow(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                log.exception("the edit worker failed; trying again")
            await asyncio.sleep(self._poll)

    async def run_once(self, now: datetime | None = None) -> int:
        """Post or edit every message due now; the number handled."""
        jobs = await asyncio.to_thread(self._claim, now or self._clock())
        if jobs:
            await asyncio.gather(*(self._run(job) for job in jobs))
        return len(jobs)

    # -- claiming and reading (in a worker thread) ----------------------------------------
    def _claim(self, now: datetime) -> list[_Job]:
        # No more than the platforms' budgets allow now: the rest stay where they are,
        # rather than being claimed only to be put back.
        room = min(CLAIM_BATCH, sum(b.available() for b in self._budgets.values()))
        if room <= 0:
            return []
        with self._db.read() as conn:
            if not edits.any_due(conn, now=now, delay=self._delay):
                return []
        with self._db.write() as conn:
            targets = edits.claim_due(conn, now=now, delay=self._delay, owner=self.owner,
                                      limit=room, lease=LEASE)
        if targets and self._catch_up is not None:
            self._catch_up()
        jobs = []
        for target in targets:
            try:
                jobs.append(self._read(target))
            except Exception:
                log.exception("could not read %s", target.target)
                self._settle(target, retry="could not read it", give_up=True)
        return jobs

    def _read(self, target: EditTarget) -> _Job:
        with self._db.read() as conn:
            board = boards.board(conn, target.check_id, with_history=False)
            game = schedule.game(conn, board.game_id) if board else None
            team = roster.team(conn, board.team_id) if board else None
            if board is None or game is None or team is None:
                return _Job(target, waiting=True)  # not in the read models yet
            if target.kind == edits.BOARD:
                captains = tuple(
                    identity for p in roster.captains(conn, team.team_id)
                    if (identity := p.slack_user if target.platform == "slack"
                        else p.discord_user))
                return _Job(target, board=BoardSnapshot(team=team, game=game, board=board),
                            captains=captains)
            assert target.player_id is not None
            player = roster.player(conn, team.team_id, target.player_id)
        line = next((ln for ln in board.lines if ln.player_id == target.player_id), None)
        if player is None or line is None or line.answer is None or game.status == "cancelled":
            return _Job(target)  # a cancelled game's DMs say so (the delivery worker's edit)
        _, state = self._router.state_of(check.CHECK, target.check_id)
        references = tuple(
            (d.channel.value, d.reference) for d in state.deliveries
            if d.player_id == target.player_id and d.delivered and d.reference
            and d.channel in (Channel.SLACK, Channel.DISCORD)
            and d.message_key.startswith(_ANSWERABLE_KEYS))
        return _Job(target, dm=DmSnapshot(team=team, game=game, board=board, player=player,
                                          answer=line.answer), references=references)

    # -- editing --------------------------------------------------------------------------
    async def _run(self, job: _Job) -> None:
        target = job.target
        try:
            if job.waiting:
                await asyncio.to_thread(self._settle, target, retry="not in the read models "
                                        "yet")
            elif job.board is not None:
                await self._board(job, job.board)
            elif job.dm is not None and job.references:
                await self._dms(job, job.dm)
            else:
                await asyncio.to_thread(self._settle, target, counted=False)
        except Exception:
            log.exception("could not edit %s", target.target)
            await asyncio.to_thread(self._settle, target, retry="internal error", give_up=True)

    async def _board(self, job: _Job, snapshot: BoardSnapshot) -> None:
        target = job.target
        editor = self._editors.get(target.platform or "")
        if editor is None or target.channel_id is None:  # that platform isn't set up here
            await asyncio.to_thread(self._settle, target, retry="platform not connected",
                                    give_up=True)
            return
        if await self._paced(target, target.platform or ""):
            return
        try:
            reference = await editor.board(target.channel_id, target.reference, snapshot)
        except ChannelGone as error:
            log.warning("cannot post in %s channel %s (%s)", target.platform,
                        target.channel_id, error.reason)
            await asyncio.to_thread(self._stop, target, error.reason)
            await self._tell_captains(editor, job, snapshot, error)
            return
        except DeliveryError as error:
            await asyncio.to_thread(self._settle, target, retry=error.reason,
                                    wait=error.retry_after)
            return
        await asyncio.to_thread(self._settle, target, reference=reference)

    async def _dms(self, job: _Job, snapshot: DmSnapshot) -> None:
        target = job.target
        for platform, reference in job.references:
            editor = self._editors.get(platform)
            if editor is None:
                continue
            if await self._paced(target, platform):
                return
            try:
                await editor.dm(reference, snapshot)
            except DeliveryError as error:
                if error.permanent:
                    log.info("could not edit DM %s: %s", reference, error.reason)
                    continue
                await asyncio.to_thread(self._settle, target, retry=error.reason,
                                        wait=error.retry_after)
                return
        await asyncio.to_thread(self._settle, target)

    async def _paced(self, target: EditTarget, platform: str) -> bool:
        """True if the platform's budget is spent: the target waits its turn."""
        wait = self._budgets[platform].take() if platform in self._budgets else 0.0
        if wait <= 0:
            return False
        await asyncio.to_thread(self._settle, target, retry="pacing", wait=wait, count=False)
        return True

    async def _tell_captains(self, editor: Editor, job: _Job, snapshot: BoardSnapshot,
                             error: ChannelGone) -> None:
        """Once per team and channel: the marker row is inserted only the first time."""
        first = await asyncio.to_thread(self._first_alert, job.target)
        if not first:
            return
        text = (f"Attend can't post {snapshot.team.name}'s game boards in the team's channel "
                f"({error.reason}). To fix it, {error.advice}: the next check's board is "
                "posted there (/attend channel here in another channel moves it). Players "
                "still get their DMs and emails.")
        for identity in job.captains:
            try:
                await editor.tell(identity, text)
            except DeliveryError as failed:
                log.warning("could not tell a captain about the channel: %s", failed.reason)

    # -- recording (in a worker thread) -----------------------------------------------------
    def _settle(self, target: EditTarget, *, retry: str | None = None,
                wait: float | None = None, reference: str | None = None,
                counted: bool = True, count: bool = True, give_up: bool = False) -> None:
        """Shown (``retry`` None), or to try again: after ``wait``, else after a backoff.
        A platform that fails for a while (down, not signed in yet) is tried again and
        again; ``give_up`` (our own failures) stops after ``MAX_ATTEMPTS``."""
        now = self._clock()
        with self._db.write() as conn:
            if retry is None:
                edits.mark_shown(conn, target, now=now, next_edit=now + self._interval,
                                 reference=reference, counted=counted)
            elif give_up and target.attempts + 1 >= MAX_ATTEMPTS:
                edits.mark_stopped(conn, target, error=f"gave up: {retry}")
            else:
                delay = timedelta(seconds=wait if wait is not None else backoff(
                    target.attempts + 1, first=RETRY.total_seconds(),
                    longest=MAX_RETRY.total_seconds()))
                edits.mark_retry(conn, target, not_before=now + delay, error=retry,
                                 count=count)

    def _stop(self, target: EditTarget, reason: str) -> None:
        with self._db.write() as conn:
            edits.mark_stopped(conn, target, error=reason)

    def _first_alert(self, target: EditTarget) -> bool:
        with self._db.write() as conn:
            return edits.add_alert_marker(conn, target, now=self._clock())
