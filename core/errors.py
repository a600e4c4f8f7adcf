"""One error hierarchy for the whole core.

Every refusal a user can see is a :class:`DomainError` with a stable ``code`` (for tests,
logs and adapters that pick their own wording) and a ``message`` fit to show a person.
"""

from __future__ import annotations


class AttendError(Exception):
    """Base of every error the core raises on purpose."""


class DomainError(AttendError):
    """A rule refused a command. ``code`` is stable; ``message`` is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"DomainError({self.code!r}, {self.message!r})"


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
