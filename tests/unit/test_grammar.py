import contextlib
import random

import pytest

from bot.grammar import (
    USAGE,
    AddPlayer,
    Answer,
    AppointCaptain,
    Board,
    Cancel,
    Check,
    ClearDeadline,
    Command,
    CreateTeam,
    Deadline,
    Games,
    GrammarError,
    Help,
    Me,
    Mention,
    RelieveCaptain,
    Remind,
    RemovePlayer,
    Reschedule,
    Roster,
    Schedule,
    Settings,
    SettingsChange,
    Status,
    help_text,
    parse,
    usage_of,
)

SLACK_ALICE = Mention(platform="slack", user_id="U123ABC")

GOOD: list[tuple[str, Command]] = [
    # help
    ("", Help()),
    ("/attend", Help()),
    ("help", Help()),
    ("HELP", Help()),
    ("help schedule", Help(topic="schedule")),
    ("help team", Help(topic="team")),
    ("help roster", Help(topic="team roster")),
    ("help team settings", Help(topic="team settings")),
    # team create
    (
        "team create The Alchemists tz America/Toronto",
        CreateTeam(name="The Alchemists", timezone="America/Toronto"),
    ),
    ("/attend team create The Alchemists", CreateTeam(name="The Alchemists")),
    (
        "Team Create Hawks TZ america/vancouver",
        CreateTeam(name="Hawks", timezone="America/Vancouver"),
    ),
    ("team create Lunch Club tz UTC", CreateTeam(name="Lunch Club", timezone="UTC")),
    ('team create "The Alchemists"', CreateTeam(name="The Alchemists")),
    # team add
    (
        "team add Alice McGee alice@example.com",
        AddPlayer(name="Alice McGee", email="alice@example.com"),
    ),
    (
        "team add Alice McGee Alice@Example.COM <@U123ABC>",
        AddPlayer(name="Alice McGee", email="alice@example.com", mention=SLACK_ALICE),
    ),
    ("team add Alice <@U123ABC|alice>", AddPlayer(name="Alice", mention=SLACK_ALICE)),
    ("team add <@U123ABC|alice>", AddPlayer(name="alice", mention=SLACK_ALICE)),
    (
        "team add Bob <@123456789>",
        AddPlayer(name="Bob", mention=Mention(platform="discord", user_id="123456789")),
    ),
    (
        "team add Bob <@!123456789>",
        AddPlayer(name="Bob", mention=Mention(platform="discord", user_id="123456789")),
    ),
    (
        "team add Bob <mailto:bob@example.org|bob@example.org>",
        AddPlayer(name="Bob", email="bob@example.org"),
    ),
    ("team add Carol", AddPlayer(name="Carol")),
    # team remove / roster / captain
    ("team remove Alice McGee", RemovePlayer(who="Alice McGee")),
    ("team remove Alice@Example.com", RemovePlayer(who="alice@example.com")),
    ("team remove <@U123ABC|alice>", RemovePlayer(who="<@U123ABC>")),
    ("team roster", Roster()),
    ("team captain Alice McGee", AppointCaptain(who="Alice McGee")),
    ("team captain alice@example.com", AppointCaptain(who="alice@example.com")),
    ("team captain remove Alice McGee", RelieveCaptain(who="Alice McGee")),
    ("team captain REMOVE alice@example.com", RelieveCaptain(who="alice@example.com")),
    # team settings
    ("team settings", Settings()),
    (
        "team settings tz America/Vancouver lead 48h reminders 24h,3h min 8 max 14 length 2h",
        Settings(
            changes=SettingsChange(
                timezone="America/Vancouver",
                lead_minutes=48 * 60,
                reminder_minutes=(24 * 60, 3 * 60),
                min_players=8,
                max_players=14,
                game_minutes=120,
            )
        ),
    ),
    ("team settings lead 2d", Settings(changes=SettingsChange(lead_minutes=2 * 24 * 60))),
    ("team settings LEAD=90m", Settings(changes=SettingsChange(lead_minutes=90))),
    ("team settings length 1h30m", Settings(changes=SettingsChange(game_minutes=90))),
    (
        "team settings reminders 3h, 24h",
        Settings(changes=SettingsChange(reminder_minutes=(24 * 60, 3 * 60))),
    ),
    ("team settings reminders none", Settings(changes=SettingsChange(reminder_minutes=()))),
    (
        "team settings min none max none",
        Settings(changes=SettingsChange(cleared=frozenset({"min_players", "max_players"}))),
    ),
    (
        "team settings min 6 max none",
        Settings(changes=SettingsChange(min_players=6, cleared=frozenset({"max_players"}))),
    ),
    (
        "team settings timezone Europe/London",
        Settings(changes=SettingsChange(timezone="Europe/London")),
    ),
    # schedule
    (
        "schedule sat 7pm at Monarch Park vs Hawks",
        Schedule(when_text="sat 7pm", location="Monarch Park", opponent="Hawks"),
    ),
    (
        "/attend schedule sat 7pm at Monarch Park vs Hawks",
        Schedule(when_text="sat 7pm", location="Monarch Park", opponent="Hawks"),
    ),
    (
        "schedule 2026-12-05 19:00 at Monarch Park vs Hawks",
        Schedule(when_text="2026-12-05 19:00", location="Monarch Park", opponent="Hawks"),
    ),
    (
        "schedule sat 7pm vs Hawks at Monarch Park",
        Schedule(when_text="sat 7pm", location="Monarch Park", opponent="Hawks"),
    ),
    ("schedule sat 7pm", Schedule(when_text="sat 7pm")),
    ("SCHEDULE sat at 7pm", Schedule(when_text="sat at 7pm")),
    (
        "schedule sat at 7pm at Monarch Park",
        Schedule(when_text="sat at 7pm", location="Monarch Park"),
    ),
    ("schedule tomorrow at noon vs Cats", Schedule(when_text="tomorrow at noon", opponent="Cats")),
    (
        "schedule in 3 days at 6 pm at Riverdale Field",
        Schedule(when_text="in 3 days at 6 pm", location="Riverdale Field"),
    ),
    (
        "schedule sat 7pm at 5th Street Field",
        Schedule(when_text="sat 7pm", location="5th Street Field"),
    ),
    ("schedule Dec 5 7:30pm vs. Hawks", Schedule(when_text="Dec 5 7:30pm", opponent="Hawks")),
    # games and the game-handle commands
    ("games", Games()),
    ("check", Check(game="next")),
    ("check G3", Check(game="G3")),
    ("check g3", Check(game="G3")),
    ("status", Status(game="next")),
    ("status next", Status(game="next")),
    ("status #g07", Status(game="G7")),
    ("board", Board(game="next")),
    ("board g2", Board(game="G2")),
    ("remind", Remind(game="next")),
    ("remind G12", Remind(game="G12")),
    ("cancel G3", Cancel(game="G3")),
    ("cancel g3 field is flooded", Cancel(game="G3", reason="field is flooded")),
    ("cancel next", Cancel(game="next")),
    ("reschedule G3 sun 7pm", Reschedule(game="G3", when_text="sun 7pm")),
    ("reschedule next 2026-12-06 18:00", Reschedule(game="next", when_text="2026-12-06 18:00")),
    # deadline
    ("deadline G1 fri 6pm", Deadline(game="G1", when_text="fri 6pm")),
    ("/attend DEADLINE g12 2026-12-04 18:00", Deadline(game="G12", when_text="2026-12-04 18:00")),
    ("deadline fri 6pm", Deadline(game="next", when_text="fri 6pm")),
    ("deadline next tomorrow at noon", Deadline(game="next", when_text="tomorrow at noon")),
    ("deadline #G3 'Dec 4 6pm'", Deadline(game="G3", when_text="Dec 4 6pm")),
    ("deadline G1 none", ClearDeadline(game="G1")),
    ("/attend deadline g2 NONE", ClearDeadline(game="G2")),
    ("deadline none", ClearDeadline(game="next")),
    ("deadline next none", ClearDeadline(game="next")),
    ("deadline G1 none of it", Deadline(game="G1", when_text="none of it")),
    # answer
    ("answer G3 yes", Answer(game="G3", answer="yes")),
    ("answer yes", Answer(game="next", answer="yes")),
    ("answer next no", Answer(game="next", answer="no")),
    ("answer G3 Maybe bringing snacks", Answer(game="G3", answer="maybe", note="bringing snacks")),
    ("answer no running late", Answer(game="next", answer="no", note="running late")),
    ("answer in", Answer(game="next", answer="yes")),
    ("answer g3 out", Answer(game="G3", answer="no")),
    ("answer yes!", Answer(game="next", answer="yes")),
    ("answer G3 yes for Alice McGee", Answer(game="G3", answer="yes", on_behalf_of="Alice McGee")),
    (
        "answer G3 no for alice@example.com hurt knee",
        Answer(game="G3", answer="no", note="hurt knee", on_behalf_of="alice@example.com"),
    ),
    (
        "answer G3 no for Alice McGee: hurt knee",
        Answer(game="G3", answer="no", note="hurt knee", on_behalf_of="Alice McGee"),
    ),
    (
        "answer G3 no for Alice McGee -- hurt knee",
        Answer(game="G3", answer="no", note="hurt knee", on_behalf_of="Alice McGee"),
    ),
    (
        "answer maybe for <@U123ABC|alice>",
        Answer(game="next", answer="maybe", on_behalf_of="<@U123ABC>"),
    ),
    # me
    ("me", Me()),
    ("  me  ", Me()),
]


@pytest.mark.parametrize(("text", "expected"), GOOD, ids=[t or "<empty>" for t, _ in GOOD])
def test_reads_each_command(text: str, expected: Command) -> None:
    assert parse(text) == expected


BAD: list[tuple[str, str, str]] = [
    # unknown words, with a suggestion where one is close
    ("shedule sat 7pm", "Did you mean 'schedule'?", "schedule"),
    ("anwser yes", "Did you mean 'answer'?", "answer"),
    ("roster", "Did you mean 'team roster'?", "team roster"),
    ("xyzzy", "I don't know the command 'xyzzy'", "help"),
    ("team rooster", "Did you mean 'team roster'?", "team roster"),
    ("help schedul", "Did you mean 'schedule'?", "help"),
    ("team settings timezon America/Toronto", "Did you mean 'tz'?", "team settings"),
    ("team settings colour red", "I don't know the setting 'colour'", "team settings"),
    # team create
    ("team create", "Give the team's name", "team create"),
    ("team create tz America/Toronto", "Give the team's name", "team create"),
    ("team create Hawks tz", "tz needs a zone", "team create"),
    ("team create Hawks tz EST", "city zone like America/Toronto", "team create"),
    ("team create Hawks tz America/Torono", "Did you mean America/Toronto?", "team create"),
    ("team create " + "x" * 81, "81 characters long; keep it to 80", "team create"),
    # team add / remove / captain
    ("team add", "Give the player's name", "team add"),
    ("team add Bob bob@", "doesn't look like an email address", "team add"),
    ("team add Bob bob@example", "doesn't look like an email address", "team add"),
    ("team add Bob bob@@example.com", "doesn't look like an email address", "team add"),
    ("team add Bob @bob", "Pick the person from the @ menu", "team add"),
    ("team add Bob a@example.com b@example.com", "one email per player", "team add"),
    ("team add Bob <@U1> <@U2>", "one mention per player", "team add"),
    ("team remove", "Give the player's name or email", "team remove"),
    ("team remove bob@nowhere", "doesn't look like an email address", "team remove"),
    ("team captain remove", "Give the player's name or email", "team captain"),
    ("team roster please", "didn't expect 'please'", "team roster"),
    # team settings values
    ("team settings lead 48", "add a unit", "team settings"),
    ("team settings lead soon", "duration like 90m, 3h or 2d", "team settings"),
    ("team settings lead 0h", "more than 0", "team settings"),
    ("team settings lead 31d", "at most 30d", "team settings"),
    ("team settings length 25h", "at most 24h", "team settings"),
    ("team settings reminders 24h,x", "duration like 90m", "team settings"),
    ("team settings min eight", "number of players from 1 to 200", "team settings"),
    ("team settings max 0", "number of players from 1 to 200", "team settings"),
    ("team settings min 10 max 5", "min (10) is more than max (5)", "team settings"),
    ("team settings lead 24h reminders 48h", "shorter than lead", "team settings"),
    ("team settings lead", "lead needs a value", "team settings"),
    ("team settings lead 1h lead 2h", "lead is given twice", "team settings"),
    ("team settings tz Mars/Olympus", "isn't a time zone I know", "team settings"),
    # schedule
    ("schedule", "Say when the game is", "schedule"),
    ("schedule at Monarch Park", "Say when the game is", "schedule"),
    ("schedule sat 7pm @ Monarch Park", "Use 'at' for the place", "schedule"),
    ("schedule sat 7pm vs @Hawks", "Use 'at' for the place", "schedule"),
    ("teams", "Did you mean 'team'?", "team"),
    ("schedule sat 7pm at", "Give the place after 'at'", "schedule"),
    ("schedule sat 7pm vs", "Give the team after 'vs'", "schedule"),
    ("schedule sat 7pm at " + "x" * 121, "keep it to 120", "schedule"),
    # games
    ("games all", "didn't expect 'all'", "games"),
    ("status foo", "'foo' isn't a game", "status"),
    ("check G3 G4", "didn't expect 'G4'", "check"),
    ("remind G0", "'G0' isn't a game", "remind"),
    ("cancel", "Which game?", "cancel"),
    ("cancel rain", "'rain' isn't a game", "cancel"),
    ("cancel G3 " + "r" * 201, "201 characters long; keep it to 200", "cancel"),
    ("reschedule", "Which game, and when?", "reschedule"),
    ("reschedule G3", "Say when the game is", "reschedule"),
    ("reschedule sat 7pm", "'sat' isn't a game", "reschedule"),
    # deadline
    ("deadline", "Say when answers close", "deadline"),
    ("deadline G1", "Say when answers close", "deadline"),
    ("deadline next", "Say when answers close", "deadline"),
    ("deadline G0 fri 6pm", "'G0' isn't a game", "deadline"),
    ("deadline G1 fri 6pm " + "x" * 80, "keep it to 80", "deadline"),
    ("dedline G1 fri 6pm", "Did you mean 'deadline'?", "deadline"),
    # answer
    ("answer", "Say yes, no or maybe", "answer"),
    ("answer G3", "Say yes, no or maybe", "answer"),
    ("answer G3 perhaps", "'perhaps' isn't an answer", "answer"),
    ("answer G3 yse", "Did you mean 'yes'?", "answer"),
    ("answer game3 yes", "'game3' isn't a game", "answer"),
    ("answer G3 yes for", "Give the player's name or email", "answer"),
    ("answer G3 no " + "n" * 201, "The note is 201 characters long; keep it to 200", "answer"),
    ("me too", "didn't expect 'too'", "me"),
]


@pytest.mark.parametrize(("text", "fragment", "topic"), BAD, ids=[t[:40] for t, _, _ in BAD])
def test_refuses_with_reason_and_usage(text: str, fragment: str, topic: str) -> None:
    with pytest.raises(GrammarError) as caught:
        parse(text)
    assert fragment in caught.value.message
    assert caught.value.usage == usage_of(topic)


def test_bare_team_lists_every_team_usage_line() -> None:
    with pytest.raises(GrammarError) as caught:
        parse("team")
    assert "create, add, remove, roster, captain, reserve or settings" in caught.value.message
    for key, line in USAGE.items():
        assert (line in caught.value.usage) == key.startswith("team ")
    assert caught.value.usage == usage_of("team")


def test_grammar_error_is_a_value_error_and_prints_its_usage() -> None:
    with pytest.raises(ValueError) as caught:
        parse("answer G3 perhaps")
    assert str(caught.value).endswith("\nUsage: " + USAGE["answer"])


def test_every_usage_line_is_a_slash_command_in_the_help() -> None:
    text = help_text()
    for line in USAGE.values():
        assert line.startswith("/attend ")
        assert line in text


@pytest.mark.parametrize("key", list(USAGE))
def test_help_on_each_command_shows_its_usage(key: str) -> None:
    command = parse(f"help {key}")
    assert command == Help(topic=key)
    assert USAGE[key] in help_text(key)


def test_help_for_a_topic_leaves_the_others_out() -> None:
    text = help_text("team")
    assert USAGE["team add"] in text
    assert USAGE["schedule"] not in text


def test_mention_prints_as_the_platform_writes_it() -> None:
    assert str(SLACK_ALICE) == "<@U123ABC>"


VOCABULARY = [
    *{w for key in USAGE for w in key.split()},
    "G3", "next", "yes", "no", "maybe", "for", "at", "vs", "@", "tz", "lead", "min", "max",
    "none", "48h", "3h,", "7pm", "sat", "Alice", "a@b.co", "<@U1|a>", "<@12>", "--", ":",
    "remove", "=", "lead=", "\"", "x" * 90, "/attend", "0", "-1", "🏒",
]  # fmt: skip


def test_never_fails_with_anything_but_a_grammar_error() -> None:
    # A slash command is typed by people: any mix of words must give a reply, not a traceback.
    rng = random.Random(2026)
    for _ in range(3000):
        text = " ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(0, 8)))
        with contextlib.suppress(GrammarError):
            parse(text)
