"""Signed links for people who answer from email: answer, captain's board, unsubscribe.

A token is the credential, so it carries only opaque ids (its payload is readable base64
JSON) and a signature. Keys are given oldest first: the newest signs, all of them verify,
which lets an operator add a key, wait for old links to expire, then drop the old one.
Each purpose has its own salt, so a token made for one purpose never opens another.
Expiry is an ``exp`` field checked against the ``now`` the caller passes in: links live
until a moment chosen by the caller (game start plus a few hours), not for a fixed age.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from itsdangerous.encoding import base64_encode
from itsdangerous.serializer import Serializer

from core.errors import AttendError, ConfigError
from core.notifications import Notification

LINK_LIFETIME = timedelta(hours=6)  # answer and board links work until this long after start
_ANSWER_SALT = "attend.answer.v1"
_BOARD_SALT = "attend.board.v1"
_UNSUBSCRIBE_SALT = "attend.unsubscribe.v1"
_SEASON_SALT = "attend.season.v1"
_CALENDAR_SALT = "attend.calendar.v1"
SEASON_LINK_LIFETIME = timedelta(days=30)  # a captain's season page link


class LinkError(AttendError):
    """A link cannot be honoured; the web page shows one friendly message for all of these."""


class LinkTampered(LinkError):
    """The token is malformed, was signed by an unknown key, or was made for another purpose."""


class LinkExpired(LinkError):
    """The token is genuine but its time is over."""


@dataclass(frozen=True, kw_only=True, slots=True)
class AnswerGrant:
    check_id: str
    player_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class BoardGrant:
    game_id: str
    team_id: str
    captain_player_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class UnsubscribeGrant:
    team_id: str
    player_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class SeasonGrant:
    team_id: str
    captain_player_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class CalendarGrant:
    team_id: str
    player_id: str


class _Serializer(URLSafeSerializer):
    """URL-safe tokens written without trying zlib first: a payload of a few opaque ids
    hardly ever shrinks, and the attempt was most of the cost of signing a link (a fan-out
    signs two a mail). Reading is unchanged, so compressed tokens still open."""

    def dump_payload(self, obj: Any) -> bytes:
        return base64_encode(Serializer.dump_payload(self, obj))


class LinkSigner:
    """Makes and reads the tokens that go into emailed links."""

    def __init__(self, keys: Sequence[str]) -> None:
        if isinstance(keys, str) or not keys or not all(keys):
            raise ConfigError("link signing needs at least one non-empty key, newest last")
        secret = list(keys)
        self._answer = _Serializer(secret, salt=_ANSWER_SALT)
        self._board = _Serializer(secret, salt=_BOARD_SALT)
        self._unsubscribe = _Serializer(secret, salt=_UNSUBSCRIBE_SALT)
        self._season = _Serializer(secret, salt=_SEASON_SALT)
        self._calendar = _Serializer(secret, salt=_CALENDAR_SALT)

    def answer_token(self, check_id: str, player_id: str, expires_at: datetime) -> str:
        return _dumps(self._answer, {"c": check_id, "p": player_id}, expires_at)

    def read_answer_token(self, token: str, *, now: datetime) -> AnswerGrant:
        data = _loads(self._answer, token, ("c", "p"), now=now)
        return AnswerGrant(check_id=data["c"], player_id=data["p"])

    def board_token(
        self, game_id: str, team_id: str, captain_player_id: str, expires_at: datetime
    ) -> str:
        payload = {"g": game_id, "t": team_id, "p": captain_player_id}
        return _dumps(self._board, payload, expires_at)

    def read_board_token(self, token: str, *, now: datetime) -> BoardGrant:
        data = _loads(self._board, token, ("g", "t", "p"), now=now)
        return BoardGrant(game_id=data["g"], team_id=data["t"], captain_player_id=data["p"])

    def unsubscribe_token(self, team_id: str, player_id: str) -> str:
        # No expiry: an unsubscribe link in a months-old mail must still work (RFC 8058).
        return _dumps(self._unsubscribe, {"t": team_id, "p": player_id}, None)

    def read_unsubscribe_token(self, token: str) -> UnsubscribeGrant:
        data = _loads(self._unsubscribe, token, ("t", "p"), now=None)
        return UnsubscribeGrant(team_id=data["t"], player_id=data["p"])

    # -- the season's links (issue 17) -----------------------------------------------------
    def season_token(self, team_id: str, captain_player_id: str, expires_at: datetime) -> str:
        return _dumps(self._season, {"t": team_id, "p": captain_player_id}, expires_at)

    def read_season_token(self, token: str, *, now: datetime) -> SeasonGrant:
        data = _loads(self._season, token, ("t", "p"), now=now)
        return SeasonGrant(team_id=data["t"], captain_player_id=data["p"])

    def calendar_token(self, team_id: str, player_id: str) -> str:
        # No expiry: calendar apps poll a feed for as long as it is subscribed. Rotating the
        # keys (dropping the old one) revokes every feed link at once.
        return _dumps(self._calendar, {"t": team_id, "p": player_id}, None)

    def read_calendar_token(self, token: str) -> CalendarGrant:
        data = _loads(self._calendar, token, ("t", "p"), now=None)
        return CalendarGrant(team_id=data["t"], player_id=data["p"])


def _epoch(moment: datetime) -> float:
    # A naive datetime would be read in the host's zone: refuse it rather than guess.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("link times must be timezone-aware datetimes")
    return moment.timestamp()


def _dumps(
    serializer: _Serializer, ids: Mapping[str, str], expires_at: datetime | None
) -> str:
    for key, value in ids.items():
        if not isinstance(value, str) or not value:
            raise ValueError(f"link ids must be non-empty strings, got {key}={value!r}")
    payload: dict[str, Any] = dict(ids)
    if expires_at is not None:
        payload["exp"] = int(_epoch(expires_at))
    return serializer.dumps(payload)


def _loads(
    serializer: _Serializer, token: str, fields: tuple[str, ...], *, now: datetime | None
) -> dict[str, Any]:
    try:
        data = serializer.loads(token)
    except BadSignature as error:
        raise LinkTampered("this link is not valid") from error
    # A genuine signature over an unexpected shape means a bug or a foreign token: refuse it.
    if not isinstance(data, dict) or not all(isinstance(data.get(f), str) for f in fields):
        raise LinkTampered("this link is not valid")
    if now is not None:
        exp = data.get("exp")
        if not isinstance(exp, int) or isinstance(exp, bool):
            raise LinkTampered("this link is not valid")
        if _epoch(now) >= exp:
            raise LinkExpired("this link has expired")
    return data


@dataclass(frozen=True, slots=True)
class BoardLinks:
    """Links to a captain's live board of one game, for email alerts and chat replies."""

    signer: LinkSigner
    base_url: str

    def url(self, game_id: str, team_id: str, captain_player_id: str,
            starts_at: datetime) -> str:
        token = self.signer.board_token(game_id, team_id, captain_player_id,
                                        starts_at + LINK_LIFETIME)
        return f"{self.base_url.rstrip('/')}/b/{token}"


def board_url(boards: BoardLinks | None, n: Notification) -> str | None:
    """The live board's link for a captain's alert; None for anyone else's message."""
    if boards is None or not n.for_captain:
        return None
    return boards.url(n.game_id, n.team_id, n.recipient.player_id, n.starts_at)


# -- the season's links (issue 17) -----------------------------------------------------------
def season_url(boards: BoardLinks, team_id: str, captain_player_id: str,
               now: datetime) -> str:
    """A captain's season page, with the table and its CSV; it works for 30 days."""
    token = boards.signer.season_token(team_id, captain_player_id, now + SEASON_LINK_LIFETIME)
    return f"{boards.base_url.rstrip('/')}/s/{token}"


def calendar_url(boards: BoardLinks, team_id: str, player_id: str) -> str:
    """A player's iCalendar feed of the team's games, for a calendar app to subscribe to."""
    token = boards.signer.calendar_token(team_id, player_id)
    return f"{boards.base_url.rstrip('/')}/c/{token}/attend.ics"
