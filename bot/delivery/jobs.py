"""What a claimed job comes to: a message ready for a lane (:class:`Ready`), or the row update
that settles it without sending (and, when its player cannot be reached, the trouble to
report to the captains)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from bot.delivery.outcomes import MIN_REQUEUE, NAMES, Update, call, retry, skip
from bot.delivery.reads import Reads
from core.aggregates import check
from core.aggregates.common import Answer, Channel
from core.deliveries import Job, find_job, mark_delivered
from core.notifications import (
    Notification,
    NotificationChannel,
    NotificationKind,
    Recipient,
    choose_channel,
)
from core.projections.board import BoardLine, BoardView
from core.projections.roster import PlayerView, TeamView
from core.projections.schedule import GameView
from core.router import Router
from core.trouble import KEY_PREFIX, Trouble

# The read models follow the log on their own: a job may be claimed a moment before they show
# its player, game or invitation. Until a job is this old, missing data means "not yet".
READ_MODEL_GRACE = timedelta(minutes=1)
_ONLY_WHILE_OPEN = (NotificationKind.INVITATION, NotificationKind.REMINDER,
                    NotificationKind.WAITLISTED, NotificationKind.WAITLIST_PROMOTION,
                    NotificationKind.RESERVE_INVITATION)
# Messages that take the buttons off the player's earlier DMs about the check.
_RETIRING = (NotificationKind.CANCELLATION, NotificationKind.RESERVE_RELEASED)

MAX_NAMED = 5  # players named in a captain's trouble report; the rest are counted


@dataclass(frozen=True, kw_only=True, slots=True)
class Ready:
    """A claimed job's message, built and addressed: ``channel`` is the first to try,
    ``tried`` the channels that already refused it for good."""

    job: Job
    notification: Notification
    contact: PlayerView
    channel: Channel
    tried: frozenset[Channel]


def prepare(reads: Reads, job: Job, now: datetime, troubles: list[Trouble], *, router: Router,
            channels: Mapping[Channel, NotificationChannel]) -> Ready | Update:
    """What to send and where, or the row update that settles the job without sending.
    A player nothing reaches is added to ``troubles``, for the captains' report."""
    tried: frozenset[Channel] = frozenset()
    if job.in_doubt and job.check_id is not None:
        _, state = router.state_of(check.CHECK, job.check_id)
        sent = next((d for d in state.deliveries if d.delivered
                     and (d.player_id, d.message_key) == (job.recipient_id, job.message_key)),
                    None)
        if sent is not None:  # recorded before a crash; only the row was not updated
            return call(mark_delivered, job.id, channel=sent.channel,
                        reference=sent.reference, now=now)
        tried = frozenset(d.channel for d in state.deliveries if d.permanent
                          and (d.player_id, d.message_key) == (job.recipient_id,
                                                               job.message_key))
    team_view, game_view = reads.team(job.team_id), reads.game(job.game_id)
    contact = reads.player(job.team_id, job.recipient_id)
    board = reads.board(job.check_id)
    line = reads.line(job.check_id, job.recipient_id)
    young = now - job.created_at < READ_MODEL_GRACE
    if team_view is None or game_view is None or contact is None:
        if young:
            return retry(job.id, not_before=now + MIN_REQUEUE, error=None, now=now,
                         count_attempt=False)
        return skip(job.id, "the recipient, team or game is gone", now)
    why_not = None if job.kind.for_captain else _moot(job, game_view, board, line)
    if why_not is not None and young and (board is None or line is None):
        return retry(job.id, not_before=now + MIN_REQUEUE, error=None, now=now,
                     count_attempt=False)
    if why_not is not None:
        return skip(job.id, why_not, now)
    channel = choose_channel(contact, channels, exclude=tried)
    if channel is None:
        if not job.kind.for_captain and job.check_id is not None:
            troubles.append(_unreachable(job, contact, channels))
        return skip(job.id, f"no way to reach {contact.name}: {_why(contact, channels)}", now)
    deadline = board.deadline if board is not None and board.open else None
    notification = _notification(job, team_view, game_view, contact, line, _about(reads, job),
                                 deadline)
    if job.kind in _RETIRING and job.check_id is not None:
        notification = replace(notification, earlier=_earlier(router, job, channel))
    return Ready(job=job, notification=notification, contact=contact, channel=channel,
                 tried=tried)


def _earlier(router: Router, job: Job, channel: Channel) -> tuple[str, ...]:
    """References of what this player was sent about the check on ``channel``."""
    assert job.check_id is not None
    _, state = router.state_of(check.CHECK, job.check_id)
    return tuple(d.reference for d in state.deliveries
                 if d.player_id == job.recipient_id and d.delivered and d.channel is channel
                 and d.reference and d.message_key != job.message_key)


def _moot(job: Job, game_view: GameView, board: BoardView | None,
          line: BoardLine | None) -> str | None:
    """Why a player message need not go out any more, if it need not."""
    kind = job.kind
    if kind in _ONLY_WHILE_OPEN and (board is None or not board.open):
        return "the attendance check is closed"
    if kind in _ONLY_WHILE_OPEN and line is None:
        return "the invitation was withdrawn"
    if kind in _ONLY_WHILE_OPEN and line is not None and line.released:
        return "a reserve no longer needed: the team is full"
    if kind is NotificationKind.REMINDER and line is not None and line.answer not in (
            None, Answer.MAYBE):
        return "they answered meanwhile"
    if kind is NotificationKind.RESCHEDULE and (
            job.details.get("starts_at") != game_view.starts_at.isoformat()):
        return "the game moved again; the newer time is sent instead"
    return None


def _notification(job: Job, team_view: TeamView, game_view: GameView, contact: PlayerView,
                  line: BoardLine | None, about: tuple[str | None, str | None],
                  deadline: datetime | None) -> Notification:
    details = job.details
    previous = details.get("previous_starts_at")
    answer = details.get("answer")
    return Notification(
        kind=job.kind, delivery_id=job.delivery_id, message_key=job.message_key,
        recipient=Recipient(player_id=contact.player_id, name=contact.name, email=contact.email,
                            slack_user=contact.slack_user, discord_user=contact.discord_user),
        team_id=team_view.team_id, team_name=team_view.name, timezone=team_view.timezone,
        game_id=game_view.game_id, game_handle=game_view.handle, starts_at=game_view.starts_at,
        location=game_view.location, opponent=game_view.opponent, check_id=job.check_id,
        current_answer=None if job.kind.for_captain or line is None else line.answer,
        waitlist_position=None if line is None else line.waitlist_position,
        answers_close=None if job.kind.for_captain else deadline,
        previous_starts_at=None if previous is None else datetime.fromisoformat(previous),
        cancel_reason=game_view.cancel_reason,
        about_player_id=details.get("player_id"), about_player_name=about[0],
        about_answer=None if answer is None else Answer(answer),
        yes_count=details.get("yes_count"), min_players=details.get("min_players"),
        reason=about[1])


def _about(reads: Reads, job: Job) -> tuple[str | None, str | None]:
    """For a captain alert: the name of the player (or players) it is about, and why."""
    if job.message_key.startswith(KEY_PREFIX):
        return _report(reads, job)
    about = job.details.get("player_id")
    if about is None:
        return None, None
    found = reads.player(job.team_id, about)
    name = job.details.get("player_name") or (found.name if found else None)
    reason = job.details.get("reason")
    if job.kind is NotificationKind.CAPTAIN_DELIVERY_FAILED:
        reason = _what_happened(reads, job, about, job.details)
    return name, reason


def _report(reads: Reads, job: Job) -> tuple[str | None, str | None]:
    """A trouble report: every player in it (but the captain it goes to) and what happened."""
    players = [p for p in job.details.get("players", ())
               if p.get("player_id") != job.recipient_id]
    names = []
    for p in players:
        found = p.get("name") or getattr(reads.player(job.team_id, p["player_id"]), "name",
                                         None)
        names.append(found or "a player")
    if not names:
        return None, None
    named = names if len(names) <= MAX_NAMED else [*names[:MAX_NAMED - 1],
                                                   f"{len(names) - MAX_NAMED + 1} others"]
    who = named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"
    if len(players) == 1:
        return who, _what_happened(reads, job, players[0]["player_id"], players[0])
    return who, "; ".join(f"{name}: {_what_happened(reads, job, p['player_id'], p)}"
                          for name, p in zip(names, players, strict=True))


def _what_happened(reads: Reads, job: Job, player_id: str, details: Mapping[str, Any]) -> str:
    reason = str(details.get("reason") or "")
    failed = details.get("channel")
    if failed:
        reason = f"{NAMES.get(Channel(failed), failed)}: {reason}"
        original = find_job(reads.conn, job.scope, player_id, details.get("message_key", ""))
        if (original is not None and original.status == "delivered"
                and original.channel is not None and original.channel.value != failed):
            reason += f". We sent it by {NAMES[original.channel]} instead."
    return reason


def _unreachable(job: Job, contact: PlayerView, channels: Collection[Channel]) -> Trouble:
    """For the captains: there is no way to reach ``contact``."""
    assert job.check_id is not None
    return Trouble(check_id=job.check_id, team_id=job.team_id, game_id=job.game_id,
                   player_id=contact.player_id, player_name=contact.name,
                   reason=f"we have no way to reach them ({_why(contact, channels)})",
                   channel=None, message_key=job.message_key, position=job.position)


def _why(p: PlayerView, channels: Collection[Channel]) -> str:
    """Why none of ``p``'s contacts will do, given the ``channels`` this process has."""
    reasons = []
    for channel, identity in ((Channel.SLACK, p.slack_user),
                              (Channel.DISCORD, p.discord_user)):
        if identity and channel in p.unreachable:
            reasons.append(f"{NAMES[channel]} messages to them fail")
        elif identity and channel not in channels:
            reasons.append(f"{NAMES[channel]} isn't connected")
    if not p.email:
        reasons.append("no email address")
    elif p.email_unsubscribed:
        reasons.append("unsubscribed from email")
    elif Channel.EMAIL in p.unreachable:
        reasons.append("their email address refuses mail")
    return "; ".join(reasons) or "no contact we can use"
