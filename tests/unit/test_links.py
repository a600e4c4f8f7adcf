from datetime import UTC, datetime, timedelta

import pytest

from bot.links import (
    AnswerGrant,
    BoardGrant,
    LinkExpired,
    LinkSigner,
    LinkTampered,
    UnsubscribeGrant,
)
from core.errors import ConfigError

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
GAME_OVER = NOW + timedelta(hours=10)


def test_answer_token_round_trip() -> None:
    signer = LinkSigner(["k1"])
    token = signer.answer_token("check-1", "player-7", GAME_OVER)
    assert signer.read_answer_token(token, now=NOW) == AnswerGrant(
        check_id="check-1", player_id="player-7"
    )


def test_answer_token_is_url_safe_and_carries_no_names() -> None:
    token = LinkSigner(["k1"]).answer_token("check-1", "player-7", GAME_OVER)
    assert all(c.isalnum() or c in "-_." for c in token)


def test_board_and_unsubscribe_tokens_round_trip() -> None:
    signer = LinkSigner(["k1"])
    board = signer.board_token("game-3", "team-1", "player-2", GAME_OVER)
    unsubscribe = signer.unsubscribe_token("team-1", "player-7")
    assert signer.read_board_token(board, now=NOW) == BoardGrant(
        game_id="game-3", team_id="team-1", captain_player_id="player-2"
    )
    assert signer.read_unsubscribe_token(unsubscribe) == UnsubscribeGrant(
        team_id="team-1", player_id="player-7"
    )


def test_a_changed_character_is_refused() -> None:
    signer = LinkSigner(["k1"])
    token = signer.answer_token("check-1", "player-7", GAME_OVER)
    payload, _, signature = token.rpartition(".")
    # The first character: the last one may only hold base64 padding bits.
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    with pytest.raises(LinkTampered):
        signer.read_answer_token(f"{payload}.{flipped}", now=NOW)
    other = signer.answer_token("check-1", "player-8", GAME_OVER).rpartition(".")[0]
    with pytest.raises(LinkTampered):
        signer.read_answer_token(f"{other}.{signature}", now=NOW)
    with pytest.raises(LinkTampered):
        signer.read_answer_token("not-a-token", now=NOW)


def test_a_token_from_another_secret_is_refused() -> None:
    token = LinkSigner(["someone-else"]).answer_token("check-1", "player-7", GAME_OVER)
    with pytest.raises(LinkTampered):
        LinkSigner(["k1"]).read_answer_token(token, now=NOW)


def test_an_answer_link_expires_at_the_time_the_caller_chose() -> None:
    signer = LinkSigner(["k1"])
    token = signer.answer_token("check-1", "player-7", GAME_OVER)
    signer.read_answer_token(token, now=GAME_OVER - timedelta(seconds=1))
    with pytest.raises(LinkExpired):
        signer.read_answer_token(token, now=GAME_OVER)
    with pytest.raises(LinkExpired):
        signer.read_board_token(
            signer.board_token("game-3", "team-1", "player-2", GAME_OVER),
            now=GAME_OVER + timedelta(days=1),
        )


def test_a_token_for_one_purpose_never_opens_another() -> None:
    signer = LinkSigner(["k1"])
    answer = signer.answer_token("check-1", "player-7", GAME_OVER)
    board = signer.board_token("game-3", "team-1", "player-2", GAME_OVER)
    unsubscribe = signer.unsubscribe_token("team-1", "player-7")
    with pytest.raises(LinkTampered):
        signer.read_board_token(answer, now=NOW)
    with pytest.raises(LinkTampered):
        signer.read_unsubscribe_token(answer)
    with pytest.raises(LinkTampered):
        signer.read_answer_token(board, now=NOW)
    with pytest.raises(LinkTampered):
        signer.read_answer_token(unsubscribe, now=NOW)


def test_rotation_keeps_old_links_working_until_the_old_key_is_dropped() -> None:
    token = LinkSigner(["old"]).answer_token("check-1", "player-7", GAME_OVER)
    rotated = LinkSigner(["old", "new"])
    assert rotated.read_answer_token(token, now=NOW).player_id == "player-7"
    # The newest key signs: a fresh token survives dropping the old key.
    fresh = rotated.answer_token("check-1", "player-7", GAME_OVER)
    assert fresh != token
    dropped = LinkSigner(["new"])
    assert dropped.read_answer_token(fresh, now=NOW).check_id == "check-1"
    with pytest.raises(LinkTampered):
        dropped.read_answer_token(token, now=NOW)


def test_bad_configuration_and_naive_times_are_refused() -> None:
    with pytest.raises(ConfigError):
        LinkSigner([])
    with pytest.raises(ConfigError):
        LinkSigner(["k1", ""])
    with pytest.raises(ConfigError):
        LinkSigner("k1")  # a bare string would be read as one key per character
    signer = LinkSigner(["k1"])
    with pytest.raises(ValueError):
        signer.answer_token("check-1", "player-7", datetime(2026, 12, 5, 22, 0))
    token = signer.answer_token("check-1", "player-7", GAME_OVER)
    with pytest.raises(ValueError):
        signer.read_answer_token(token, now=datetime(2026, 12, 5, 12, 0))


def test_links_mailed_before_tokens_stopped_being_compressed_still_open() -> None:
    # Tokens were once written by itsdangerous as-is, zlib-compressed when that was shorter.
    from itsdangerous import URLSafeSerializer

    payload = {"c": "c" * 32, "p": "p" * 32, "exp": int(GAME_OVER.timestamp())}
    old = URLSafeSerializer(["k1"], salt="attend.answer.v1").dumps(payload)
    assert old.startswith(".")  # compressed
    assert LinkSigner(["k1"]).read_answer_token(old, now=NOW) == AnswerGrant(
        check_id="c" * 32, player_id="p" * 32)
