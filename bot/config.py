"""Configuration: one object, built from an environment mapping, with clear errors.

Nothing reads ``os.environ`` at import time; :func:`load_config` takes the mapping to read,
so tests pass a dict and the CLI passes ``os.environ``.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.delivery.pacing import SMTP_CONNECTIONS
from core.errors import ConfigError

log = logging.getLogger(__name__)

DEFAULT_DATABASE_URL = "sqlite:///attend.db"
SLACK_API_URL = "https://slack.com/api/"


@dataclass(frozen=True, kw_only=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    starttls: bool
    use_tls: bool
    username: str | None
    password: str | None = field(repr=False)
    connections: int = SMTP_CONNECTIONS  # at once: mails sent and not yet recorded, at most


@dataclass(frozen=True, kw_only=True, slots=True)
class SlackConfig:
    """One Slack workspace through the bot token of the app installed there, or any number
    of them, each installing the app through OAuth (client id and secret instead). With an
    app-level token, Slack's requests come over Socket Mode instead of HTTPS (one
    workspace; no public address needed, for trying Attend out)."""

    signing_secret: str | None = field(default=None, repr=False)  # not for Socket Mode
    bot_token: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    app_token: str | None = field(default=None, repr=False)  # xapp-: Socket Mode
    api_url: str = SLACK_API_URL  # another one only for a proxy or a test double

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None

    @property
    def installs(self) -> bool:
        """Whether workspaces install Attend through OAuth (no single bot token)."""
        return self.bot_token is None


@dataclass(frozen=True, kw_only=True, slots=True)
class DiscordConfig:
    """The bot of the Discord application, in every server it was invited to."""

    bot_token: str = field(repr=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class Config:
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8000
    base_url: str = "http://127.0.0.1:8000"
    secret_keys: tuple[str, ...] = field(default=(), repr=False)
    smtp: SmtpConfig | None = None
    mail_from: str = "Attend <attend@localhost>"
    outbox_dir: Path = Path("outbox")
    outbox_public: bool = False  # serve /outbox even when listening beyond this machine
    slack: SlackConfig | None = None  # Slack joins when its token and secret are set
    discord: DiscordConfig | None = None  # Discord joins when its bot token is set

    @property
    def listens_locally(self) -> bool:
        """Whether only this machine can reach the web app (a loopback address)."""
        if self.host.lower() == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host.strip("[]")).is_loopback
        except ValueError:  # a host name: it may resolve to anything
            return False

    @property
    def serves_outbox(self) -> bool:
        """Whether ``/outbox`` is served: it shows every player's answer links, so only
        when mail goes there (no SMTP) and only this machine can reach it, unless
        ``ATTEND_OUTBOX_PUBLIC`` says otherwise."""
        return self.smtp is None and (self.listens_locally or self.outbox_public)

    @property
    def data_dir(self) -> Path:
        """Where files beside the database live (outbox, development secret)."""
        url = make_url(self.database_url)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            return Path(url.database).resolve().parent
        return Path.cwd()


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}={value} is out of range ({low} to {high})")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={raw!r}: use true or false")


def load_config(env: Mapping[str, str], *, create_dev_secret: bool = True) -> Config:
    database_url = env.get("ATTEND_DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL
    try:
        url = make_url(database_url)
    except ArgumentError:
        raise ConfigError(
            f"ATTEND_DATABASE_URL={database_url!r} is not a database URL; use "
            "sqlite:///attend.db or postgresql+psycopg://USER@HOST:5432/DB") from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(f"ATTEND_DATABASE_URL: {url.get_backend_name()!r} is not supported; "
                          "use SQLite or PostgreSQL")
    host = env.get("ATTEND_HOST", "").strip() or "127.0.0.1"
    port = _int(env, "ATTEND_PORT", 8000, 1, 65535)
    base_url = (env.get("ATTEND_BASE_URL", "").strip() or f"http://{host}:{port}").rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError(f"ATTEND_BASE_URL={base_url!r} must start with http:// or https://")
    smtp = None
    smtp_host = env.get("ATTEND_SMTP_HOST", "").strip()
    if smtp_host:
        use_tls = _bool(env, "ATTEND_SMTP_TLS", False)
        starttls = _bool(env, "ATTEND_SMTP_STARTTLS", not use_tls)
        user = env.get("ATTEND_SMTP_USER", "").strip() or None
        password = env.get("ATTEND_SMTP_PASSWORD") or None
        if (user is None) != (password is None):
            raise ConfigError("set both ATTEND_SMTP_USER and ATTEND_SMTP_PASSWORD, or neither")
        smtp = SmtpConfig(host=smtp_host,
                          port=_int(env, "ATTEND_SMTP_PORT", 465 if use_tls else 587, 1, 65535),
                          starttls=starttls, use_tls=use_tls, username=user, password=password,
                          connections=_int(env, "ATTEND_SMTP_CONNECTIONS", SMTP_CONNECTIONS,
                                           1, 32))
    mail_from = env.get("ATTEND_MAIL_FROM", "").strip() or "Attend <attend@localhost>"
    if "@" not in mail_from:
        raise ConfigError(f"ATTEND_MAIL_FROM={mail_from!r} needs an email address")
    config = Config(database_url=database_url, host=host, port=port, base_url=base_url,
                    smtp=smtp, mail_from=mail_from)
    outbox = env.get("ATTEND_OUTBOX_DIR", "").strip()
    keys = tuple(k.strip() for k in env.get("ATTEND_SECRET_KEYS", "").split(",") if k.strip())
    short = [k for k in keys if len(k) < 16]
    if short:
        raise ConfigError("ATTEND_SECRET_KEYS: each key needs at least 16 characters "
                          "(try: python -c 'import secrets; print(secrets.token_urlsafe(32))')")
    if not keys and create_dev_secret:
        keys = (_development_key(config.data_dir / "attend.secret"),)
    return Config(database_url=database_url, host=host, port=port, base_url=base_url,
                  smtp=smtp, mail_from=mail_from, secret_keys=keys,
                  outbox_dir=Path(outbox) if outbox else config.data_dir / "outbox",
                  outbox_public=_bool(env, "ATTEND_OUTBOX_PUBLIC", False),
                  slack=_slack(env), discord=_discord(env))


def _discord(env: Mapping[str, str]) -> DiscordConfig | None:
    token = env.get("ATTEND_DISCORD_BOT_TOKEN", "").strip()
    if not token:
        return None
    if token.count(".") != 2 or " " in token:
        raise ConfigError("ATTEND_DISCORD_BOT_TOKEN does not look like a bot token (three "
                          "parts with dots): copy it from the application's Bot page")
    return DiscordConfig(bot_token=token)


def _slack(env: Mapping[str, str]) -> SlackConfig | None:
    token = env.get("ATTEND_SLACK_BOT_TOKEN", "").strip()
    secret = env.get("ATTEND_SLACK_SIGNING_SECRET", "").strip()
    client_id = env.get("ATTEND_SLACK_CLIENT_ID", "").strip()
    client_secret = env.get("ATTEND_SLACK_CLIENT_SECRET", "").strip()
    app_token = env.get("ATTEND_SLACK_APP_TOKEN", "").strip()
    if not (token or secret or client_id or client_secret or app_token):
        return None
    if app_token:
        if not app_token.startswith("xapp-"):
            raise ConfigError("ATTEND_SLACK_APP_TOKEN must be an app-level token (xapp-...) "
                              "with the connections:write scope, from Basic Information")
        if client_id or client_secret or not token:
            raise ConfigError("Socket Mode (ATTEND_SLACK_APP_TOKEN) serves one workspace: "
                              "set ATTEND_SLACK_BOT_TOKEN with it, and no client id or "
                              "secret")
    elif not secret:
        raise ConfigError("set ATTEND_SLACK_SIGNING_SECRET too (the app's Basic Information "
                          "page has it), or no Slack settings at all")
    if token and (client_id or client_secret):
        raise ConfigError("set either ATTEND_SLACK_BOT_TOKEN (one workspace) or "
                          "ATTEND_SLACK_CLIENT_ID and ATTEND_SLACK_CLIENT_SECRET (workspaces "
                          "install Attend), not both")
    if not token and not (client_id and client_secret):
        raise ConfigError("set ATTEND_SLACK_BOT_TOKEN (one workspace), or both "
                          "ATTEND_SLACK_CLIENT_ID and ATTEND_SLACK_CLIENT_SECRET (workspaces "
                          "install Attend)")
    if token and not token.startswith("xoxb-"):
        raise ConfigError("ATTEND_SLACK_BOT_TOKEN must be the app's bot token (xoxb-...), "
                          "from its OAuth & Permissions page")
    api_url = env.get("ATTEND_SLACK_API_URL", "").strip() or SLACK_API_URL
    if not api_url.startswith(("http://", "https://")):
        raise ConfigError(f"ATTEND_SLACK_API_URL={api_url!r} must start with http:// or "
                          "https://")
    return SlackConfig(signing_secret=secret or None, bot_token=token or None,
                       client_id=client_id or None, client_secret=client_secret or None,
                       app_token=app_token or None,
                       api_url=api_url if api_url.endswith("/") else api_url + "/")


def _development_key(path: Path) -> str:
    """A key made once and kept beside the database, so links survive restarts."""
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(key + "\n")
    log.warning("ATTEND_SECRET_KEYS is not set: generated a development key in %s. In "
                "production set ATTEND_SECRET_KEYS (comma-separated, newest last).", path)
    return key
