"""``attend serve``: the whole service in one process.

Migrations, then the handler runtime (read models, the check process manager, the notifier)
in background threads, the scheduler, the delivery worker and the web app on one asyncio
loop. SIGINT and SIGTERM stop it cleanly: the web server stops taking requests, the worker
stops claiming (a job in hand stays claimed and is taken up again when the claim lapses),
the scheduler stops, and each handler finishes its batch and releases its lease.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta

import discord
from aiohttp import web

from bot import event_loop
from bot.config import Config
from bot.delivery import DeliveryWorker, OwnerSlot
from bot.delivery.pacing import pacing_for
from bot.discord.bot import AttendBot, keep_connected
from bot.discord.channel import DiscordChannel
from bot.discord.dm_channels import DmChannels
from bot.discord.gateway import GatewayLeader
from bot.edits.discord import DiscordEditor
from bot.edits.slack import SlackEditor
from bot.edits.worker import Editor, EditWorker
from bot.email.channel import email_channel_for
from bot.links import BoardLinks, LinkSigner
from bot.slack.app import routes as slack_routes
from bot.slack.app import say_who_we_are, slack_app, slack_channel, slack_client, slack_home
from bot.slack.app import socket_mode as slack_socket_mode
from bot.slack.channel import BotToken
from bot.slack.home import HomeChanges, HomeViews, home_refresher
from bot.slack.installations import Installations
from bot.web.app import create_web_app
from bot.web.edges import EdgeRunner
from core.actors import Actor
from core.aggregates.common import Answer, Channel
from core.bootstrap import App, bootstrap
from core.errors import DomainError
from core.notifications import NotificationChannel
from scheduler import Scheduler

log = logging.getLogger("attend.serve")


def delivery_worker(app: App, config: Config, *, discord_bot: AttendBot | None = None,
                    slack_installations: Installations | None = None,
                    owner: str | None = None) -> DeliveryWorker:
    """The worker with every channel configured: email always; Slack with its token, or
    through ``slack_installations`` when workspaces install Attend; Discord through
    ``discord_bot`` (which needs signing in, so the caller owns it). ``owner`` names its
    claims (a one-off name when not given)."""
    channels: dict[Channel, NotificationChannel] = {
        Channel.EMAIL: email_channel_for(config, clock=app.clock)}
    boards = BoardLinks(LinkSigner(config.secret_keys), config.base_url)
    slack = config.slack
    if slack is not None:
        if slack.installs and slack_installations is None:
            slack_installations = open_installations(app, config)
        channels[Channel.SLACK] = slack_channel(slack, slack_installations, boards=boards)
    if discord_bot is not None:
        channels[Channel.DISCORD] = DiscordChannel(discord_bot, boards=boards,
                                                   dm_channels=DmChannels(app.db))
    pacing = pacing_for(config.smtp.connections) if config.smtp is not None else None
    return DeliveryWorker(app.db, app.router, channels, clock=app.clock, owner=owner,
                          pacing=pacing, generation=app.runtime.generation)


def edit_worker(app: App, config: Config, *, discord_bot: AttendBot | None = None,
                slack_installations: Installations | None = None) -> EditWorker | None:
    """The worker that posts boards in team channels and keeps them and DMs up to date
    (issue 16.2, 16.3); None without Slack or Discord."""
    editors: dict[str, Editor] = {}
    slack = config.slack
    if slack is not None:
        async def configured(_workspace: str) -> str | None:
            return slack.bot_token

        token: BotToken = (configured if slack_installations is None
                           else slack_installations.bot_token)
        editors["slack"] = SlackEditor(slack_client(slack), token)
    if discord_bot is not None:
        editors["discord"] = DiscordEditor(discord_bot)
    if not editors:
        return None

    def catch_up() -> None:
        app.runtime.wait_for(app.store.last_position(), ("board", "roster", "schedule"))

    return EditWorker(app.db, app.router, editors, clock=app.clock,
                      owner=app.runtime.owner, catch_up=catch_up)


def open_installations(app: App, config: Config) -> Installations | None:
    """The Slack workspaces that installed Attend, when they install it (else None)."""
    slack = config.slack
    if slack is None or not slack.installs:
        return None
    assert slack.client_id is not None
    return Installations.open(app.db.engine, slack.client_id)


def deliver_once(app: App, config: Config) -> int:
    """Send what is due now, in the foreground (``attend say`` with no server running)."""
    return event_loop.run(deliver_due(app, config))


async def deliver_due(app: App, config: Config) -> int:
    """Send what is due now through every configured channel; the jobs claimed."""
    bot = None
    if config.discord is not None:
        bot = AttendBot(app.service, clock=app.clock)
        try:
            await bot.login(config.discord.bot_token)  # REST only: enough to send DMs
        except (discord.DiscordException, OSError) as error:
            # Closed, the bot still stands for Discord: its DMs wait for a later try rather
            # than going to another channel as if the players had no Discord.
            log.error("could not sign in to Discord (%s); Discord DMs wait for the next "
                      "try", error)
            await bot.close()
    try:
        return await delivery_worker(app, config, discord_bot=bot).run_once()
    finally:
        if bot is not None:
            await bot.close()


def seed_demo(app: App) -> str | None:
    """A team, email-only players, a game in three days and an open check; only once."""
    service = app.service
    captain = Actor.console("captain@example.com", name="Casey Captain")
    if service.memberships(captain):
        return None
    service.create_team(captain, "The Alchemists", "America/Toronto")
    for name in ("Alice McGee", "Bob Ross", "Carol Danvers", "Dev Patel"):
        service.add_player(captain, name, email=f"{name.split()[0].lower()}@example.com")
    local = (app.clock() + timedelta(days=3)).replace(hour=23, minute=30, second=0,
                                                      microsecond=0)
    status = service.schedule_game(captain, local, location="Monarch Park", opponent="Hawks")
    service.start_check(captain, status.game.handle)
    service.answer(Actor.console("bob@example.com"), Answer.YES, ref=status.game.handle,
                   note="bringing the ball")
    return status.game.game_id


def serve(config: Config, *, demo: bool = False) -> int:
    # Slack App Home: a handler noting changes that Homes show (see bot/slack/home.py).
    homes = HomeChanges() if config.slack is not None else None
    app = bootstrap(config.database_url, background=True,
                    extra_handlers=(homes,) if homes is not None else ())
    try:
        return event_loop.run(_serve(app, config, demo=demo, homes=homes))
    finally:
        app.close()


async def _serve(app: App, config: Config, *, demo: bool,
                 homes: HomeChanges | None = None) -> int:
    # Refuses a second process on one SQLite file.
    scheduler = Scheduler(app.service, db=app.db, runtime=app.runtime, clock=app.clock,
                          store=app.store)
    app.start()
    scheduler.start()
    signer = LinkSigner(config.secret_keys)
    boards = BoardLinks(signer, config.base_url)
    bot, chat_tasks = None, []
    if config.discord is not None:
        bot = AttendBot(app.service, clock=app.clock, boards=boards)  # DMs, over REST
        chat_tasks = [
            asyncio.create_task(keep_connected(bot, config.discord.bot_token, gateway=False),
                                name="attend-discord-rest"),
            asyncio.create_task(_discord_gateway(app, config.discord.bot_token, boards),
                                name="attend-discord-leader")]
    installations = await asyncio.to_thread(open_installations, app, config)
    # The same owner as before a restart: the claims this server held are taken back at once.
    slot = OwnerSlot.take(config.data_dir, app.db.url.render_as_string(hide_password=True))
    worker = delivery_worker(app, config, discord_bot=bot, slack_installations=installations,
                             owner=slot.owner)
    worker.start()
    edits = edit_worker(app, config, discord_bot=bot, slack_installations=installations)
    if edits is not None:
        edits.start()

    # Jobs written by any server (this one too): look at once, with every other server, so
    # the work is shared rather than left to whichever polled first.
    unsubscribe = app.on_new_jobs(worker.wake)
    extra_routes, socket, socket_task = [], None, None
    if config.slack is not None:
        home = slack_home(config.slack, app.service, HomeViews(app.db), clock=app.clock,
                          installations=installations, boards=boards)
        bolt = slack_app(config.slack, app.service, clock=app.clock, base_url=config.base_url,
                         installations=installations, boards=boards, home=home)
        if homes is not None:  # Slack App Home: refresh the Homes that show a change
            chat_tasks.append(asyncio.create_task(home_refresher(homes, home, app).run(),
                                                  name="attend-slack-home"))
        chat_tasks.append(asyncio.create_task(say_who_we_are(config.slack),
                                                 name="attend-slack-check"))
        if config.slack.socket_mode:
            socket = slack_socket_mode(bolt, config.slack)
            # Retries by itself until it connects, or until it is closed.
            socket_task = asyncio.create_task(socket.connect_async(), name="attend-slack")
        else:
            extra_routes += slack_routes(bolt)
    runner = EdgeRunner(create_web_app(app, config, signer, extra_routes=extra_routes),
                        access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    try:
        try:
            await site.start()
        except OSError as error:
            log.error("cannot listen on %s:%d (%s). Is another attend serve running? Set "
                      "ATTEND_PORT to use another port.", config.host, config.port, error)
            return 1
        if demo:
            await asyncio.to_thread(_demo, app, signer, config.base_url)
        where = f"SMTP via {config.smtp.host}" if config.smtp is not None else \
            f"the outbox at {config.base_url}/outbox" if config.serves_outbox else \
            f"the outbox folder {config.outbox_dir}"
        if config.smtp is None and not config.serves_outbox:
            log.warning("The outbox is not served at /outbox: Attend listens on %s, which "
                        "other machines may reach, and the outbox shows every player's "
                        "answer links. Its mails are in %s. Set ATTEND_OUTBOX_PUBLIC=1 to "
                        "serve it anyway, or configure SMTP.", config.host, config.outbox_dir)
        if config.slack is not None and config.slack.socket_mode:
            where += "; Slack over Socket Mode"
        elif config.slack is not None:
            where += f"; Slack at {config.base_url}/slack/events"
            if config.slack.installs:
                where += f", installed from {config.base_url}/slack/install"
        if config.discord is not None:
            where += "; Discord"
        log.info("Attend is running at %s (database %s; email to %s). Ctrl-C stops it.",
                 config.base_url, app.db.url.render_as_string(hide_password=True), where)
        await stopping.wait()
        log.info("stopping: finishing work in hand")
        return 0
    finally:
        unsubscribe()
        await runner.cleanup()
        await worker.stop()
        slot.close()
        if edits is not None:
            await edits.stop()
        if socket is not None and socket_task is not None:
            await socket.close_async()
            await asyncio.gather(socket_task, return_exceptions=True)
        for task in chat_tasks:
            task.cancel()  # Discord's gateway closes; sign-ins stop waiting to try again
        await asyncio.gather(*chat_tasks, return_exceptions=True)
        if bot is not None:
            await bot.close()
        await asyncio.to_thread(scheduler.stop)


async def _discord_gateway(app: App, token: str, boards: BoardLinks) -> None:
    """Commands and taps arrive over Discord's gateway: connected in one process at a time
    (see GatewayLeader), by a bot of its own, closed when the lease moves on."""
    async def connect() -> None:
        listener = AttendBot(app.service, clock=app.clock, boards=boards)
        try:
            await keep_connected(listener, token)
        finally:
            await listener.close()

    await GatewayLeader(app.store, owner=app.runtime.owner, connect=connect).run()


def _demo(app: App, signer: LinkSigner, base_url: str) -> None:
    try:
        game_id = seed_demo(app)
    except DomainError as error:
        log.warning("could not seed the demo: %s", error.message)
        return
    if game_id is None:
        log.info("demo data is already there")
        return
    status = app.service.board_for_game(game_id)
    assert status is not None
    captain = next(p for p in app.service.roster(Actor.console("captain@example.com"))[1]
                   if p.captain)
    token = signer.board_token(game_id, status.team.team_id, captain.player_id,
                               expires_at=status.game.starts_at + timedelta(hours=6))
    log.info("demo: The Alchemists vs Hawks, %d players asked. Captain's board: %s/b/%s",
             len(status.board.lines) if status.board else 0, base_url, token)
