"""Parsing ``team settings``: names with values, read into one :class:`SettingsChange`."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.grammar.commands import Limit, Settings, SettingsChange
from bot.grammar.readers import PLAYER_LIMIT, read_zone
from bot.grammar.usage import USAGE, fail, unknown
from core.safe_text import excerpt

SETTING_NAMES = {
    "tz": {"tz", "timezone"},
    "lead": {"lead"},
    "reminders": {"reminders", "reminder"},
    "min": {"min"},
    "max": {"max"},
    "length": {"length"},
    "reserves": {"reserves"},
    "dms": {"dms", "dm"},
}
_SETTING_OF = {alias: name for name, aliases in SETTING_NAMES.items() for alias in aliases}
_OFF = {"none", "off"}
# Longest accepted duration per setting, as typed in messages and in minutes.
_LONGEST = {
    "lead": ("30d", 30 * 24 * 60),
    "reminders": ("30d", 30 * 24 * 60),
    "length": ("24h", 24 * 60),
    "reserves": ("30d", 30 * 24 * 60),
}


def parse_settings(words: Sequence[str]) -> Settings:
    key = "team settings"
    if not words:
        return Settings()
    tokens = [part for w in words for part in w.split("=", 1) if part]  # lead=48h works too
    values: dict[str, str] = {}
    i = 0
    while i < len(tokens):
        setting = _SETTING_OF.get(tokens[i].lower())
        if setting is None:
            unknown(tokens[i].lower(), _SETTING_OF, what="setting", usage=USAGE[key])
        if setting in values:
            fail(key, f"{setting} is given twice.")
        if i + 1 >= len(tokens):
            fail(key, f"{setting} needs a value after it.")
        value, i = tokens[i + 1], i + 2
        while value.endswith(",") and i < len(tokens):  # "reminders 24h, 3h"
            value, i = value + tokens[i], i + 1
        values[setting] = value
    return Settings(changes=_settings_change(values, key))


def _settings_change(values: dict[str, str], key: str) -> SettingsChange:
    low, high = _players(values, "min", key), _players(values, "max", key)
    if low is not None and high is not None and low > high:
        fail(key, f"min ({low}) is more than max ({high}).")
    lead = _minutes(values["lead"], "lead", key) if "lead" in values else None
    reminders = _reminders(values, key)
    if lead is not None and reminders and max(reminders) >= lead:
        fail(key, "Reminders come after the check starts: make each one shorter than lead.")
    cleared: set[Limit] = set()
    if values.get("min", "").lower() in _OFF:
        cleared.add("min_players")
    if values.get("max", "").lower() in _OFF:
        cleared.add("max_players")
    reserves, reserve_minutes = values.get("reserves"), None
    if reserves is not None and reserves.lower() in _OFF:
        cleared.add("reserve_minutes")
    elif reserves is not None:
        reserve_minutes = _minutes(reserves, "reserves", key)
        if lead is not None and reserve_minutes >= lead:
            fail(key, "Reserves are asked after the check starts: make reserves shorter "
                 "than lead.")
    return SettingsChange(
        timezone=read_zone(values["tz"], key) if "tz" in values else None,
        lead_minutes=lead,
        reminder_minutes=reminders,
        min_players=low,
        max_players=high,
        game_minutes=_minutes(values["length"], "length", key) if "length" in values else None,
        reserve_minutes=reserve_minutes,
        cleared=frozenset(cleared),
        dms=_on_off(values["dms"], "dms", key) if "dms" in values else None,
    )


def _on_off(raw: str, setting: str, key: str) -> bool:
    if raw.lower() in ("on", "yes"):
        return True
    if raw.lower() in ("off", "no"):
        return False
    fail(key, f"{setting} takes on or off, not '{raw}'.")


def _players(values: dict[str, str], setting: str, key: str) -> int | None:
    raw = values.get(setting)
    if raw is None or raw.lower() in _OFF:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= PLAYER_LIMIT:
        fail(key, f"{setting} takes a number of players from 1 to {PLAYER_LIMIT}, or none.")
    return int(raw)


def _reminders(values: dict[str, str], key: str) -> tuple[int, ...] | None:
    raw = values.get("reminders")
    if raw is None or raw.lower() in _OFF:
        return None if raw is None else ()
    found = {_minutes(part, "reminders", key) for part in raw.split(",") if part}
    return tuple(sorted(found, reverse=True))


_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?:in)?)?")


def _minutes(raw: str, setting: str, key: str) -> int:
    match = _DURATION.fullmatch(raw.lower())
    if match is None or not any(match.groups()):
        unit = " (add a unit)" if raw.isdigit() else ""
        fail(key, f"{setting} takes a duration like 90m, 3h or 2d, not '{excerpt(raw)}'{unit}.")
    days, hours, mins = (int(g) if g else 0 for g in match.groups())
    total = days * 24 * 60 + hours * 60 + mins
    most, cap = _LONGEST[setting]
    if not 0 < total <= cap:
        fail(key, f"{setting} must be more than 0 and at most {most}, not '{excerpt(raw)}'.")
    return total
