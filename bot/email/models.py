"""What an email says, as plain values: the notifier fills these, the templates render them.

Times arrive already formatted in the team's zone, and links arrive already signed, so
rendering needs no clock, no time-zone database and no keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

ANSWERS = ("yes", "no", "maybe")  # in the order the buttons appear


class GameEmailKind(StrEnum):
    INVITATION = "invitation"
    REMINDER = "reminder"
    CANCELLATION = "cancellation"
    RESCHEDULE = "reschedule"
    WAITLIST_PROMOTION = "waitlist_promotion"
    WAITLISTED = "waitlisted"
    RESERVE_INVITATION = "reserve_invitation"
    RESERVE_RELEASED = "reserve_released"


class CaptainAlertKind(StrEnum):
    BELOW_MINIMUM = "below_minimum"
    LATE_DROPOUT = "late_dropout"
    DELIVERY_FAILED = "delivery_failed"
    RESERVE_STEPPED_IN = "reserve_stepped_in"


@dataclass(frozen=True, kw_only=True, slots=True)
class GameEmail:
    """A mail to one player about one game."""

    kind: GameEmailKind
    to_address: str
    to_name: str
    team_name: str
    opponent: str | None
    location: str | None
    local_when: str  # e.g. "Sat Dec 5, 7:00 PM EST"
    current_answer: str | None  # one of ANSWERS, or None before the first answer
    answer_urls: Mapping[str, str]  # answer -> link to the confirm page; empty when moot
    unsubscribe_url: str
    unsubscribe_mailto: str | None = None  # a second List-Unsubscribe route, if configured
    previous_local_when: str | None = None  # the old time, for a reschedule
    reason: str | None = None  # the captain's words for a cancellation or reschedule
    local_deadline: str | None = None  # when answers close, if the captain set a deadline

    def __post_init__(self) -> None:
        if self.current_answer is not None and self.current_answer not in ANSWERS:
            raise ValueError(f"unknown answer {self.current_answer!r}")
        if unknown := set(self.answer_urls) - set(ANSWERS):
            raise ValueError(f"answer links for unknown answers: {sorted(unknown)}")
        _require_web_links(self.unsubscribe_url, *self.answer_urls.values())
        mailto = self.unsubscribe_mailto
        if mailto is not None and not mailto.startswith("mailto:"):
            raise ValueError(f"unsubscribe_mailto must be a mailto: URI, got {mailto!r}")

    @property
    def answer_links(self) -> tuple[tuple[str, str], ...]:
        """(answer, url) in button order, only for the answers that have a link."""
        return tuple((a, self.answer_urls[a]) for a in ANSWERS if a in self.answer_urls)


@dataclass(frozen=True, kw_only=True, slots=True)
class CaptainAlertEmail:
    """A mail to a captain about something that needs their attention before a game."""

    kind: CaptainAlertKind
    to_address: str
    to_name: str
    team_name: str
    opponent: str | None
    local_when: str
    board_url: str | None  # a signed link to the captain's board
    player_name: str | None = None  # who dropped out or could not be reached
    yes_count: int | None = None  # for BELOW_MINIMUM and RESERVE_STEPPED_IN
    minimum: int | None = None  # for BELOW_MINIMUM and RESERVE_STEPPED_IN
    reason: str | None = None  # for DELIVERY_FAILED: what the mail server or platform said

    def __post_init__(self) -> None:
        # Fail when the mail is built, not with a half-empty sentence in someone's inbox.
        if self.kind is CaptainAlertKind.BELOW_MINIMUM:
            if self.yes_count is None or self.minimum is None:
                raise ValueError("a below-minimum alert needs yes_count and minimum")
        elif self.player_name is None:
            raise ValueError(f"a {self.kind} alert needs player_name")
        if self.board_url is not None:
            _require_web_links(self.board_url)


def _require_web_links(*urls: str) -> None:
    # Links are built by our own code; this only stops a `javascript:` or relative URL
    # from a wiring mistake before it lands in an href.
    for url in urls:
        if not url.startswith(("https://", "http://")):
            raise ValueError(f"links in emails must be absolute http(s) URLs, got {url!r}")
