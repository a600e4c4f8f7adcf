"""The ``attend`` command: serve, say, discord sync, db upgrade, projections rebuild,
handlers parked."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.config import Config, load_config
from core.errors import AttendError, ConfigError

if TYPE_CHECKING:
    from core.bootstrap import App

log = logging.getLogger("attend")


def _default_timezone() -> str:
    try:
        import tzlocal

        name = tzlocal.get_localzone_name()
    except Exception:  # no local zone configured: fall back, the captain can change it
        name = None
    return name if name and name != "Etc/UTC" else "UTC"


def _cmd_say(config: Config, args: argparse.Namespace) -> int:
    from bot.commands import CommandRunner
    from bot.links import BoardLinks, LinkSigner
    from core.actors import Actor
    from core.bootstrap import bootstrap

    app = bootstrap(config.database_url, background=False)
    try:
        actor = Actor.console(args.as_email)
        runner = CommandRunner(app.service, clock=app.clock,
                               default_timezone=args.timezone or _default_timezone(),
                               boards=BoardLinks(LinkSigner(config.secret_keys),
                                                 config.base_url))
        reply = runner.run(actor, " ".join(args.text), team=args.team)
        alone = app.run_handlers()
        if alone:
            _deliver_pending(app, config)
        print(reply.text)
        return 0 if reply.ok else 1
    finally:
        app.close()


def _deliver_pending(app: App, config: Config) -> None:
    """With no `attend serve` running, do what a server would have: start the checks and
    send the reminders that are due (a game a day away gets its check at once), then send
    what the command caused (invitations, ...)."""
    from bot.serve import deliver_once
    from scheduler import Scheduler

    Scheduler(app.service, db=app.db, runtime=app.runtime, clock=app.clock).run_due()
    app.run_handlers()
    deliver_once(app, config)


def _cmd_serve(config: Config, args: argparse.Namespace) -> int:
    from bot.serve import serve

    return serve(config, demo=args.demo)


def _cmd_discord_sync(config: Config, args: argparse.Namespace) -> int:
    import asyncio

    from bot.discord.bot import sync_commands
    from core.bootstrap import bootstrap

    if config.discord is None:
        raise ConfigError("set ATTEND_DISCORD_BOT_TOKEN to the bot's token first")
    app = bootstrap(config.database_url, background=False)
    try:
        names = asyncio.run(sync_commands(app, config.discord.bot_token, guild=args.guild))
    finally:
        app.close()
    where = f"server {args.guild}" if args.guild else "every server the bot is in"
    print(f"Registered /{', /'.join(names)} for {where}.")
    return 0


def _cmd_db_upgrade(config: Config, args: argparse.Namespace) -> int:
    from core.eventstore.database import Database
    from core.migrations import current_revision, head_revision, upgrade

    db = Database(config.database_url)
    try:
        before = current_revision(db)
        upgrade(db)
        after = current_revision(db)
    finally:
        db.dispose()
    if before == after:
        print(f"Database is up to date (revision {after}).")
    else:
        print(f"Upgraded the database from {before or 'empty'} to {after} "
              f"(head {head_revision()}).")
    return 0


def _progress_bar(label: str) -> object:
    def show(done: int, total: int) -> None:
        width = 30
        filled = width if total == 0 else int(width * done / total)
        percent = 100 if total == 0 else int(100 * done / total)
        end = "\n" if done >= total else ""
        sys.stderr.write(f"\r{label:<12} [{'#' * filled}{'.' * (width - filled)}] "
                         f"{percent:3d}% {done}/{total} events{end}")
        sys.stderr.flush()

    return show


def _cmd_rebuild(config: Config, args: argparse.Namespace) -> int:
    from core.bootstrap import bootstrap
    from core.projections import read_models
    from core.projections.rebuild import rebuild

    app = bootstrap(config.database_url, background=False)
    try:
        projections = [p for p in read_models() if not args.names or p.name in args.names]
        unknown = set(args.names) - {p.name for p in read_models()}
        if unknown:
            names = ", ".join(sorted(p.name for p in read_models()))
            print(f"No read model called {', '.join(sorted(unknown))}; choose from {names}.",
                  file=sys.stderr)
            return 2
        for projection in projections:
            rebuild(app.store, [projection], owner=app.runtime.owner,
                    progress=_progress_bar(projection.name))  # type: ignore[arg-type]
        print(f"Rebuilt {len(projections)} read models from "
              f"{app.store.last_position()} events.")
        return 0
    finally:
        app.close()


def _cmd_parked(config: Config, args: argparse.Namespace) -> int:
    from core.bootstrap import bootstrap

    app = bootstrap(config.database_url, background=False)
    try:
        parked = app.store.parked(args.handler)
        if not parked:
            print("No parked events: every handler is processing its events.")
            return 0
        for item in parked:
            # A traceback's last line names the exception and its message.
            last_line = item.error.strip().splitlines()[-1] if item.error.strip() else ""
            print(f"{item.parked_at:%Y-%m-%d %H:%M} {item.handler}: {item.type_name} at "
                  f"position {item.position}: {last_line}")
        return 0
    finally:
        app.close()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="attend", description="Know who is coming to the next game.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run everything: web, handlers, notifications, "
                           "scheduler")
    serve.add_argument("--demo", action="store_true",
                       help="seed a demo team, game and open check on first start")
    serve.set_defaults(run=_cmd_serve)

    say = sub.add_parser("say", help="run an /attend command as a player, locally")
    say.add_argument("text", nargs="+", help="the command, e.g. '/attend status G1'")
    say.add_argument("--as", dest="as_email", required=True, metavar="EMAIL",
                     help="the player's email address")
    say.add_argument("--team", help="which team, if you're on several")
    say.add_argument("--timezone", help="time zone for `team create` without tz "
                     "(default: this machine's)")
    say.set_defaults(run=_cmd_say)

    discord_cmd = sub.add_parser("discord", help="the Discord bot")
    d_sub = discord_cmd.add_subparsers(dest="discord_command", required=True)
    sync = d_sub.add_parser("sync", help="register the /attend commands with Discord (once, "
                            "and after upgrading Attend)")
    sync.add_argument("--guild", type=int, metavar="ID",
                      help="only in this server, at once (for trying it out)")
    sync.set_defaults(run=_cmd_discord_sync)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="create or upgrade the schema").set_defaults(
        run=_cmd_db_upgrade)

    projections = sub.add_parser("projections", help="read models")
    p_sub = projections.add_subparsers(dest="projections_command", required=True)
    rebuild = p_sub.add_parser("rebuild", help="rebuild read models from the events "
                               "(stop `attend serve` first)")
    rebuild.add_argument("names", nargs="*", help="which ones (default: all)")
    rebuild.set_defaults(run=_cmd_rebuild)

    handlers = sub.add_parser("handlers", help="event handlers")
    h_sub = handlers.add_subparsers(dest="handlers_command", required=True)
    parked = h_sub.add_parser("parked", help="list events a handler gave up on")
    parked.add_argument("handler", nargs="?", help="only this handler")
    parked.set_defaults(run=_cmd_parked)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # APScheduler and Alembic narrate every step at INFO; our own log says what matters.
    for chatty in ("apscheduler", "alembic"):
        logging.getLogger(chatty).setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    if args.command == "say" and not args.verbose:
        logging.getLogger().setLevel(logging.WARNING)  # the reply is the output
    try:
        config = load_config(os.environ)
        return int(args.run(config, args))
    except ConfigError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return 2
    except AttendError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
