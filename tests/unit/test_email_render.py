import dataclasses
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from bot.email.models import (
    CaptainAlertEmail,
    CaptainAlertKind,
    GameEmail,
    GameEmailKind,
)
from bot.email.render import build_message, render, render_alone
from bot.email.wire import Mail, Mailbox, to_wire, write_mail

ANSWER_URLS = {a: f"https://attend.example.org/r/TOKEN?a={a}" for a in ("yes", "no", "maybe")}
UNSUBSCRIBE = "https://attend.example.org/u/" + "U" * 120  # as long as a real signed link
BOARD = "https://attend.example.org/b/BOARD"

INVITATION = GameEmail(
    kind=GameEmailKind.INVITATION,
    to_address="zoe@example.org",
    to_name="Zoë Park",
    team_name="Tigers",
    opponent="Hawks",
    location="Monarch Park",
    local_when="Sat Dec 5, 7:00 PM EST",
    current_answer=None,
    answer_urls=ANSWER_URLS,
    unsubscribe_url=UNSUBSCRIBE,
    unsubscribe_mailto="mailto:unsubscribe@example.org?subject=unsub-U",
    previous_local_when="Fri Dec 4, 6:00 PM EST",
    reason="Field flooded",
)
ALERT = CaptainAlertEmail(
    kind=CaptainAlertKind.BELOW_MINIMUM,
    to_address="cap@example.org",
    to_name="Cap",
    team_name="Tigers",
    opponent="Hawks",
    local_when="Sat Dec 5, 7:00 PM EST",
    board_url=BOARD,
    player_name="Zoë Park",
    yes_count=4,
    minimum=7,
    reason="550 5.1.1 no such user",
)


def sent(model: GameEmail | CaptainAlertEmail) -> EmailMessage:
    """Build, put on the wire and parse back, as a receiving mail client would."""
    message = build_message(
        model,
        sender="Attend <attend@example.org>",
        message_domain="example.org",
        date=datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
    )
    parsed = BytesParser(policy=email.policy.default).parsebytes(to_wire(message))
    assert isinstance(parsed, EmailMessage)
    return parsed


def sent_as(message: Mail) -> EmailMessage:
    parsed = BytesParser(policy=email.policy.default).parsebytes(to_wire(message))
    assert isinstance(parsed, EmailMessage)
    return parsed


def parts(message: EmailMessage) -> tuple[str, str]:
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    return plain.get_content(), html.get_content()


SUBJECTS = {
    GameEmailKind.INVITATION: "Sat Dec 5, 7:00 PM EST vs Hawks — are you in?",
    GameEmailKind.REMINDER: "Reminder: Sat Dec 5, 7:00 PM EST vs Hawks — are you in?",
    GameEmailKind.CANCELLATION: "Cancelled: Sat Dec 5, 7:00 PM EST vs Hawks",
    GameEmailKind.RESCHEDULE: "New time: Sat Dec 5, 7:00 PM EST vs Hawks — still in?",
    GameEmailKind.WAITLIST_PROMOTION: "You're in: Sat Dec 5, 7:00 PM EST vs Hawks",
    GameEmailKind.WAITLISTED: "Waitlisted: Sat Dec 5, 7:00 PM EST vs Hawks",
    GameEmailKind.RESERVE_INVITATION: "Tigers are short: can you play Sat Dec 5, 7:00 PM EST?",
    GameEmailKind.RESERVE_RELEASED: "Not needed after all: Sat Dec 5, 7:00 PM EST vs Hawks",
}


@pytest.mark.parametrize("kind", list(GameEmailKind))
def test_every_player_mail_has_headers_both_parts_and_an_unsubscribe_link(
    kind: GameEmailKind,
) -> None:
    message = sent(dataclasses.replace(INVITATION, kind=kind, current_answer="maybe"))
    assert message["Subject"] == SUBJECTS[kind]
    assert message["To"].addresses[0].addr_spec == "zoe@example.org"
    assert message["To"].addresses[0].display_name == "Zoë Park"
    assert message["From"] == "Attend <attend@example.org>"
    assert message["Message-ID"].endswith("@example.org>")
    assert message["Date"].datetime == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Unsubscribe"] == (
        f"<{UNSUBSCRIBE}>, <mailto:unsubscribe@example.org?subject=unsub-U>"
    )
    text, html = parts(message)
    for body in (text, html):
        assert "Sat Dec 5, 7:00 PM EST" in body
        assert "Monarch Park" in body
        assert UNSUBSCRIBE in body
    if kind is GameEmailKind.CANCELLATION:
        assert "cancelled" in text and "Field flooded" in text and "Field flooded" in html
        assert "TOKEN" not in text and "TOKEN" not in html  # nothing left to answer
    elif kind is GameEmailKind.RESERVE_RELEASED:
        assert "Thanks — the team is full now" in text and "the team is full now" in html
        assert "TOKEN" not in text and "TOKEN" not in html  # nothing left to answer
    else:
        for url in ANSWER_URLS.values():
            assert url in text
            assert f'href="{url}"' in html
        assert "Your answer so far: Maybe" in text
        assert "Your answer so far: <strong>Maybe</strong>" in html
        assert "Maybe &#10003;" in html


def test_a_reserve_is_told_the_team_is_short_and_asked_to_play() -> None:
    text, html = parts(sent(dataclasses.replace(INVITATION,
                                                kind=GameEmailKind.RESERVE_INVITATION)))
    assert "Tigers are short for Sat Dec 5, 7:00 PM EST vs Hawks: can you play?" in text
    assert "You're a reserve" in html and ANSWER_URLS["yes"] in html


def test_a_reschedule_says_where_the_game_moved_from() -> None:
    text, html = parts(sent(dataclasses.replace(INVITATION, kind=GameEmailKind.RESCHEDULE)))
    assert "moved from Fri Dec 4, 6:00 PM EST to Sat Dec 5, 7:00 PM EST" in text
    assert "Field flooded" in html


@pytest.mark.parametrize("kind", [GameEmailKind.INVITATION, GameEmailKind.REMINDER])
def test_invitations_and_reminders_say_when_answers_close(kind: GameEmailKind) -> None:
    closing = dataclasses.replace(INVITATION, kind=kind, local_deadline="Fri Dec 4, 6:00 PM EST")
    text, html = parts(sent(closing))
    assert "Answers close Fri Dec 4, 6:00 PM EST." in text
    assert "Answers close <strong>Fri Dec 4, 6:00 PM EST</strong>." in html
    text, html = parts(sent(dataclasses.replace(closing, local_deadline=None)))
    assert "Answers close" not in text
    assert "Answers close" not in html


def test_a_player_who_has_not_answered_is_told_so() -> None:
    text, html = parts(sent(INVITATION))
    assert "You haven't answered yet." in text
    assert "You haven't answered yet." in html
    assert "&#10003;" not in html


@pytest.mark.parametrize(
    ("kind", "subject", "sentence"),
    [
        (
            CaptainAlertKind.BELOW_MINIMUM,
            "Short of players: 4 of 7 for Sat Dec 5, 7:00 PM EST vs Hawks",
            "Only 4 of the 7 players you need have said Yes",
        ),
        (
            CaptainAlertKind.LATE_DROPOUT,
            "Zoë Park dropped out: Sat Dec 5, 7:00 PM EST vs Hawks",
            "Zoë Park dropped out of Tigers vs Hawks",
        ),
        (
            CaptainAlertKind.DELIVERY_FAILED,
            "Trouble reaching Zoë Park about Sat Dec 5, 7:00 PM EST vs Hawks",
            "What happened: 550 5.1.1 no such user",
        ),
        (
            CaptainAlertKind.RESERVE_STEPPED_IN,
            "Zoë Park stepped in: Sat Dec 5, 7:00 PM EST vs Hawks",
            "Zoë Park, a reserve, stepped in for Tigers vs Hawks on Sat Dec 5, 7:00 PM EST: "
            "4 in, 7 needed.",
        ),
    ],
)
def test_captain_alerts_explain_and_link_the_board(
    kind: CaptainAlertKind, subject: str, sentence: str
) -> None:
    message = sent(dataclasses.replace(ALERT, kind=kind))
    assert message["Subject"] == subject
    assert message["To"].addresses[0].addr_spec == "cap@example.org"
    assert "List-Unsubscribe" not in message  # operational mail to a captain
    text, html = parts(message)
    assert sentence in text
    assert BOARD in text
    assert f'href="{BOARD}"' in html


def test_user_provided_strings_are_escaped_in_html_and_kept_in_text() -> None:
    script = "<script>alert(1)</script>"
    model = dataclasses.replace(
        INVITATION,
        kind=GameEmailKind.CANCELLATION,
        team_name=script,
        opponent='"Hawks" & <b>co</b>',
        location="<img src=x onerror=alert(2)>",
        reason="<iframe>",
        to_name="<i>Zoë</i>",
    )
    rendered = render(model)
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    assert "<img" not in rendered.html and "<iframe>" not in rendered.html
    assert "<b>co</b>" not in rendered.html and "&amp; &lt;b&gt;co" in rendered.html
    assert "<i>Zoë</i>" not in rendered.html
    assert script in rendered.text  # plain text is not HTML: shown as typed
    alert = render(
        dataclasses.replace(ALERT, kind=CaptainAlertKind.LATE_DROPOUT, player_name=script)
    )
    assert "<script>" not in alert.html


def test_a_line_break_typed_into_a_name_does_not_reach_the_headers() -> None:
    message = sent(dataclasses.replace(INVITATION, opponent="Hawks\nBcc: x@evil.example"))
    assert message["Subject"] == "Sat Dec 5, 7:00 PM EST vs Hawks Bcc: x@evil.example — are you in?"
    assert "Bcc" not in message


def test_control_characters_stored_in_names_never_reach_the_headers() -> None:
    model = dataclasses.replace(INVITATION, to_name="Mallory\x1b]0;owned\x07\x00",
                                opponent="\x1b[2JHawks")
    message = build_message(model, sender="attend@example.org", message_domain="example.org")
    raw = to_wire(message)
    head = raw.split(b"\r\n\r\n")[0]
    assert not any(byte in head for byte in (b"\x1b", b"\x07", b"\x00"))
    assert sent(model)["To"].addresses[0].display_name == "Mallory ]0;owned"


def test_control_characters_stored_in_names_never_reach_the_bodies() -> None:
    model = dataclasses.replace(INVITATION, team_name="Tigers\x1b[2J", location="Park\x00",
                                reason="rain\u202e")
    rendered = render(model)
    for body in (rendered.text, rendered.html):
        assert "Tigers" in body
        assert not any(c in body for c in ("\x1b", "\x00", "\u202e"))


def test_an_internationalised_address_is_kept_in_utf8_on_the_wire() -> None:
    message = build_message(dataclasses.replace(INVITATION, to_address="josé@example.org"),
                            sender="attend@example.org", message_domain="example.org")
    raw = to_wire(message)
    assert "To: Zoë Park <josé@example.org>".encode() in raw


def test_the_unsubscribe_header_stays_a_readable_url_on_the_wire() -> None:
    message = build_message(INVITATION, sender="attend@example.org", message_domain="example.org")
    raw = to_wire(message).decode("ascii")
    assert f"List-Unsubscribe: <{UNSUBSCRIBE}>" in raw  # not RFC 2047-encoded


def test_a_given_message_id_is_kept_so_a_resend_is_the_same_mail() -> None:
    message = build_message(
        INVITATION,
        sender="attend@example.org",
        message_domain="example.org",
        message_id="<delivery-42@example.org>",
    )
    assert message.message_id == "<delivery-42@example.org>"
    assert sent_as(message)["Message-ID"] == "<delivery-42@example.org>"


def test_view_models_refuse_what_would_render_wrong() -> None:
    with pytest.raises(ValueError):
        dataclasses.replace(INVITATION, current_answer="perhaps")
    with pytest.raises(ValueError):
        dataclasses.replace(INVITATION, answer_urls={"yes": "javascript:alert(1)"})
    with pytest.raises(ValueError):
        dataclasses.replace(INVITATION, answer_urls={"later": "https://x.example/"})
    with pytest.raises(ValueError):
        dataclasses.replace(ALERT, yes_count=None)
    with pytest.raises(ValueError):
        dataclasses.replace(ALERT, kind=CaptainAlertKind.LATE_DROPOUT, player_name=None)


def test_names_with_quotes_commas_and_accents_reach_the_reader_as_typed() -> None:
    for name in ('Zoë "Z" Park, Jr.', "O'Brien; Ana", "Ünïcode " + "é" * 80, "Back\\slash"):
        message = sent(dataclasses.replace(INVITATION, to_name=name))
        (to,) = message["To"].addresses
        assert (to.display_name, to.addr_spec) == (name, "zoe@example.org")


def test_non_ascii_headers_are_rfc2047_words_on_an_ascii_wire() -> None:
    model = dataclasses.replace(INVITATION, opponent="Hawks " + "ü" * 120)
    raw = to_wire(build_message(model, sender="Åttend <attend@example.org>",
                                message_domain="example.org"))
    head = raw.split(b"\r\n\r\n")[0]
    head.decode("ascii")  # nothing but ASCII in the headers
    assert b"=?utf-8?" in head
    assert all(len(line) <= 998 for line in head.split(b"\r\n"))
    message = sent(model)
    assert message["Subject"] == f"Sat Dec 5, 7:00 PM EST vs Hawks {'ü' * 120} — are you in?"


def test_bodies_with_long_lines_trailing_spaces_and_accents_arrive_intact() -> None:
    text = "Zoë  \n" + "x" * 2000 + "\n=3D literal\r\nlast line"
    mail = write_mail(sender=Mailbox("Attend", "attend@example.org"),
                      to=Mailbox("", "zoe@example.org"), subject="Hi", date="x",
                      message_id="<1@example.org>", text=text, html="<p>" + "y" * 1500)
    assert all(len(line) <= 998 for line in mail.data.split(b"\r\n"))
    plain, html = parts(sent_as(mail))
    assert plain.replace("\r\n", "\n") == text.replace("\r\n", "\n") + "\n"
    assert html.replace("\r\n", "\n") == "<p>" + "y" * 1500 + "\n"


def test_a_header_value_with_a_line_break_is_refused() -> None:
    with pytest.raises(ValueError, match="line break"):
        write_mail(sender=Mailbox("Attend", "attend@example.org"),
                   to=Mailbox("Zoe", "zoe@example.org"), subject="Hi\r\nBcc: x@evil.example",
                   date="x", message_id="<1@example.org>", text="a", html="b")


TRICKY_NAMES = ["Zoë Park", "", 'Bob "The <Wall>" & Sons', "O'Neil", "a\x1bb\u202ec",
                "https://evil.example", "\u00a0 spaced \u00a0"]


@pytest.mark.parametrize("kind", list(GameEmailKind))
@pytest.mark.parametrize("answer", [None, "yes", "maybe"])
def test_mails_of_one_fan_out_read_as_if_each_was_rendered_alone(
        kind: GameEmailKind, answer: str | None) -> None:
    # Each kind is rendered once per game and stamped with each player's name and links.
    for i, name in enumerate(TRICKY_NAMES):
        urls = {a: f"https://attend.example.org/r/T{i}&x=<{a}>?a={a}" for a in ("yes", "no")}
        if i % 2:
            urls = {}
        model = dataclasses.replace(
            INVITATION, kind=kind, to_name=name, to_address=f"p{i}@example.org",
            current_answer=answer, answer_urls=urls,
            unsubscribe_url=f"http://localhost:8080/u/{i}'\"&",
            local_deadline="Fri Dec 4, 9:00 PM EST" if i == 2 else None)
        assert render(model) == render_alone(model)


def test_text_that_looks_like_a_stencil_marker_is_rendered_as_it_is() -> None:
    model = dataclasses.replace(INVITATION, team_name="Tigers \ue0000\ue001",
                                to_name="Zoë \ue0001\ue001")
    rendered = render(model)
    assert rendered == render_alone(model)
    assert "Tigers \ue0000\ue001" in rendered.text and "Zoë \ue0001\ue001" in rendered.text
