"""How a delivery failed, in the two kinds the notifier acts on differently."""

from __future__ import annotations

from typing import ClassVar

from attend.core.errors import AttendError


class DeliveryError(AttendError):
    """A message was not delivered. ``reason`` is what the server said, fit for a captain."""

    permanent: ClassVar[bool]

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PermanentDeliveryError(DeliveryError):
    """The address or the message was refused: sending it again will not help."""

    permanent = True


class TransientDeliveryError(DeliveryError):
    """Not delivered this time (busy server, timeout, our own setup): retry with backoff."""

    permanent = False
