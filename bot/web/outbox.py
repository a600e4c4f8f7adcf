"""``/outbox``: the mails Attend would have sent, when no SMTP server is configured.

Only mounted in that case. A message's HTML is shown in a sandboxed ``srcdoc`` frame (no
scripts, no same-origin access); its text part is shown with the links made clickable, so
a developer can follow an answer link straight from here.
"""

from __future__ import annotations

from aiohttp import web

from bot.email.outbox import OutboxMessageNotFound, list_messages, read_message
from bot.web.site import site_of

SHOWN_HEADERS = ("From", "To", "Subject", "Date", "List-Unsubscribe")


def routes() -> list[web.RouteDef]:
    return [web.get("/outbox", listing), web.get("/outbox/{filename}", message)]


async def listing(request: web.Request) -> web.Response:
    site = site_of(request)
    entries = await site.call(list_messages, site.config.outbox_dir)
    return site.pages.render("outbox.html", entries=tuple(reversed(entries)),
                             directory=str(site.config.outbox_dir))


async def message(request: web.Request) -> web.Response:
    site = site_of(request)
    filename = request.match_info["filename"]
    try:
        found = await site.call(read_message, site.config.outbox_dir, filename)
    except OutboxMessageNotFound:
        raise web.HTTPNotFound() from None
    headers = [(name, value) for name, value in found.headers if name in SHOWN_HEADERS]
    subject = next((value for name, value in found.headers if name == "Subject"), filename)
    return site.pages.render("outbox_message.html", subject=subject, mail_headers=headers,
                             text=found.text, html=found.html)
