"""Turns an email view model into a multipart text + HTML message.

Each kind has a ``<kind>.txt`` and a ``<kind>.html`` template; the HTML ones are
autoescaped, so team names, opponents and notes typed by people cannot inject markup.
The subject is built here rather than in a template: it is a header, not HTML.

The players of one game get the same mail but for their name and their links, so a fan-out
renders each kind of mail once: the templates run on a stencil, the model with a marker in
place of each recipient's own value (``_SLOTS``), and each mail fills the markers in, escaped
as the template would have escaped them. Rendering templates was most of the cost of a
mail. Templates use those values only as they are (``{{ m.to_name }}``), never in a
condition or a filter: a test renders every kind both ways and compares.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, make_msgid

import jinja2
from markupsafe import escape

from bot import words
from bot.email.models import (
    ANSWERS,
    CaptainAlertEmail,
    CaptainAlertKind,
    GameEmail,
    GameEmailKind,
)
from bot.email.wire import Mail, Mailbox, parse_mailbox, write_mail
from core.aggregates.common import Answer
from core.safe_text import shown, shown_value

Email = GameEmail | CaptainAlertEmail

ANSWER_LABELS = {answer.value: words.ANSWER[answer].short for answer in Answer}
ANSWER_COLORS = {"yes": "#15803d", "no": "#b91c1c", "maybe": "#a16207"}


@dataclass(frozen=True, kw_only=True, slots=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@functools.cache
def _environment() -> jinja2.Environment:
    # Built on first use, not at import. Only .txt templates go unescaped.
    return jinja2.Environment(
        loader=jinja2.PackageLoader("bot.email", "templates"),
        autoescape=jinja2.select_autoescape(disabled_extensions=("txt",), default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=shown_value,
        auto_reload=False,  # templates are package data: no stat of each file per mail
    )


def render(model: Email) -> RenderedEmail:
    if isinstance(model, GameEmail) and (stamped := _stamped(model)) is not None:
        return stamped
    return render_alone(model)


def render_alone(model: Email) -> RenderedEmail:
    """``model`` rendered by its templates, without a stencil."""
    subject = _one_line(_subject(model))
    matchup = f"{model.team_name} vs {model.opponent}" if model.opponent else model.team_name
    context = {
        "m": model,
        "subject": subject,
        "matchup": matchup,
        "labels": ANSWER_LABELS,
        "colors": ANSWER_COLORS,
    }
    env = _environment()
    text = env.get_template(f"{model.kind}.txt").render(context)
    html = env.get_template(f"{model.kind}.html").render(context)
    return RenderedEmail(subject=subject, text=text, html=html)


# A recipient's own values, each as a marker the templates pass through untouched: characters
# of Unicode's private use area, which nothing Attend writes contains (a model holding one
# is rendered alone). Links keep a scheme, as a model's links must.
_OPEN, _CLOSE = "\ue000", "\ue001"
_SLOTS = ("to_name", "to_address", "unsubscribe_url", *ANSWERS)  # answers: their links
_MARK = {slot: f"{_OPEN}{i}{_CLOSE}" for i, slot in enumerate(_SLOTS)}
_MARKED = re.compile(f"(?:https://)?{_OPEN}(\\d){_CLOSE}")
_LINK = "https://"

Stencil = tuple[str, ...]  # literal text, slot index, literal text, ... (odd items: indexes)


# What the mails of one game share: everything but the recipient's own values (the slots).
_SHARED = tuple(f.name for f in dataclasses.fields(GameEmail)
                if f.name not in ("to_name", "to_address", "unsubscribe_url", "answer_urls"))


def _stamped(model: GameEmail) -> RenderedEmail | None:
    """``model`` from its game's stencil; None if a value holds a marker character."""
    shared = tuple(getattr(model, name) for name in _SHARED)
    values = [model.to_name, model.to_address, model.unsubscribe_url,
              *(model.answer_urls.get(a, "") for a in ANSWERS)]
    if any(isinstance(v, str) and (_OPEN in v or _CLOSE in v) for v in (*shared, *values)):
        return None
    subject, text, html = _stencils(shared, tuple(model.answer_urls))
    shown_values = [shown(v) for v in values]
    return RenderedEmail(subject=subject, text=_fill(text, shown_values),
                         html=_fill(html, [str(escape(v)) for v in shown_values]))


@functools.lru_cache(maxsize=64)  # a fan-out's mails share one
def _stencils(shared: tuple[object, ...], answers: tuple[str, ...]
              ) -> tuple[str, Stencil, Stencil]:
    """The templates rendered once for the mails that share ``shared`` and have links for
    ``answers``, with a marker for each recipient's own value."""
    stencil = GameEmail(**dict(zip(_SHARED, shared, strict=True)),  # type: ignore[arg-type]
                        to_name=_MARK["to_name"], to_address=_MARK["to_address"],
                        unsubscribe_url=_LINK + _MARK["unsubscribe_url"],
                        answer_urls={a: _LINK + _MARK[a] for a in answers})
    rendered = render_alone(stencil)
    return rendered.subject, _cut(rendered.text), _cut(rendered.html)


def _cut(rendered: str) -> Stencil:
    return tuple(_MARKED.split(rendered))


def _fill(stencil: Stencil, values: Sequence[str]) -> str:
    return "".join(part if i % 2 == 0 else values[int(part)]
                   for i, part in enumerate(stencil))


def build_message(
    model: Email,
    *,
    sender: str,
    message_domain: str,
    date: datetime | None = None,
    message_id: str | None = None,
    rendered: RenderedEmail | None = None,
) -> Mail:
    """A ready-to-send message. Pass ``message_id`` to make a resend recognisably the same,
    and ``rendered`` when the model was rendered already."""
    rendered = rendered or render(model)
    extra = [("Auto-Submitted", "auto-generated")]  # no vacation replies (RFC 3834)
    if isinstance(model, GameEmail):
        targets = [model.unsubscribe_url, model.unsubscribe_mailto]
        extra += [("List-Unsubscribe", ", ".join(f"<{t}>" for t in targets if t)),
                  ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")]
    return write_mail(
        sender=parse_mailbox(sender),
        # An internationalised address is kept (for SMTPUTF8: the mailer decides whether
        # the server can take it) instead of refused here.
        to=Mailbox(name=_one_line(model.to_name), address=model.to_address),
        subject=_one_line(rendered.subject),
        date=format_datetime(date or datetime.now(UTC)),
        message_id=message_id or make_msgid(domain=message_domain),
        extra=extra,
        text=rendered.text,
        html=rendered.html,
    )


def _subject(model: Email) -> str:
    when = model.local_when
    game = f"{when} vs {model.opponent}" if model.opponent else f"{model.team_name} game, {when}"
    if isinstance(model, GameEmail):
        return {
            GameEmailKind.INVITATION: f"{game} — are you in?",
            GameEmailKind.REMINDER: f"Reminder: {game} — are you in?",
            GameEmailKind.CANCELLATION: f"Cancelled: {game}",
            GameEmailKind.RESCHEDULE: f"New time: {game} — still in?",
            GameEmailKind.WAITLIST_PROMOTION: f"You're in: {game}",
            GameEmailKind.WAITLISTED: f"Waitlisted: {game}",
            GameEmailKind.RESERVE_INVITATION: f"{model.team_name} are short: can you play "
                                              f"{when}?",
            GameEmailKind.RESERVE_RELEASED: f"Not needed after all: {game}",
        }[model.kind]
    return {
        CaptainAlertKind.BELOW_MINIMUM: (
            f"Short of players: {model.yes_count} of {model.minimum} for {game}"
        ),
        CaptainAlertKind.LATE_DROPOUT: f"{model.player_name} dropped out: {game}",
        CaptainAlertKind.DELIVERY_FAILED: f"Trouble reaching {model.player_name} about {game}",
        CaptainAlertKind.RESERVE_STEPPED_IN: f"{model.player_name} stepped in: {game}",
    }[model.kind]


def _one_line(value: str) -> str:
    # A line break or control character in a name (stored before they were refused) must
    # not reach a header.
    return " ".join(shown(value, " ").split())
