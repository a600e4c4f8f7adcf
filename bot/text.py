"""Plain-text rendering of service results, for the console and chat replies."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot import words
from bot.when import describe
from core.projections.board import BoardView
from core.projections.player_games import PlayerGameView
from core.projections.roster import PlayerView, TeamView
from core.projections.schedule import GameView


def game_line(team: TeamView, game: GameView) -> str:
    parts = [f"{game.handle} · {describe(game.starts_at, ZoneInfo(team.timezone))}"]
    if game.opponent:
        parts.append(f"vs {game.opponent}")
    if game.location:
        parts.append(f"at {game.location}")
    line = " ".join(parts)
    if game.status == "cancelled":
        line += " — CANCELLED" + (f" ({game.cancel_reason})" if game.cancel_reason else "")
    elif game.status != "scheduled":
        line += f" — {game.status}"
    return line


def counts(board: BoardView) -> str:
    text = f"In {board.yes} · Out {board.no} · Maybe {board.maybe} · No answer {board.waiting}"
    if board.waitlisted:
        text += f" · Waitlist {board.waitlisted}"
    limits = []
    if board.max_players is not None:
        limits.append(f"max {board.max_players}")
    if board.min_players is not None:
        limits.append(f"min {board.min_players}")
    if limits:
        text += f" ({', '.join(limits)})"
    if board.below_minimum:
        text += f"\n⚠ Short of players: {board.yes} of the {board.min_players} needed."
    return text


def board_text(team: TeamView, game: GameView, board: BoardView | None) -> str:
    lines = [game_line(team, game)]
    if board is None:
        lines.append(f"No attendance check yet: /attend check {game.handle} asks everyone now.")
        return "\n".join(lines)
    lines.append(counts(board) + ("" if board.open else " · answers closed"))
    if board.open and board.deadline is not None:
        lines.append(f"Answers close {describe(board.deadline, ZoneInfo(team.timezone))}")
    for line in board.lines:
        text = f"{words.mark(line.answer)} {line.name}"
        if line.waitlist_position is not None:
            text += f" (waitlist #{line.waitlist_position})"
        if line.reserve:
            text += " (reserve, not needed)" if line.released else " (reserve)"
        if line.note:
            text += f" — “{line.note}”"
        lines.append(text)
    if board.non_responders:
        lines.append("Not answered yet: " + ", ".join(board.non_responders))
    return "\n".join(lines)


def roster_text(team: TeamView, players: list[PlayerView]) -> str:
    lines = [f"{team.name} · {len(players)} players · time zone {team.timezone}"]
    for p in players:
        how = [c for c in (p.email, p.slack_user and "Slack", p.discord_user and "Discord") if c]
        tags = " (captain)" if p.captain else ""
        if p.reserve:
            tags += " (reserve)"
        if p.email_unsubscribed:
            tags += " (no email)"
        lines.append(f"• {p.name}{tags} — {', '.join(how) or 'no contact'}")
    return "\n".join(lines)


def settings_text(team: TeamView) -> str:
    def hours(minutes: int) -> str:
        return f"{minutes // 60}h" + (f"{minutes % 60}m" if minutes % 60 else "")

    reminders = ", ".join(hours(m) for m in team.reminder_minutes) or "none"
    return "\n".join([
        f"{team.name} settings",
        f"• time zone: {team.timezone}",
        f"• check starts {hours(team.check_lead_minutes)} before the game",
        f"• reminders: {reminders} before",
        f"• min players: {team.min_players or 'none'} · max players: "
        f"{team.max_players or 'none'}",
        f"• game length: {hours(team.game_length_minutes)}",
        "• reserves: " + ("never asked" if team.reserve_minutes is None else
                          f"asked {hours(team.reserve_minutes)} before a game still short of "
                          f"its min" + ("" if team.min_players else " (set min to use it)")),
        f"• channel: {channel_name(team)}",
        "• DMs: " + ("on" if team.dms else "off (invitations in the channel only)"),
    ])


def channel_name(team: TeamView) -> str:
    """Where the team's boards are posted."""
    if team.chat_channel is None:
        return "none (type /attend channel here in one)"
    channel = team.chat_channel.rpartition(":")[2]
    where = {"slack": "Slack", "discord": "Discord"}.get(team.chat_platform or "", "")
    return f"the {where} channel {channel}"


def my_games_text(team: TeamView, player: PlayerView, games: list[PlayerGameView]) -> str:
    zone = ZoneInfo(team.timezone)
    lines = [f"{player.name} on {team.name}" + (" (captain)" if player.captain else "")]
    if not games:
        lines.append("No upcoming games.")
    for g in games:
        answer = g.answer.value if g.answer else ("not asked yet" if g.check_id is None
                                                  else "no answer yet")
        text = f"{g.handle} · {describe(g.starts_at, zone)}"
        if g.opponent:
            text += f" vs {g.opponent}"
        text += f": {answer}"
        if g.waitlist_position is not None:
            text += f" (waitlist #{g.waitlist_position})"
        if g.note:
            text += f" — “{g.note}”"
        lines.append(text)
    return "\n".join(lines)
