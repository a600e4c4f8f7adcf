"""Parsing ``team ...``: create, add, remove, roster, captain, and settings (in ``settings``)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.grammar.commands import (
    AddPlayer,
    AppointCaptain,
    Command,
    CreateTeam,
    Mention,
    RelieveCaptain,
    RemovePlayer,
    Roster,
    SetReserve,
)
from bot.grammar.readers import (
    NAME_LIMIT,
    nothing_after,
    read_email,
    read_mention,
    read_text,
    read_who,
    read_zone,
)
from bot.grammar.settings import SETTING_NAMES, parse_settings
from bot.grammar.usage import USAGE, GrammarError, fail, unknown, usage_of


def parse_team(words: Sequence[str]) -> Command:
    """Read what follows ``team``."""
    if not words:
        raise GrammarError(
            "team what? Say create, add, remove, roster, captain, reserve or settings.",
            usage_of("team")
        )
    sub, rest = words[0].lower(), words[1:]
    if sub == "create":
        return _create_team(rest)
    if sub == "add":
        return _add_player(rest)
    if sub == "remove":
        return RemovePlayer(who=read_who(rest, "team remove"))
    if sub == "roster":
        nothing_after(rest, "team roster")
        return Roster()
    if sub == "captain":
        if rest and rest[0].lower() == "remove":
            return RelieveCaptain(who=read_who(rest[1:], "team captain"))
        return AppointCaptain(who=read_who(rest, "team captain"))
    if sub == "settings":
        return parse_settings(rest)
    if sub == RESERVE_WORD:
        if rest and rest[0].lower() == "remove":
            return SetReserve(who=read_who(rest[1:], "team reserve"), reserve=False)
        return SetReserve(who=read_who(rest, "team reserve"))
    team_keys = {k: k for k in USAGE if k.startswith("team ")}
    unknown(f"team {sub}", team_keys, fallback="team")


def _create_team(words: Sequence[str]) -> CreateTeam:
    key = "team create"
    zone = None
    if words and words[-1].lower() in SETTING_NAMES["tz"]:
        fail(key, "tz needs a zone after it, like America/Toronto.")
    if len(words) >= 2 and words[-2].lower() in SETTING_NAMES["tz"]:
        zone, words = read_zone(words[-1], key), words[:-2]
    return CreateTeam(name=read_text(words, key, "the team's name", NAME_LIMIT), timezone=zone)


RESERVE_WORD = "reserve"


def _add_player(words: Sequence[str]) -> AddPlayer:
    key = "team add"
    # "team add Alice alice@x.org reserve": the last word, after a name or a contact.
    reserve = len(words) > 1 and words[-1].lower() == RESERVE_WORD
    if reserve:
        words = words[:-1]
    email: str | None = None
    mention: Mention | None = None
    label: str | None = None
    name_words: list[str] = []
    for word in words:
        found = read_mention(word)
        if found is not None:
            if mention is not None:
                fail(key, "Give one mention per player.")
            mention, label = found
        elif "@" in word:
            if email is not None:
                fail(key, "Give one email per player.")
            email = read_email(word, key)
        else:
            name_words.append(word)
    if not name_words and label:
        name_words = [label]  # Slack's <@U123|alice> carries a name we can use
    name = read_text(name_words, key, "the player's name", NAME_LIMIT)
    return AddPlayer(name=name, email=email, mention=mention, reserve=reserve)
