"""How a delivery failed, in the two kinds the notifier acts on differently.

These are the core's notification errors (:mod:`core.notifications`), re-exported so
the mailer and every other channel raise into one hierarchy.
"""

from __future__ import annotations

from core.notifications import (
    DeliveryError,
    PermanentDeliveryError,
    TransientDeliveryError,
)

__all__ = ["DeliveryError", "PermanentDeliveryError", "TransientDeliveryError"]
