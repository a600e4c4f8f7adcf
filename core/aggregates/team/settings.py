"""``TeamSettings``: everything a captain can tune about a team, valid by construction."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import DomainError, Refusal


@dataclass(frozen=True, kw_only=True, slots=True)
class TeamSettings:
    """Everything a captain can tune. ``reminder_minutes`` are minutes before the start.

    A value is checked when it is made: settings that make no sense are refused with
    ``invalid_settings`` and a message saying which. Reminder times are kept sorted, latest
    first, without duplicates, so equal settings compare equal however they were typed.
    """

    timezone: str
    check_lead_minutes: int = 2880
    reminder_minutes: tuple[int, ...] = (1440, 180)
    min_players: int | None = None
    max_players: int | None = None
    game_length_minutes: int = 120
    reserve_minutes: int | None = None  # ask the reserves this long before a short game
    dms: bool = True  # False: invitations go to the team's channel only (issue 16.2)

    def __post_init__(self) -> None:
        reminders = tuple(sorted(set(self.reminder_minutes), reverse=True))
        object.__setattr__(self, "reminder_minutes", reminders)  # frozen: set once, here
        problem = self._problem()
        if problem is not None:
            raise DomainError(Refusal.INVALID_SETTINGS, problem)

    def _problem(self) -> str | None:
        if not self.timezone.strip():
            return "Please give the team's time zone, like Europe/Berlin."
        if self.check_lead_minutes <= 0:
            return "The check must start some time before the game."
        if any(r <= 0 or r >= self.check_lead_minutes for r in self.reminder_minutes):
            return "Reminders must fall between the start of the check and the game."
        if self.min_players is not None and self.min_players < 1:
            return "The minimum number of players must be at least 1."
        if self.max_players is not None and self.max_players < max(1, self.min_players or 1):
            return "The maximum number of players can't be below the minimum."
        if self.game_length_minutes <= 0:
            return "A game must last some time."
        if self.reserve_minutes is not None and not (
                0 < self.reserve_minutes < self.check_lead_minutes):
            return ("Reserves are asked after the check starts and before the game: make "
                    "reserves shorter than lead.")
        return None
