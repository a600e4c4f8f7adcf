from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.when import EXAMPLES, WhenError, describe, parse_when, warm_up

TORONTO = ZoneInfo("America/Toronto")
# Saturday morning, the day the captain most often types "sat 7pm".
NOW = datetime(2026, 11, 28, 10, 0, tzinfo=TORONTO)


def local(text: str, now: datetime = NOW, zone: ZoneInfo = TORONTO) -> datetime:
    return parse_when(text, zone=zone, now=now).astimezone(zone).replace(tzinfo=None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sat 7pm", datetime(2026, 11, 28, 19, 0)),  # today, not next week
        ("saturday 7pm", datetime(2026, 11, 28, 19, 0)),
        ("Sat at 7pm", datetime(2026, 11, 28, 19, 0)),
        ("on saturday at 7 pm", datetime(2026, 11, 28, 19, 0)),
        ("sat 9am", datetime(2026, 12, 5, 9, 0)),  # 9am today has passed
        ("next sat 7pm", datetime(2026, 12, 5, 19, 0)),
        ("this saturday 7pm", datetime(2026, 11, 28, 19, 0)),
        ("tomorrow 18:30", datetime(2026, 11, 29, 18, 30)),
        ("next friday 7pm", datetime(2026, 12, 4, 19, 0)),
        ("fri 7pm", datetime(2026, 12, 4, 19, 0)),
        ("thurs 7pm", datetime(2026, 12, 3, 19, 0)),
        ("weds 6:45pm", datetime(2026, 12, 2, 18, 45)),
        ("7pm", datetime(2026, 11, 28, 19, 0)),
        ("9am", datetime(2026, 11, 29, 9, 0)),  # already past today
        ("at noon", datetime(2026, 11, 28, 12, 0)),
        ("in 3 days at 6pm", datetime(2026, 12, 1, 18, 0)),
        ("Dec 5 7:30pm", datetime(2026, 12, 5, 19, 30)),
        ("Sat, Dec 5 7pm", datetime(2026, 12, 5, 19, 0)),
        ("2026-12-05 19:00", datetime(2026, 12, 5, 19, 0)),
        ("2026-12-05 7pm", datetime(2026, 12, 5, 19, 0)),
        ("2026-12-05T19:00", datetime(2026, 12, 5, 19, 0)),
        ("  2026-12-05   19:00 ", datetime(2026, 12, 5, 19, 0)),
        ("sat 7pm EST", datetime(2026, 11, 28, 19, 0)),  # the team's own zone, said aloud
    ],
)
def test_reads_what_captains_type(text: str, expected: datetime) -> None:
    assert local(text) == expected


def test_result_is_aware_utc() -> None:
    game = parse_when("2026-12-05 19:00", zone=TORONTO, now=NOW)
    assert game == datetime(2026, 12, 6, 0, 0, tzinfo=UTC)
    assert game.utcoffset() == timedelta(0)


def test_saturday_evening_sat_7pm_means_next_week() -> None:
    evening = datetime(2026, 11, 28, 20, 0, tzinfo=TORONTO)
    assert local("sat 7pm", now=evening) == datetime(2026, 12, 5, 19, 0)


def test_bare_time_already_past_means_tomorrow() -> None:
    evening = datetime(2026, 11, 28, 20, 0, tzinfo=TORONTO)
    assert local("7pm", now=evening) == datetime(2026, 11, 29, 19, 0)
    assert local("19:30", now=evening) == datetime(2026, 11, 29, 19, 30)


def test_now_may_come_in_any_zone() -> None:
    assert local("sat 7pm", now=NOW.astimezone(UTC)) == datetime(2026, 11, 28, 19, 0)


def test_same_text_in_two_zones_is_two_instants() -> None:
    london = parse_when("2026-12-05 19:00", zone=ZoneInfo("Europe/London"), now=NOW)
    vancouver = parse_when("2026-12-05 19:00", zone=ZoneInfo("America/Vancouver"), now=NOW)
    assert london == datetime(2026, 12, 5, 19, 0, tzinfo=UTC)
    assert vancouver == datetime(2026, 12, 6, 3, 0, tzinfo=UTC)


def test_relative_words_follow_the_team_zone_not_utc() -> None:
    # 02:00 UTC Sunday is still Saturday evening in Vancouver: "tomorrow" is Sunday there.
    now = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
    vancouver = ZoneInfo("America/Vancouver")
    assert local("tomorrow 6pm", now=now, zone=vancouver) == datetime(2026, 11, 29, 18, 0)
    assert local("tomorrow 6pm", now=now, zone=ZoneInfo("Europe/London")) == datetime(
        2026, 11, 30, 18, 0
    )


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("sat", ["no time of day", "sat 7pm"]),
        ("tomorrow", ["no time of day", "tomorrow 7pm"]),
        ("2026-12-05", ["no time of day"]),
        ("sat 7", ["no time of day", "'sat 7pm' or 'sat 7am'"]),
        ("gibberish", ["couldn't read 'gibberish'", EXAMPLES]),
        ("blah 7pm", ["couldn't read", EXAMPLES]),
        ("", ["Say when", EXAMPLES]),
        ("7pm " * 30, ["too long"]),
        ("today 9am", ["Sat Nov 28, 9:00 AM EST is in the past"]),
        ("yesterday 7pm", ["in the past"]),
        ("2025-12-05 19:00", ["in the past"]),
        ("Fri Dec 5 7pm", ["You wrote Friday", "Sat Dec 5, 2026"]),
        ("sat the 5th 7pm", ["You wrote Saturday", "Check the date"]),
        ("2027-12-05 19:00", ["more than a year away"]),
    ],
)
def test_refuses_with_a_reason(text: str, fragments: list[str]) -> None:
    with pytest.raises(WhenError) as caught:
        parse_when(text, zone=TORONTO, now=NOW)
    for fragment in fragments:
        assert fragment in str(caught.value)


def test_stated_zone_that_disagrees_with_the_team_is_refused() -> None:
    october = datetime(2026, 10, 25, 10, 0, tzinfo=TORONTO)  # Toronto is on EDT
    with pytest.raises(WhenError, match="America/Toronto, which is on EDT"):
        parse_when("sat 7pm EST", zone=TORONTO, now=october)


def test_spring_forward_gap_is_refused_with_times_that_work() -> None:
    march = datetime(2026, 3, 1, 10, 0, tzinfo=TORONTO)
    with pytest.raises(WhenError) as caught:
        parse_when("2026-03-08 02:30", zone=TORONTO, now=march)
    assert str(caught.value) == (
        "On Sun Mar 8 the clocks jump forward from 2:00 AM to 3:00 AM in America/Toronto, "
        "so 2:30 AM does not exist that day. Pick a time before 2:00 AM or from 3:00 AM on."
    )


def test_fall_back_overlap_is_refused_not_guessed() -> None:
    october = datetime(2026, 10, 25, 10, 0, tzinfo=TORONTO)
    with pytest.raises(WhenError) as caught:
        parse_when("Nov 1 1:30am", zone=TORONTO, now=october)
    message = str(caught.value)
    assert "clocks fall back from 2:00 AM to 1:00 AM" in message
    assert "1:30 AM happens twice (EDT, then EST)" in message
    assert "before 1:00 AM or from 2:00 AM on" in message


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2026-03-08 01:59", datetime(2026, 3, 8, 6, 59, tzinfo=UTC)),
        ("2026-03-08 03:00", datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),
        ("2026-11-01 00:59", datetime(2026, 11, 1, 4, 59, tzinfo=UTC)),
        ("2026-11-01 02:00", datetime(2026, 11, 1, 7, 0, tzinfo=UTC)),
    ],
)
def test_times_beside_a_dst_change_are_fine(text: str, utc: datetime) -> None:
    march = datetime(2026, 3, 1, 10, 0, tzinfo=TORONTO)
    assert parse_when(text, zone=TORONTO, now=march) == utc


def test_a_zone_without_dst_has_no_gap() -> None:
    march = datetime(2026, 3, 1, 10, 0, tzinfo=TORONTO)
    regina = ZoneInfo("America/Regina")
    assert parse_when("2026-03-08 02:30", zone=regina, now=march) == datetime(
        2026, 3, 8, 8, 30, tzinfo=UTC
    )


def test_when_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_when("nonsense", zone=TORONTO, now=NOW)


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_when("sat 7pm", zone=TORONTO, now=datetime(2026, 11, 28, 10))


@pytest.mark.parametrize(
    ("instant", "zone", "expected"),
    [
        (datetime(2026, 12, 6, 0, 0, tzinfo=UTC), TORONTO, "Sat Dec 5, 7:00 PM EST"),
        (datetime(2026, 7, 4, 16, 5, tzinfo=UTC), TORONTO, "Sat Jul 4, 12:05 PM EDT"),
        (
            datetime(2026, 12, 6, 0, 0, tzinfo=UTC),
            ZoneInfo("Europe/London"),
            "Sun Dec 6, 12:00 AM GMT",
        ),
        (
            datetime(2026, 12, 6, 0, 0, tzinfo=UTC),
            ZoneInfo("America/Vancouver"),
            "Sat Dec 5, 4:00 PM PST",
        ),
    ],
)
def test_describe_echoes_local_time_with_zone_name(
    instant: datetime, zone: ZoneInfo, expected: str
) -> None:
    assert describe(instant, zone) == expected


def test_describe_round_trips_what_was_typed() -> None:
    assert describe(parse_when("sat 7pm", zone=TORONTO, now=NOW), TORONTO) == (
        "Sat Nov 28, 7:00 PM EST"
    )


def test_warm_up_parses_without_error() -> None:
    warm_up()
