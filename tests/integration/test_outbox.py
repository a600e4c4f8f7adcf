"""The local outbox: .eml files on disk, listed and read back for the outbox page."""

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.email.models import GameEmail, GameEmailKind
from bot.email.outbox import (
    OutboxMailer,
    OutboxMessageNotFound,
    list_messages,
    read_message,
)
from bot.email.render import build_message
from bot.email.wire import Mail

ANSWER_URLS = {a: f"https://attend.example.org/r/TOKEN?a={a}" for a in ("yes", "no", "maybe")}
UNSUBSCRIBE = "https://attend.example.org/u/UNSUB"
MODEL = GameEmail(
    kind=GameEmailKind.INVITATION,
    to_address="zoe@example.org",
    to_name="Zoë Park",
    team_name="Tigers",
    opponent="Hawks",
    location=None,
    local_when="Sat Dec 5, 7:00 PM EST",
    current_answer=None,
    answer_urls=ANSWER_URLS,
    unsubscribe_url=UNSUBSCRIBE,
)
FROZEN = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def message(model: GameEmail = MODEL, message_id: str | None = None) -> Mail:
    return build_message(
        model,
        sender="Attend <attend@example.org>",
        message_domain="example.org",
        date=FROZEN,
        message_id=message_id,
    )


async def test_messages_are_listed_in_sending_order_with_their_links(tmp_path: Path) -> None:
    # A frozen clock: two sends in one tick must still list in the order they were sent.
    outbox = OutboxMailer(tmp_path / "outbox", clock=lambda: FROZEN)
    reminder = dataclasses.replace(MODEL, kind=GameEmailKind.REMINDER, to_address="al@example.org")
    first = await outbox.send(message(message_id="<zzz@example.org>"))
    second = await outbox.send(message(reminder, message_id="<aaa@example.org>"))

    entries = list_messages(tmp_path / "outbox")
    assert [e.subject for e in entries] == [
        "Sat Dec 5, 7:00 PM EST vs Hawks — are you in?",
        "Reminder: Sat Dec 5, 7:00 PM EST vs Hawks — are you in?",
    ]
    assert [e.to for e in entries] == ["Zoë Park <zoe@example.org>", "Zoë Park <al@example.org>"]
    assert entries[0].date == FROZEN
    assert entries[0].links == (*ANSWER_URLS.values(), UNSUBSCRIBE)
    assert (first, second) == ("<zzz@example.org>", "<aaa@example.org>")
    assert all(e.filename.endswith(".eml") for e in entries)
    assert sorted(p.name for p in (tmp_path / "outbox").iterdir()) == [
        e.filename for e in entries
    ]  # no temporary files left behind


async def test_a_saved_message_reads_back_with_headers_and_both_bodies(tmp_path: Path) -> None:
    outbox = OutboxMailer(tmp_path)
    message_id = await outbox.send(message())
    (entry,) = list_messages(tmp_path)

    headers, text, html = read_message(tmp_path, entry.filename)
    assert ("Message-ID", message_id) in headers
    assert ("List-Unsubscribe", f"<{UNSUBSCRIBE}>") in headers
    assert "Answer here" in text
    assert html is not None and 'href="https://attend.example.org/r/TOKEN?a=yes"' in html


async def test_odd_message_ids_give_safe_file_names(tmp_path: Path) -> None:
    outbox = OutboxMailer(tmp_path)
    await outbox.send(message(message_id="<../../etc/passwd x@example.org>"))
    (entry,) = list_messages(tmp_path)
    assert "/" not in entry.filename and " " not in entry.filename
    assert [p.parent for p in tmp_path.iterdir()] == [tmp_path]
    read_message(tmp_path, entry.filename)


async def test_reading_outside_the_outbox_is_refused(tmp_path: Path) -> None:
    outbox_dir = tmp_path / "outbox"
    await OutboxMailer(outbox_dir).send(message())
    secret = tmp_path / "20261201T090000000000Z-secret.eml"
    secret.write_bytes(bytes(message()))
    (outbox_dir / "20261201T090000000001Z-link.eml").symlink_to(secret)

    for name in [
        "../20261201T090000000000Z-secret.eml",
        "..",
        "/etc/passwd",
        "20261201T090000000001Z-link.eml",  # a symlink pointing out
        "20261201T090000000002Z-missing.eml",
        "",
    ]:
        with pytest.raises(OutboxMessageNotFound):
            read_message(outbox_dir, name)


def test_an_outbox_nothing_was_sent_to_is_empty(tmp_path: Path) -> None:
    assert list_messages(tmp_path / "never-created") == []
