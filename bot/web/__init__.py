"""The web app: email answer pages, the captain's board, unsubscribe, the local outbox, health.

:func:`create_web_app` builds it; importing this package creates nothing.
"""

from bot.web.app import create_web_app

__all__ = ["create_web_app"]
