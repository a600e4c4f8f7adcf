"""Series of games: the rule expanded in the team's zone, the aggregate's rules, and the
grammar that reads them (text and typed options)."""

from __future__ import annotations

import contextlib
import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot import grammar
from bot.grammar import GrammarError, parse, usage_of
from bot.grammar import series as typed
from core.aggregates.series import (
    SERIES,
    CancelSeries,
    Recurrence,
    RescheduleSeries,
    ScheduleSeries,
    SeriesCancelled,
    SeriesGame,
    SeriesRescheduled,
    SeriesScheduled,
)
from core.errors import DomainError, Refusal
from core.recurrence import game_times, moved

TORONTO = ZoneInfo("America/Toronto")
NOW = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)


def rule(**changes: object) -> Recurrence:
    base: dict[str, object] = {"weekday": 5, "hour": 19, "minute": 0,
                               "timezone": "America/Toronto", "first_day": date(2027, 1, 9),
                               "last_day": date(2027, 3, 27)}
    return Recurrence(**{**base, **changes})  # type: ignore[arg-type]


# -- the rule, expanded ----------------------------------------------------------------------
def test_seven_pm_stays_seven_pm_local_across_the_change_to_summer_time() -> None:
    starts = game_times(rule())
    local = [s.astimezone(TORONTO) for s in starts]
    assert len(starts) == 12 and local[0].date() == date(2027, 1, 9)
    assert local[-1].date() == date(2027, 3, 27)  # "until" takes the last day in
    assert {(t.weekday(), t.hour, t.minute) for t in local} == {(5, 19, 0)}
    assert [s.hour for s in starts] == [0] * 10 + [23] * 2  # UTC moves, the wall clock not


def test_every_two_weeks_from_a_day_that_is_not_the_weekday_and_for_a_count() -> None:
    starts = game_times(rule(first_day=date(2027, 1, 6), every_weeks=2, last_day=None, count=4))
    assert [s.astimezone(TORONTO).date() for s in starts] == [
        date(2027, 1, 9), date(2027, 1, 23), date(2027, 2, 6), date(2027, 2, 20)]


@pytest.mark.parametrize(("changes", "code"), [
    ({"last_day": None}, Refusal.SERIES_NO_END),
    ({"last_day": None, "count": 53}, Refusal.SERIES_TOO_LONG),
    ({"last_day": date(2028, 1, 9)}, Refusal.SERIES_TOO_LONG),
    ({"last_day": date(2027, 1, 8)}, Refusal.INVALID_SERIES),
    ({"weekday": 6, "hour": 2, "minute": 30}, Refusal.SERIES_TIME_SKIPPED),  # Sun Mar 14
    ({"weekday": 6, "hour": 1, "minute": 30, "first_day": date(2027, 10, 1),
      "last_day": date(2027, 11, 30)}, Refusal.SERIES_TIME_SKIPPED),  # Sun Nov 7, twice
])
def test_a_rule_that_cannot_be_is_refused(changes: dict[str, object], code: Refusal) -> None:
    with pytest.raises(DomainError) as refused:
        game_times(rule(**changes))
    assert refused.value.code is code and refused.value.message.strip()


def test_a_skipped_time_names_the_day() -> None:
    with pytest.raises(DomainError) as refused:
        game_times(rule(weekday=6, hour=2, minute=30))
    assert refused.value.message.startswith("On Sun Mar 14 the clocks change in "
                                            "America/Toronto, so 2:30 AM doesn't exist")


def test_a_move_goes_to_the_nearest_such_day_at_the_new_time() -> None:
    starts = game_times(rule(last_day=date(2027, 1, 23)))
    later, to_sunday = moved(rule(), starts, weekday=6, at=time(18, 30))
    _, to_wednesday = moved(rule(), starts, weekday=2, at=None)
    assert (later.weekday, later.hour, later.minute) == (6, 18, 30)
    assert [t.astimezone(TORONTO).strftime("%a %b %d %H:%M") for t in to_sunday] == [
        "Sun Jan 10 18:30", "Sun Jan 17 18:30", "Sun Jan 24 18:30"]
    assert [t.astimezone(TORONTO).strftime("%a %b %d %H:%M") for t in to_wednesday] == [
        "Wed Jan 06 19:00", "Wed Jan 13 19:00", "Wed Jan 20 19:00"]


# -- the aggregate ---------------------------------------------------------------------------
GAMES = tuple(SeriesGame(game_id=f"g{n}", starts_at=NOW + timedelta(weeks=n))
              for n in range(1, 4))
SCHEDULED = SeriesScheduled(series_id="s1", team_id="t1", rule=rule(), games=GAMES)


def decide(command: object, *past: object, now: datetime = NOW) -> list[object]:
    state = SERIES.replay(past)
    events = list(SERIES.decide(state, command, now=now))
    SERIES.replay(events, state)
    return events


def refusal(command: object, *past: object, now: datetime = NOW) -> Refusal:
    with pytest.raises(DomainError) as refused:
        decide(command, *past, now=now)
    return refused.value.code


def test_a_series_is_scheduled_once_with_its_games() -> None:
    schedule = ScheduleSeries(series_id="s1", team_id="t1", rule=rule(), games=GAMES)
    assert decide(schedule) == [SCHEDULED]
    assert refusal(schedule, SCHEDULED) is Refusal.SERIES_ALREADY_SCHEDULED
    assert refusal(schedule, now=GAMES[0].starts_at) is Refusal.START_IN_PAST
    too_many = tuple(SeriesGame(game_id=f"g{n}", starts_at=NOW + timedelta(weeks=n))
                     for n in range(1, 54))
    assert refusal(ScheduleSeries(series_id="s1", team_id="t1", rule=rule(),
                                  games=too_many)) is Refusal.SERIES_TOO_LONG
    backwards = ScheduleSeries(series_id="s1", team_id="t1", rule=rule(), games=GAMES[::-1])
    assert refusal(backwards) is Refusal.INVALID_SERIES


def test_its_games_still_to_play_move_and_are_cancelled_with_it() -> None:
    sunday = rule(weekday=6)
    moves = tuple(SeriesGame(game_id=g.game_id, starts_at=g.starts_at + timedelta(days=1))
                  for g in GAMES[1:])
    assert decide(RescheduleSeries(series_id="s1", rule=sunday, games=moves), SCHEDULED) == [
        SeriesRescheduled(series_id="s1", team_id="t1", rule=sunday, games=moves)]
    assert decide(RescheduleSeries(series_id="s1", rule=rule(), games=()),
                  SCHEDULED) == []  # already so
    realigned = RescheduleSeries(series_id="s1", rule=rule(), games=moves[:1])
    assert decide(realigned, SCHEDULED) == [SeriesRescheduled(
        series_id="s1", team_id="t1", rule=rule(), games=moves[:1])]
    assert refusal(RescheduleSeries(series_id="s1", rule=sunday, games=moves), SCHEDULED,
                   now=moves[0].starts_at) is Refusal.START_IN_PAST
    cancel = CancelSeries(series_id="s1", game_ids=("g2", "g3"), reason="rain")
    cancelled = SeriesCancelled(series_id="s1", team_id="t1", game_ids=("g2", "g3"),
                                reason="rain", cancelled_at=NOW)
    assert decide(cancel, SCHEDULED) == [cancelled]
    assert decide(cancel, SCHEDULED, cancelled) == []
    assert refusal(RescheduleSeries(series_id="s1", rule=sunday, games=moves), SCHEDULED,
                   cancelled) is Refusal.SERIES_CANCELLED
    assert refusal(CancelSeries(series_id="s1", game_ids=("g9",)),
                   SCHEDULED) is Refusal.WRONG_SERIES
    assert refusal(cancel) is Refusal.SERIES_NOT_FOUND


# -- the grammar -----------------------------------------------------------------------------
def test_the_example_reads_as_one_series() -> None:
    assert parse("/attend schedule every sat 7pm at Monarch Park vs TBD from jan 9 until "
                 "mar 27") == grammar.ScheduleSeries(
        weekday=5, at=time(19, 0), from_text="jan 9", until_text="mar 27",
        location="Monarch Park", opponent="TBD")
    assert parse("schedule every 2 weeks on Thursdays at 7:30 pm for 10 weeks") == \
        grammar.ScheduleSeries(weekday=3, at=time(19, 30), every_weeks=2, games=5)
    assert parse("schedule every other sun noon at Center for Sports for 8 games") == \
        grammar.ScheduleSeries(weekday=6, at=time(12, 0), every_weeks=2, games=8,
                               location="Center for Sports")
    assert parse("cancel series s1 league folded") == grammar.CancelSeries(
        series="S1", reason="league folded")
    assert parse("reschedule series S2 fri 20:00") == grammar.RescheduleSeries(
        series="S2", weekday=4, at=time(20, 0))
    assert parse("reschedule series S2 8pm") == grammar.RescheduleSeries(series="S2",
                                                                          at=time(20, 0))
    assert parse("schedule sat 7pm vs Everyone") == grammar.Schedule(when_text="sat 7pm",
                                                                     opponent="Everyone")


@pytest.mark.parametrize(("text", "fragment", "topic"), [
    ("schedule every sat 7pm at Park", "A series needs an end", "schedule every"),
    ("schedule every sonday 7pm for 3 weeks", "'sonday' isn't a day of the week. Did you "
                                              "mean sunday?", "schedule every"),
    ("schedule every funday 7pm for 3 weeks", "'funday' isn't a day of the week.",
     "schedule every"),
    ("schedule every sat 7 for 3 weeks", "'7' needs am or pm", "schedule every"),
    ("schedule every sat 25:00 for 3 weeks", "isn't a time of day", "schedule every"),
    ("schedule every sat for 3 weeks", "Say the time of day", "schedule every"),
    ("schedule every sat 7pm for 3 weeks until mar 1", "not both", "schedule every"),
    ("schedule every sat 7pm for ever", "Say how long after 'for'", "schedule every"),
    ("schedule every sat 7pm for 3 fortnights", "Say how long after 'for'", "schedule every"),
    ("schedule every 60 weeks on sat 7pm for 3 games", "1 to 52 weeks apart",
     "schedule every"),
    ("cancel series", "Which series?", "cancel series"),
    ("cancel series G3", "'G3' isn't a series", "cancel series"),
    ("reschedule series S1", "Say the new day and/or time", "reschedule series"),
    ("reschedule series S1 someday", "isn't a time of day", "reschedule series"),
])
def test_a_series_it_cannot_read_is_refused_with_its_usage(text: str, fragment: str,
                                                           topic: str) -> None:
    with pytest.raises(GrammarError) as refused:
        parse(text)
    assert fragment in refused.value.message
    assert refused.value.usage == usage_of(topic)


def test_typed_options_make_the_same_commands() -> None:
    assert typed.typed_schedule(day="saturday", at="7pm", start="jan 9", until="mar 27",
                                location="Park vs Rec Center", opponent="TBD") == \
        grammar.ScheduleSeries(weekday=5, at=time(19, 0), from_text="jan 9",
                               until_text="mar 27", location="Park vs Rec Center",
                               opponent="TBD")
    assert typed.typed_schedule(day="sun", at="18:30", weeks=9, every=2).games == 5
    assert typed.typed_cancel(series="s3", reason="rain --team X") == grammar.CancelSeries(
        series="S3", reason="rain --team X")
    assert typed.typed_reschedule(series="S1", day="friday") == grammar.RescheduleSeries(
        series="S1", weekday=4)
    for refused in (lambda: typed.typed_schedule(day="sat", at="7pm"),
                    lambda: typed.typed_schedule(day="sat", at="7pm", until="x", weeks=2),
                    lambda: typed.typed_reschedule(series="S1"),
                    lambda: typed.typed_schedule(day="sat", at="7", weeks=2)):
        with pytest.raises(GrammarError):
            refused()


def test_any_mix_of_series_words_gives_a_grammar_error_at_worst() -> None:
    words = ["schedule", "cancel", "reschedule", "series", "every", "other", "2", "weeks",
             "week", "on", "sat", "sundays", "7pm", "7", ":", "19:00", "at", "vs", "from",
             "until", "for", "games", "S1", "s0", "noon", "jan", "9", "🏒", "x" * 130]
    rng = random.Random(17)
    for _ in range(3000):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(0, 9)))
        with contextlib.suppress(GrammarError):
            parse(text)
