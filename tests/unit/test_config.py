"""Configuration from the environment: safe defaults, and clear errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_config
from core.errors import ConfigError


def test_defaults_run_everything_locally(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config({})
    assert config.database_url == "sqlite:///attend.db"
    assert (config.host, config.port, config.base_url) == ("127.0.0.1", 8000,
                                                           "http://127.0.0.1:8000")
    assert config.smtp is None
    assert config.outbox_dir == tmp_path / "outbox"
    # A development key is made once, kept beside the database, and reused.
    assert (tmp_path / "attend.secret").exists()
    assert load_config({}).secret_keys == config.secret_keys
    assert len(config.secret_keys[0]) >= 32


def test_every_setting_is_read(tmp_path: Path) -> None:
    config = load_config({
        "ATTEND_DATABASE_URL": "postgresql+psycopg://attend@db.example.org/attend",
        "ATTEND_HOST": "0.0.0.0", "ATTEND_PORT": "8080",
        "ATTEND_BASE_URL": "https://attend.example.org/",
        "ATTEND_SECRET_KEYS": "old-key-0123456789abcdef, new-key-0123456789abcdef",
        "ATTEND_SMTP_HOST": "smtp.example.org", "ATTEND_SMTP_TLS": "true",
        "ATTEND_SMTP_USER": "attend", "ATTEND_SMTP_PASSWORD": "s3cret",
        "ATTEND_MAIL_FROM": "Attend <attend@example.org>",
        "ATTEND_OUTBOX_DIR": str(tmp_path / "mail"),
    })
    assert config.port == 8080 and config.base_url == "https://attend.example.org"
    assert config.secret_keys == ("old-key-0123456789abcdef", "new-key-0123456789abcdef")
    assert config.smtp is not None
    assert (config.smtp.port, config.smtp.use_tls, config.smtp.starttls) == (465, True, False)
    assert config.smtp.connections == 8
    assert "s3cret" not in repr(config)  # secrets stay out of logs
    assert config.outbox_dir == tmp_path / "mail"
    assert config.slack is None  # Slack only when its token and secret are set


def test_slack_joins_with_its_token_and_signing_secret(tmp_path: Path) -> None:
    config = load_config({"ATTEND_DATABASE_URL": f"sqlite:///{tmp_path}/a.db",
                          "ATTEND_SLACK_BOT_TOKEN": "xoxb-123-456-abc",
                          "ATTEND_SLACK_SIGNING_SECRET": "8f2e0c...secret"})
    assert config.slack is not None
    assert config.slack.api_url == "https://slack.com/api/"
    assert "xoxb-123" not in repr(config) and "secret" not in repr(config.slack)
    assert not config.slack.installs


def test_slack_over_socket_mode_needs_no_signing_secret(tmp_path: Path) -> None:
    config = load_config({"ATTEND_DATABASE_URL": f"sqlite:///{tmp_path}/a.db",
                          "ATTEND_SLACK_BOT_TOKEN": "xoxb-1", "ATTEND_SLACK_APP_TOKEN": "xapp-1"})
    assert config.slack is not None and config.slack.socket_mode
    assert config.slack.signing_secret is None and "xapp-1" not in repr(config)


def test_slack_workspaces_can_install_attend_instead(tmp_path: Path) -> None:
    config = load_config({"ATTEND_DATABASE_URL": f"sqlite:///{tmp_path}/a.db",
                          "ATTEND_SLACK_SIGNING_SECRET": "s3cret",
                          "ATTEND_SLACK_CLIENT_ID": "111.222",
                          "ATTEND_SLACK_CLIENT_SECRET": "c1ient-s3cret"})
    assert config.slack is not None and config.slack.installs
    assert config.slack.client_id == "111.222"
    assert "s3cret" not in repr(config)


def test_discord_joins_with_its_bot_token(tmp_path: Path) -> None:
    config = load_config({"ATTEND_DATABASE_URL": f"sqlite:///{tmp_path}/a.db",
                          "ATTEND_DISCORD_BOT_TOKEN": "MTA1.GhJk2a.x9Zq"})
    assert config.discord is not None and config.discord.bot_token == "MTA1.GhJk2a.x9Zq"
    assert "MTA1" not in repr(config)


@pytest.mark.parametrize(("env", "says"), [
    ({"ATTEND_PORT": "eighty"}, "ATTEND_PORT='eighty' is not a whole number"),
    ({"ATTEND_PORT": "70000"}, "out of range"),
    ({"ATTEND_DATABASE_URL": "mysql://x@y/z"}, "not supported"),
    ({"ATTEND_DATABASE_URL": "not a url"}, "is not a database URL"),
    ({"ATTEND_BASE_URL": "attend.example.org"}, "must start with http"),
    ({"ATTEND_SECRET_KEYS": "short"}, "at least 16 characters"),
    ({"ATTEND_SMTP_HOST": "smtp.example.org", "ATTEND_SMTP_USER": "attend"},
     "both ATTEND_SMTP_USER and ATTEND_SMTP_PASSWORD"),
    ({"ATTEND_SMTP_HOST": "smtp.example.org", "ATTEND_SMTP_STARTTLS": "maybe"},
     "use true or false"),
    ({"ATTEND_SMTP_HOST": "smtp.example.org", "ATTEND_SMTP_CONNECTIONS": "0"},
     "ATTEND_SMTP_CONNECTIONS=0 is out of range (1 to 32)"),
    ({"ATTEND_MAIL_FROM": "Attend"}, "needs an email address"),
    ({"ATTEND_SLACK_BOT_TOKEN": "xoxb-1"}, "set ATTEND_SLACK_SIGNING_SECRET too"),
    ({"ATTEND_SLACK_SIGNING_SECRET": "s"}, "set ATTEND_SLACK_BOT_TOKEN (one workspace), or "
     "both"),
    ({"ATTEND_SLACK_SIGNING_SECRET": "s", "ATTEND_SLACK_CLIENT_ID": "1.2"}, "or both"),
    ({"ATTEND_SLACK_SIGNING_SECRET": "s", "ATTEND_SLACK_BOT_TOKEN": "xoxb-1",
      "ATTEND_SLACK_CLIENT_ID": "1.2", "ATTEND_SLACK_CLIENT_SECRET": "c"}, "not both"),
    ({"ATTEND_SLACK_APP_TOKEN": "xoxb-1"}, "must be an app-level token (xapp-...)"),
    ({"ATTEND_SLACK_APP_TOKEN": "xapp-1"}, "Socket Mode (ATTEND_SLACK_APP_TOKEN) serves one "
     "workspace"),
    ({"ATTEND_SLACK_APP_TOKEN": "xapp-1", "ATTEND_SLACK_BOT_TOKEN": "xoxb-1",
      "ATTEND_SLACK_CLIENT_ID": "1.2"}, "and no client id or secret"),
    ({"ATTEND_SLACK_BOT_TOKEN": "xoxp-1", "ATTEND_SLACK_SIGNING_SECRET": "s"},
     "must be the app's bot token (xoxb-...)"),
    ({"ATTEND_DISCORD_BOT_TOKEN": "my-client-secret"}, "does not look like a bot token"),
])
def test_bad_values_are_refused_with_what_to_do(env: dict[str, str], says: str,
                                                tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=says.replace("(", r"\(").replace(")", r"\)")):
        load_config({"ATTEND_DATABASE_URL": f"sqlite:///{tmp_path}/a.db", **env})


@pytest.mark.parametrize(("host", "public", "served"), [
    ("127.0.0.1", "", True), ("localhost", "", True), ("::1", "", True),
    ("127.0.0.2", "", True), ("0.0.0.0", "", False), ("::", "", False),
    ("192.0.2.10", "", False), ("attend.example.org", "", False),
    ("0.0.0.0", "1", True), ("0.0.0.0", "false", False),
])
def test_the_outbox_is_served_only_where_no_other_machine_sees_it(
        tmp_path: Path, host: str, public: str, served: bool) -> None:
    config = load_config({"ATTEND_DATABASE_URL": f"sqlite:///{tmp_path}/a.db",
                          "ATTEND_HOST": host, "ATTEND_OUTBOX_PUBLIC": public})
    assert config.serves_outbox is served
    with_smtp = load_config({"ATTEND_DATABASE_URL": f"sqlite:///{tmp_path}/a.db",
                             "ATTEND_HOST": host, "ATTEND_OUTBOX_PUBLIC": public,
                             "ATTEND_SMTP_HOST": "smtp.example.org"})
    assert not with_smtp.serves_outbox  # mail goes out: there is no outbox to show


def test_a_bad_outbox_public_value_says_what_to_write(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ATTEND_OUTBOX_PUBLIC='maybe': use true or false"):
        load_config({"ATTEND_DATABASE_URL": f"sqlite:///{tmp_path}/a.db",
                     "ATTEND_OUTBOX_PUBLIC": "maybe"})
