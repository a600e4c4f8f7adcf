"""What Slack DMs say: the game in the team's time, buttons only where an answer still
counts, and nothing a person typed ever turning into a mention or a link."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.slack import messages
from core.aggregates.common import Answer
from core.notifications import Notification, NotificationKind, Recipient


def note(kind: NotificationKind, **fields: object) -> Notification:
    defaults: dict[str, object] = dict(
        delivery_id="d1", message_key="k1", team_id="t1", team_name="The Alchemists",
        recipient=Recipient(player_id="p1", name="Alice", slack_user="T1:U2"),
        timezone="America/Toronto", game_id="g1", game_handle="G1",
        starts_at=datetime(2026, 12, 6, 0, 0, tzinfo=UTC), opponent="Hawks",
        location="Monarch Park", check_id="c1")
    return Notification(kind=kind, **{**defaults, **fields})  # type: ignore[arg-type]


def notification(n: Notification) -> tuple[str, list[dict[str, Any]]]:
    """The fallback text and the blocks as Slack receives them (JSON objects)."""
    text, blocks = messages.notification(n)
    return text, [block.to_dict() for block in blocks]


def test_slack_receives_a_section_and_the_three_buttons_in_block_kits_shape() -> None:
    _, blocks = notification(note(NotificationKind.REMINDER, current_answer=Answer.NO))
    lines = ("*Reminder: are you coming?*\n*The Alchemists* vs *Hawks*\n"
             "Sat Dec 5, 7:00 PM EST · Monarch Park\nYour answer: *no*. Tap to change it.")

    def button(answer: str, label: str) -> dict[str, Any]:
        return {"type": "button", "action_id": f"attend_{answer}", "value": "c1",
                "text": {"type": "plain_text", "text": label}}

    assert blocks == [
        {"type": "section", "text": {"type": "mrkdwn", "text": lines}},
        {"type": "actions", "block_id": "attend:c1", "elements": [
            button("yes", "Yes, I'm in"), {**button("no", "Can't make it"), "style": "primary"},
            button("maybe", "Maybe")]}]


def test_an_invitation_shows_the_game_in_the_teams_time_with_three_buttons() -> None:
    text, [section, actions] = notification(note(NotificationKind.INVITATION))
    assert text == "Are you coming? The Alchemists vs Hawks, Sat Dec 5, 7:00 PM EST"
    assert "*The Alchemists* vs *Hawks*\nSat Dec 5, 7:00 PM EST · Monarch Park" in \
        section["text"]["text"]
    assert [(b["action_id"], b["value"]) for b in actions["elements"]] == [
        ("attend_yes", "c1"), ("attend_no", "c1"), ("attend_maybe", "c1")]


def test_a_reminder_marks_the_answer_already_given() -> None:
    _, [section, actions] = notification(note(NotificationKind.REMINDER,
                                              current_answer=Answer.MAYBE))
    assert "Your answer: *maybe*" in section["text"]["text"]
    assert [b["action_id"] for b in actions["elements"] if b.get("style")] == ["attend_maybe"]


def test_a_cancellation_has_no_buttons() -> None:
    _, blocks = notification(note(NotificationKind.CANCELLATION, cancel_reason="Field flooded"))
    assert [b["type"] for b in blocks] == ["section"]
    assert blocks[0]["text"]["text"].startswith("*Cancelled.* Field flooded")


def test_what_people_typed_cannot_ping_a_channel_or_hide_a_link() -> None:
    _, [section, _] = notification(note(
        NotificationKind.INVITATION, team_name="<!channel> FC",
        opponent="<https://evil.example|Hawks>", location="Park & <@U999>"))
    shown = section["text"]["text"]
    assert "<" not in shown and ">" not in shown
    assert "&lt;!channel&gt; FC" in shown and "Park &amp; &lt;@U999&gt;" in shown
