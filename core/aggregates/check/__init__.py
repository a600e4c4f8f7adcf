"""AttendanceCheck: who is asked about one game, what they answered, and what they were sent.

Stream ``check-<check_id>``. Only invitees answer, nobody after close; the same answer twice
records nothing, a change records the change. With ``max_players`` set, a Yes beyond it joins
a first-come-first-served waitlist, and the first waitlisted player is promoted when a
confirmed Yes drops out.

Decisions the rules leave open:
- A note belongs to an answer. Repeating the same answer with no note (a button tap) keeps the
  note; changing the answer without a note drops it; a blank note clears it.
- ``CheckReachedMinimum`` / ``CheckBelowMinimum`` fire when the confirmed Yes count crosses
  ``min_players``; a check opens below its minimum without an event.
- Before the game the scheduler sends ``AlertIfBelowMinimum``: ``CheckBelowMinimum`` again if
  the check is still short. Like a reminder key, its key is used once even when the check is
  fine (``MinimumChecked`` is recorded either way), so the scheduler can resend it safely and
  the due-work read model sees it done. A closed check records nothing rather than refusing
  (the scheduler may run late, and a started or cancelled game needs no alert), except one
  closed at the captain's answer deadline before its start: a team short of players is still
  worth a warning while there is time to find more.
- A late drop-out is a confirmed Yes lost (to No, Maybe, or a withdrawn invitation) when the
  game starts in 24 hours or less, including after the start. ``answer`` is None when the
  invitation was withdrawn. Waitlisted players are not confirmed, so never late drop-outs.
- A reminder key is used once even when nobody needs reminding: ``RemindersRequested`` is
  recorded with no players, so the scheduler can resend it safely.
- Deliveries are recorded even after close and for anyone (a cancellation notice still goes
  out); they are only refused before the check opens.
- A captain may set an answer deadline: an instant after now and not after the start. Like
  the start, it refuses nothing by itself: at it the scheduler sends ``CloseCheck``, and the
  start closes the check anyway, whichever comes first. A ``MoveCheck`` keeps the deadline
  where the captain put it, even when the game moves before it (the start then closes
  answers) or far after it (answers still close at the deadline). Clearing it leaves answers
  open until the start; clearing when none is set records nothing.

The package's modules: ``commands`` commands (and their union); ``events`` events (and their
union); ``state`` the state and ``evolve``; ``rules`` ``decide`` and the rules it enforces,
``answers`` those on an answer and the places it moves; ``reserves`` asking the team's
reserves when the check is short, and releasing them when it is not.
"""

from __future__ import annotations

from core.aggregates import Aggregate, message_types
from core.aggregates.check.answers import LATE_DROP_OUT_WINDOW
from core.aggregates.check.commands import (
    AlertIfBelowMinimum,
    AskReserves,
    CheckCommand,
    ClearAnswerDeadline,
    CloseAtDeadline,
    CloseCheck,
    InvitePlayer,
    MoveCheck,
    OpenCheck,
    RecordAnswer,
    RecordDeliveries,
    RecordDelivery,
    RecordDeliveryFailure,
    RemindNonResponders,
    SetAnswerDeadline,
    WithdrawInvitation,
)
from core.aggregates.check.events import (
    AnswerDeadlineCleared,
    AnswerDeadlineSet,
    AnswerRecorded,
    CheckBelowMinimum,
    CheckClosed,
    CheckEvent,
    CheckMoved,
    CheckOpened,
    CheckReachedMinimum,
    DeliveryFailed,
    InvitationWithdrawn,
    LateDropOut,
    MessageDelivered,
    MinimumChecked,
    PlayerInvited,
    PlayerPromoted,
    PlayerWaitlisted,
    RemindersRequested,
    ReserveListed,
    ReservesAsked,
    ReservesReleased,
    ReserveSteppedIn,
)
from core.aggregates.check.reserves import NOT_NEEDED
from core.aggregates.check.rules import DEADLINE_REASON, decide
from core.aggregates.check.state import CheckState, Delivery, InviteeAnswer, evolve

CHECK: Aggregate[CheckState] = Aggregate(
    name="check",
    initial=CheckState(),
    decide=decide,
    evolve=evolve,
    commands=dict.fromkeys(message_types(CheckCommand), "check_id"),
    events=message_types(CheckEvent),
    state_version=5,  # 2: minimum_checks; 3: deadline; 4: reserves; 5: delivered_keys
)

__all__ = [
    "CHECK",
    "DEADLINE_REASON",
    "LATE_DROP_OUT_WINDOW",
    "NOT_NEEDED",
    "AlertIfBelowMinimum",
    "AnswerDeadlineCleared",
    "AnswerDeadlineSet",
    "AnswerRecorded",
    "AskReserves",
    "CheckBelowMinimum",
    "CheckClosed",
    "CheckCommand",
    "CheckEvent",
    "CheckMoved",
    "CheckOpened",
    "CheckReachedMinimum",
    "CheckState",
    "ClearAnswerDeadline",
    "CloseAtDeadline",
    "CloseCheck",
    "Delivery",
    "DeliveryFailed",
    "InvitationWithdrawn",
    "InvitePlayer",
    "InviteeAnswer",
    "LateDropOut",
    "MessageDelivered",
    "MinimumChecked",
    "MoveCheck",
    "OpenCheck",
    "PlayerInvited",
    "PlayerPromoted",
    "PlayerWaitlisted",
    "RecordAnswer",
    "RecordDeliveries",
    "RecordDelivery",
    "RecordDeliveryFailure",
    "RemindNonResponders",
    "RemindersRequested",
    "ReserveListed",
    "ReserveSteppedIn",
    "ReservesAsked",
    "ReservesReleased",
    "SetAnswerDeadline",
    "WithdrawInvitation",
    "decide",
    "evolve",
]
