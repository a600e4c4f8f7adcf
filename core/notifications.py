"""The notifications port: what a message to a player or captain says, and how it is sent.

The core decides *that* someone is told something (the notifier writes a delivery job) and
*how* to reach them (:func:`choose_channel`); channels in ``bot`` (Slack, Discord,
email) implement :class:`NotificationChannel` and decide only how it looks. A channel raises
a :class:`DeliveryError` saying whether trying again could help (``permanent``) and when
the platform allows another try (``retry_after``, from a 429's ``Retry-After``).
"""

from __future__ import annotations

import enum
from collections.abc import AsyncGenerator, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from core.aggregates.common import Answer, Channel
from core.backoff import backoff
from core.errors import AttendError

# Retries of a transient failure: 30 s, 1 min, 2 min, 4 min, ... at most an hour apart.
BACKOFF_FIRST_S = 30.0
BACKOFF_MAX_S = 3600.0
DM_CHANNELS = (Channel.SLACK, Channel.DISCORD)  # tried in this order, before email


class NotificationKind(enum.StrEnum):
    INVITATION = "invitation"
    REMINDER = "reminder"
    CANCELLATION = "cancellation"
    RESCHEDULE = "reschedule"
    WAITLIST_PROMOTION = "waitlist_promotion"
    WAITLISTED = "waitlisted"
    CAPTAIN_BELOW_MINIMUM = "captain_below_minimum"
    CAPTAIN_LATE_DROPOUT = "captain_late_dropout"
    CAPTAIN_DELIVERY_FAILED = "captain_delivery_failed"
    CAPTAIN_UNREACHABLE = "captain_unreachable"
    # Reserves: asked when the team is short, released when it is full; the captain is told
    # who stepped in.
    RESERVE_INVITATION = "reserve_invitation"
    RESERVE_RELEASED = "reserve_released"
    CAPTAIN_RESERVE_STEPPED_IN = "captain_reserve_stepped_in"

    @property
    def for_captain(self) -> bool:
        return self.value.startswith("captain_")


@dataclass(frozen=True, kw_only=True, slots=True)
class Recipient:
    player_id: str
    name: str
    email: str | None = None
    slack_user: str | None = None  # "<workspace id>:<user id>"
    discord_user: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Notification:
    """One message to one person, as of the moment it is sent (latest time, current answer).

    ``delivery_id`` is the same on every retry of this message: a channel may use it to make
    a resend recognisably the same (an email's Message-ID, say).
    """

    kind: NotificationKind
    delivery_id: str
    message_key: str
    recipient: Recipient
    team_id: str
    team_name: str
    timezone: str  # IANA name: channels show times in the team's zone
    game_id: str
    game_handle: str
    starts_at: datetime  # UTC
    location: str | None = None
    opponent: str | None = None
    check_id: str | None = None
    current_answer: Answer | None = None  # the recipient's own answer, for player messages
    waitlist_position: int | None = None
    answers_close: datetime | None = None  # the captain's deadline (UTC), while it stands
    previous_starts_at: datetime | None = None  # for a reschedule
    cancel_reason: str | None = None
    # Captain alerts: who it is about, and the figures or reason behind it.
    about_player_id: str | None = None
    about_player_name: str | None = None
    about_answer: Answer | None = None  # what a late drop-out changed to (None: withdrawn)
    yes_count: int | None = None
    min_players: int | None = None
    reason: str | None = None
    # A cancellation's or a reserve's release: the recipient's earlier messages about the
    # game on this channel (their platform references), which a chat channel may edit to
    # take their buttons away.
    earlier: tuple[str, ...] = ()

    @property
    def for_captain(self) -> bool:
        return self.kind.for_captain


class DeliveryError(AttendError):
    """A message was not delivered. ``reason`` is what the platform said, fit for a captain.

    ``permanent``: sending again will not help (DMs closed, address refused). Otherwise
    ``retry_after`` is the wait the platform asked for, if it said one.
    """

    permanent: bool = False

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class PermanentDeliveryError(DeliveryError):
    """Refused for good: mark the contact, fall back to email, tell the captain."""

    permanent = True


class TransientDeliveryError(DeliveryError):
    """Not delivered this time (busy, rate-limited, timed out): try again later."""

    permanent = False


class NotificationChannel(Protocol):
    """One way of reaching people, implemented at the edge."""

    @property
    def channel(self) -> Channel: ...

    async def send(self, notification: Notification) -> str | None:
        """Deliver; return the platform's reference to the message (to edit it later)."""


@runtime_checkable
class BatchNotificationChannel(NotificationChannel, Protocol):
    """A channel that delivers several messages more cheaply at once (one SMTP connection)."""

    def send_many(
        self, notifications: Sequence[Notification]
    ) -> AsyncGenerator[str | DeliveryError | None, None]:
        """One outcome per notification, in order, each as soon as it is known (a reference,
        or the error); the next message is not sent until the caller asks for its outcome.
        A failure of one message is that message's outcome, never an exception."""

    async def aclose(self) -> None:
        """Let go of what is kept between batches (idle connections)."""


class Reachable(Protocol):
    """What the choice of channel looks at (a roster ``PlayerView`` has all of it)."""

    @property
    def email(self) -> str | None: ...

    @property
    def slack_user(self) -> str | None: ...

    @property
    def discord_user(self) -> str | None: ...

    @property
    def email_unsubscribed(self) -> bool: ...

    @property
    def unreachable(self) -> tuple[Channel, ...]: ...


def choose_channel(
    player: Reachable, available: Collection[Channel], *, exclude: Collection[Channel] = ()
) -> Channel | None:
    """Slack DM, else Discord DM, else email; None when nothing reaches the player.

    A channel counts only when it is configured (``available``), the player has an identity
    on it, it has not failed for good (``unreachable``, or ``exclude`` for a failure not yet
    in the read model), and, for email, the player has not unsubscribed.
    """
    usable = set(available) - set(exclude) - set(player.unreachable)
    identity = {
        Channel.SLACK: player.slack_user,
        Channel.DISCORD: player.discord_user,
        Channel.EMAIL: None if player.email_unsubscribed else player.email,
    }
    for channel in (*DM_CHANNELS, Channel.EMAIL):
        if channel in usable and identity[channel]:
            return channel
    return None


def retry_delay(attempt: int) -> float:
    """Seconds to wait before a delivery's retry number ``attempt`` (1 for the first)."""
    return backoff(attempt, first=BACKOFF_FIRST_S, longest=BACKOFF_MAX_S)
