"""Commands from typed options: where a platform hands each value on its own (Discord's
slash-command options), each value becomes its field of the command directly.

Nothing is joined into a line and parsed again, so a place written "Park vs Rec Center" stays
the place and a reason ending "--team X" stays the reason. The values are checked by the same
readers as typed text (games, people, zones, emails, lengths), and refused with the same
:class:`GrammarError`. Times stay as typed (``when_text``): the caller reads them in the
team's zone, as for text.
"""

from __future__ import annotations

from bot.grammar.commands import (
    AddPlayer,
    Answer,
    AnswerWord,
    AppointCaptain,
    Board,
    Cancel,
    Check,
    ClearDeadline,
    CreateTeam,
    Deadline,
    Help,
    Mention,
    RelieveCaptain,
    Remind,
    RemovePlayer,
    Reschedule,
    Schedule,
    SetReserve,
    Settings,
    Status,
)
from bot.grammar.parser import parse_help
from bot.grammar.readers import (
    NAME_LIMIT,
    NOTE_LIMIT,
    PLACE_LIMIT,
    WHEN_LIMIT,
    read_email,
    read_game,
    read_text,
    read_when,
    read_who,
    read_zone,
)
from bot.grammar.settings import parse_settings

GameCommand = Check | Status | Board | Remind
_ON_A_GAME: dict[str, type[GameCommand]] = {
    "check": Check, "status": Status, "board": Board, "remind": Remind}


def _text(value: str, key: str, what: str, limit: int) -> str:
    return read_text(value.split(), key, what, limit)


def _optional(value: str | None, key: str, what: str, limit: int) -> str | None:
    return None if value is None else _text(value, key, what, limit)


def _game(value: str, key: str) -> str:
    return read_game(value.strip(), key)


def help_(topic: str | None) -> Help:
    return parse_help(topic.split() if topic else ())


def schedule(*, when: str, location: str | None = None, opponent: str | None = None) -> Schedule:
    key = "schedule"
    return Schedule(when_text=read_when(when.split(), key),
                    location=_optional(location, key, "the place", PLACE_LIMIT),
                    opponent=_optional(opponent, key, "the opponent", NAME_LIMIT))


def on_a_game(word: str, game: str) -> GameCommand:
    """``check``, ``status``, ``board`` or ``remind`` on one game."""
    return _ON_A_GAME[word](game=_game(game, word))


def cancel(*, game: str, reason: str | None = None) -> Cancel:
    return Cancel(game=_game(game, "cancel"),
                  reason=_optional(reason, "cancel", "the reason", NOTE_LIMIT))


def reschedule(*, game: str, when: str) -> Reschedule:
    return Reschedule(game=_game(game, "reschedule"),
                      when_text=read_when(when.split(), "reschedule"))


def deadline(*, game: str, when: str) -> Deadline | ClearDeadline:
    """Answers close at ``when``, or at the start again when it is ``none``."""
    key = "deadline"
    if when.strip().lower() == "none":
        return ClearDeadline(game=_game(game, key))
    return Deadline(game=_game(game, key), when_text=_text(when, key, "the time", WHEN_LIMIT))


def answer(*, game: str, answer: AnswerWord, note: str | None = None,
           player: Mention | None = None) -> Answer:
    """An answer for oneself, or, with ``player``, a captain's for that player."""
    return Answer(game=_game(game, "answer"), answer=answer,
                  note=_optional(note, "answer", "the note", NOTE_LIMIT),
                  on_behalf_of=None if player is None else str(player))


def create_team(*, name: str, timezone: str | None = None) -> CreateTeam:
    key = "team create"
    return CreateTeam(name=_text(name, key, "the team's name", NAME_LIMIT),
                      timezone=None if timezone is None else read_zone(timezone.strip(), key))


def add_player(*, name: str | None, email: str | None = None,
               mention: Mention | None = None, reserve: bool = False) -> AddPlayer:
    key = "team add"
    return AddPlayer(name=_text(name or "", key, "the player's name", NAME_LIMIT),
                     email=None if email is None else read_email(email.strip(), key),
                     mention=mention, reserve=reserve)


def remove_player(who: str) -> RemovePlayer:
    return RemovePlayer(who=read_who(who.split(), "team remove"))


def captain(who: str, *, relieve: bool = False) -> AppointCaptain | RelieveCaptain:
    found = read_who(who.split(), "team captain")
    return RelieveCaptain(who=found) if relieve else AppointCaptain(who=found)


def set_reserve(who: str, *, remove: bool = False) -> SetReserve:
    return SetReserve(who=read_who(who.split(), "team reserve"), reserve=not remove)


def settings(changes: str | None) -> Settings:
    """The settings, or changes to them: a list of names and values, read as in text."""
    return parse_settings(changes.split() if changes else ())
