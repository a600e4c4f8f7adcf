"""One error hierarchy for the whole core, and the one vocabulary of refusals.

Every refusal a user can see is a :class:`DomainError` with a :class:`Refusal` code (stable,
for tests, logs and adapters) and a ``message`` fit to show a person. Each code belongs to
one :class:`RefusalKind`, which adapters turn into an HTTP status or a tone; they match on
the kind, or on a member, never on a string.
"""

from __future__ import annotations

import enum


class RefusalKind(enum.Enum):
    """What sort of no a refusal is."""

    NOT_FOUND = "not found"  # what the request names isn't there
    NOT_ALLOWED = "not allowed"  # it is there, but not for this person
    CLOSED = "closed"  # the game or check has moved on: too late for that
    REFUSED = "refused"  # anything else: input that can't be used, or a rule says no
    BUSY = "busy"  # the one exception to "changes nothing": done, but not yet shown


class Refusal(enum.StrEnum):
    """Why the core said no. A value is logged and kept in the scheduler's error text, so
    values never change; a new refusal is a new member, of kind REFUSED unless ``_KINDS``
    below names another."""

    # RefusalKind.NOT_FOUND
    UNKNOWN_CHECK = "unknown_check"
    UNKNOWN_GAME = "unknown_game"
    TEAM_NOT_FOUND = "team_not_found"
    # RefusalKind.NOT_ALLOWED
    NOT_INVITED = "not_invited"
    NOT_ON_TEAM = "not_on_team"
    PLAYER_NOT_ON_TEAM = "player_not_on_team"
    NOT_A_CAPTAIN = "not_a_captain"
    # RefusalKind.CLOSED
    CHECK_CLOSED = "check_closed"
    CHECK_NOT_OPEN = "check_not_open"
    GAME_CANCELLED = "game_cancelled"
    GAME_ENDED = "game_ended"
    # RefusalKind.REFUSED: who is asking
    NOT_ON_A_TEAM = "not_on_a_team"
    WHICH_TEAM = "which_team"
    UNKNOWN_TEAM = "unknown_team"
    CAPTAIN_ONLY = "captain_only"
    CANNOT_CREATE_TEAM = "cannot_create_team"
    # RefusalKind.REFUSED: the team and its players
    TEAM_ALREADY_REGISTERED = "team_already_registered"
    PLAYER_ALREADY_ON_TEAM = "player_already_on_team"
    CONTACT_IN_USE = "contact_in_use"
    CONTACTS_OF_SEVERAL = "contacts_of_several"
    NO_CONTACT = "no_contact"
    NO_WORKSPACE = "no_workspace"
    UNKNOWN_PLAYER = "unknown_player"
    AMBIGUOUS_PLAYER = "ambiguous_player"
    LAST_CAPTAIN = "last_captain"
    RESERVE_ALREADY_PLAYER = "reserve_already_player"
    # RefusalKind.REFUSED: games and their checks
    GAME_NOT_FOUND = "game_not_found"
    NO_UPCOMING_GAME = "no_upcoming_game"
    NO_CHECK = "no_check"
    GAME_ALREADY_SCHEDULED = "game_already_scheduled"
    GAME_STARTED = "game_started"
    GAME_NOT_STARTED = "game_not_started"
    CHECK_ALREADY_STARTED = "check_already_started"
    WRONG_TEAM = "wrong_team"
    START_IN_PAST = "start_in_past"
    DEADLINE_IN_PAST = "deadline_in_past"
    DEADLINE_AFTER_START = "deadline_after_start"
    RESERVE_NOT_NEEDED = "reserve_not_needed"  # a reserve's question closed: the team is full
    # RefusalKind.REFUSED: input that can't be used
    NAME_REQUIRED = "name_required"
    EMPTY_TEXT = "empty_text"
    TOO_LONG = "too_long"
    INVALID_EMAIL = "invalid_email"
    INVALID_TIMEZONE = "invalid_timezone"
    INVALID_SETTINGS = "invalid_settings"
    UNSAFE_TEXT = "unsafe_text"
    TEAM_NAME_TAKEN = "team_name_taken"
    # Series of games (weekly games): RefusalKind.REFUSED unless _KINDS says otherwise
    UNKNOWN_SERIES = "unknown_series"
    SERIES_NOT_FOUND = "series_not_found"
    SERIES_ALREADY_SCHEDULED = "series_already_scheduled"
    SERIES_CANCELLED = "series_cancelled"
    SERIES_OVER = "series_over"
    SERIES_NO_END = "series_no_end"
    SERIES_TOO_LONG = "series_too_long"
    SERIES_TIME_SKIPPED = "series_time_skipped"
    INVALID_SERIES = "invalid_series"
    WRONG_SERIES = "wrong_series"
    # RefusalKind.BUSY: what was asked is recorded, the read models can't show it yet
    STILL_CATCHING_UP = "still_catching_up"
    # RefusalKind.REFUSED: the team's channel (issue 16.2)
    NO_TEAM_CHANNEL = "no_team_channel"

    @property
    def kind(self) -> RefusalKind:
        return _KINDS.get(self, RefusalKind.REFUSED)


_KINDS: dict[str, RefusalKind] = {
    **dict.fromkeys((Refusal.UNKNOWN_CHECK, Refusal.UNKNOWN_GAME, Refusal.TEAM_NOT_FOUND),
                    RefusalKind.NOT_FOUND),
    Refusal.UNKNOWN_SERIES: RefusalKind.NOT_FOUND,
    Refusal.STILL_CATCHING_UP: RefusalKind.BUSY,
    Refusal.SERIES_CANCELLED: RefusalKind.CLOSED,
    **dict.fromkeys((Refusal.NOT_INVITED, Refusal.NOT_ON_TEAM, Refusal.PLAYER_NOT_ON_TEAM,
                     Refusal.NOT_A_CAPTAIN), RefusalKind.NOT_ALLOWED),
    **dict.fromkeys((Refusal.CHECK_CLOSED, Refusal.CHECK_NOT_OPEN, Refusal.GAME_CANCELLED,
                     Refusal.GAME_ENDED, Refusal.RESERVE_NOT_NEEDED), RefusalKind.CLOSED),
}


class AttendError(Exception):
    """Base of every error the core raises on purpose."""


class DomainError(AttendError):
    """A rule refused a command. ``code`` is stable; ``message`` is for people."""

    def __init__(self, code: Refusal, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def kind(self) -> RefusalKind:
        return _KINDS.get(self.code, RefusalKind.REFUSED)

    def __repr__(self) -> str:
        return f"DomainError({str(self.code)!r}, {self.message!r})"


class ConcurrencyError(AttendError):
    """An append found the stream at another version than the one expected."""

    def __init__(self, stream_id: str, expected_version: int) -> None:
        super().__init__(
            f"stream {stream_id!r} is no longer at version {expected_version}; reload and retry"
        )
        self.stream_id = stream_id
        self.expected_version = expected_version


class UnknownEventType(AttendError):
    """A stored event names a type no module registered (an older or newer release?)."""


class ConfigError(AttendError):
    """A configuration value is missing or malformed; the message says which and how to fix it."""


class LeaseLost(AttendError):
    """Another process took over a handler; this one must stop writing for it."""
