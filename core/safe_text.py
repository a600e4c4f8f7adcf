"""Which characters people may type, and how text is shown safely: one rule for every door.

The service refuses any request carrying one of these characters, the answer page its
form; text stored before the rule existed is shown through :func:`shown`. So nothing typed
can reach the database (PostgreSQL refuses NUL outright), an email header, a terminal
(escape sequences) or a page, or make a name read differently from what it is (bidi
overrides).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from typing import Any

from core.errors import DomainError, Refusal

# C0 controls but tab and line breaks (which whitespace folding turns into spaces where a
# line break has no place), DEL, C1 controls, lone surrogates (not encodable as UTF-8), and
# the bidirectional embeddings, overrides and isolates.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e"
                     "\u2066-\u2069]")
_NAMES = {"\x00": "NUL", "\x07": "BEL", "\x08": "backspace", "\x1b": "ESC", "\x7f": "DEL"}
EXCERPT = 40  # characters of an unknown word worth echoing back
# What a service request's text arguments are, in a refusal's words; others by their name.
_CALLED = {"player_name": "name", "location": "place", "email": "email address",
           "who": "player", "on_behalf_of": "player", "ref": "game", "original_text": "time",
           "timezone": "time zone", "team_id": "team", "check_id": "link",
           "player_id": "link", "slack_user": "Slack user", "discord_user": "Discord user"}


def unsafe_character(text: str) -> str | None:
    """The first character of ``text`` that no door accepts, or None."""
    found = _UNSAFE.search(text)
    return None if found is None else found.group()


def refuse_unsafe(text: str, what: str) -> None:
    """Raise a friendly ``unsafe_text`` refusal when ``text`` (the ``what``) has an unsafe
    character."""
    bad = unsafe_character(text)
    if bad is None:
        return
    named = f"U+{ord(bad):04X}" + (f" {_NAMES[bad]}" if bad in _NAMES else "")
    raise DomainError(Refusal.UNSAFE_TEXT, f"The {what} has an invisible control character in it "
                      f"({named}), which Attend doesn't accept. Type it again without it "
                      "(pasting from another app sometimes brings one along).")


def refuse_unsafe_arguments(names: Sequence[str], args: Sequence[Any],
                            kwargs: Mapping[str, Any]) -> None:
    """Refuse a service request (parameters ``names``, called with ``args`` and ``kwargs``)
    whose text, plain or in a tuple or list, has an unsafe character."""
    for name, value in itertools.chain(zip(names, args, strict=False), kwargs.items()):
        texts = value if isinstance(value, tuple | list) else (value,)
        for text in texts:
            if isinstance(text, str):
                refuse_unsafe(text, _CALLED.get(name, name.replace("_", " ")))


def shown(text: str, replacement: str = "\N{REPLACEMENT CHARACTER}") -> str:
    """``text`` with each unsafe character replaced: for names stored before the rule."""
    return _UNSAFE.sub(replacement, text)


def shown_value(value: object) -> object:
    """:func:`shown` for any text (a subclass such as ``Markup`` stays one), anything else
    as it is: Jinja's ``finalize`` for every page and email."""
    if isinstance(value, str):
        return value.__class__(shown(value))
    return value


def excerpt(text: str, limit: int = EXCERPT) -> str:
    """``text`` shortened to ``limit`` characters (with an ellipsis) and :func:`shown`."""
    return shown(text if len(text) <= limit else text[:limit - 1] + "…")
