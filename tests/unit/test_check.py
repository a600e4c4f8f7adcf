"""AttendanceCheck: given past events, when a command, then these events or this refusal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.aggregates.check import (
    CHECK,
    DEADLINE_REASON,
    AlertIfBelowMinimum,
    AnswerDeadlineCleared,
    AnswerDeadlineSet,
    AnswerRecorded,
    CheckBelowMinimum,
    CheckClosed,
    CheckMoved,
    CheckOpened,
    CheckReachedMinimum,
    CheckState,
    ClearAnswerDeadline,
    CloseAtDeadline,
    CloseCheck,
    DeliveryFailed,
    InvitationWithdrawn,
    InvitePlayer,
    LateDropOut,
    MessageDelivered,
    MinimumChecked,
    MoveCheck,
    OpenCheck,
    PlayerInvited,
    PlayerPromoted,
    PlayerWaitlisted,
    RecordAnswer,
    RecordDeliveries,
    RecordDelivery,
    RecordDeliveryFailure,
    RemindersRequested,
    RemindNonResponders,
    SetAnswerDeadline,
    WithdrawInvitation,
)
from core.aggregates.common import Answer, AnswerSource, Channel, Invitee
from core.errors import DomainError

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
KICKOFF = NOW + timedelta(days=3)
C, G, T = "c1", "g1", "t1"
YES, NO, MAYBE = Answer.YES, Answer.NO, Answer.MAYBE
ANA, BEN, CAL, DEE, EVE = (
    Invitee(player_id=f"p-{name.lower()}", name=name)
    for name in ("Ana", "Ben", "Cal", "Dee", "Eve")
)
EVERYONE = (ANA, BEN, CAL, DEE)
CLOSED = CheckClosed(check_id=C, reason="game ended", closed_at=NOW)


def opened(
    *invitees: Invitee,
    min_players: int | None = None,
    max_players: int | None = None,
    starts_at: datetime = KICKOFF,
) -> tuple[object, ...]:
    return (
        CheckOpened(
            check_id=C,
            game_id=G,
            team_id=T,
            starts_at=starts_at,
            min_players=min_players,
            max_players=max_players,
            opened_at=NOW - timedelta(days=2),
        ),
        *(PlayerInvited(check_id=C, game_id=G, team_id=T, invitee=i) for i in invitees),
    )


def said(
    who: Invitee,
    answer: Answer,
    *,
    previous: Answer | None = None,
    note: str | None = None,
    at: datetime = NOW,
) -> AnswerRecorded:
    return AnswerRecorded(
        check_id=C,
        player_id=who.player_id,
        answer=answer,
        previous=previous,
        note=note,
        source=AnswerSource.SLACK,
        answered_at=at,
    )


def answer(who: Invitee, answer: Answer, note: str | None = None) -> RecordAnswer:
    return RecordAnswer(
        check_id=C, player_id=who.player_id, answer=answer, note=note, source=AnswerSource.SLACK
    )


def waitlisted(who: Invitee, position: int) -> PlayerWaitlisted:
    return PlayerWaitlisted(check_id=C, player_id=who.player_id, position=position)


def promoted(who: Invitee) -> PlayerPromoted:
    return PlayerPromoted(check_id=C, player_id=who.player_id)


def given(*events: object) -> CheckState:
    return CHECK.replay(events)


def when(state: CheckState, command: object, *, now: datetime = NOW) -> list[object]:
    events = list(CHECK.decide(state, command, now=now))
    CHECK.replay(events, state)  # whatever decide emits, evolve must accept
    return events


def refused(state: CheckState, command: object) -> str:
    with pytest.raises(DomainError) as caught:
        CHECK.decide(state, command, now=NOW)
    assert caught.value.message.strip()
    return caught.value.code


def after(state: CheckState, command: object, *, now: datetime = NOW) -> CheckState:
    return CHECK.replay(CHECK.decide(state, command, now=now), state)


def ids(*invitees: Invitee) -> tuple[str, ...]:
    return tuple(i.player_id for i in invitees)


# Opening and closing


def test_opening_invites_every_invitee_once() -> None:
    command = OpenCheck(
        check_id=C,
        game_id=G,
        team_id=T,
        starts_at=KICKOFF,
        invitees=(ANA, BEN, ANA),
        min_players=2,
        max_players=9,
    )
    assert when(given(), command) == [
        CheckOpened(
            check_id=C,
            game_id=G,
            team_id=T,
            starts_at=KICKOFF,
            min_players=2,
            max_players=9,
            opened_at=NOW,
        ),
        PlayerInvited(check_id=C, game_id=G, team_id=T, invitee=ANA),
        PlayerInvited(check_id=C, game_id=G, team_id=T, invitee=BEN),
    ]


def test_opening_twice_records_nothing() -> None:
    command = OpenCheck(check_id=C, game_id=G, team_id=T, starts_at=KICKOFF, invitees=(CAL,))
    assert when(given(*opened(ANA)), command) == []


@pytest.mark.parametrize(
    "command",
    [
        InvitePlayer(check_id=C, invitee=ANA),
        WithdrawInvitation(check_id=C, player_id=ANA.player_id),
        answer(ANA, YES),
        RemindNonResponders(check_id=C, reminder_key="1440"),
        AlertIfBelowMinimum(check_id=C, key="g1:minimum_check"),
        MoveCheck(check_id=C, starts_at=KICKOFF),
        SetAnswerDeadline(check_id=C, deadline=KICKOFF - timedelta(hours=1)),
        RecordDelivery(check_id=C, player_id=ANA.player_id, message_key="k", channel=Channel.SLACK),
        RecordDeliveryFailure(
            check_id=C,
            player_id=ANA.player_id,
            message_key="k",
            channel=Channel.SLACK,
            reason="x",
            permanent=True,
        ),
    ],
    ids=lambda c: type(c).__name__,
)
def test_a_check_that_is_not_open_refuses_commands(command: object) -> None:
    assert refused(given(), command) == "check_not_open"


def test_closing_a_check_that_never_opened_records_nothing() -> None:
    assert when(given(), CloseCheck(check_id=C, reason="game cancelled")) == []


def test_a_check_closes_once() -> None:
    close = CloseCheck(check_id=C, reason="game ended")
    assert when(given(*opened(ANA)), close) == [CLOSED]
    assert when(given(*opened(ANA), CLOSED), close) == []


@pytest.mark.parametrize(
    "command",
    [
        answer(ANA, YES),
        InvitePlayer(check_id=C, invitee=EVE),
        WithdrawInvitation(check_id=C, player_id=ANA.player_id),
        RemindNonResponders(check_id=C, reminder_key="180"),
        SetAnswerDeadline(check_id=C, deadline=KICKOFF - timedelta(hours=1)),
        ClearAnswerDeadline(check_id=C),
    ],
    ids=lambda c: type(c).__name__,
)
def test_a_closed_check_takes_no_answers_invitations_reminders_or_deadline(command: object) -> None:
    assert refused(given(*opened(ANA), CLOSED), command) == "check_closed"


# Invitations


def test_a_late_joiner_is_invited_once() -> None:
    state = given(*opened(ANA))
    assert when(state, InvitePlayer(check_id=C, invitee=EVE)) == [
        PlayerInvited(check_id=C, game_id=G, team_id=T, invitee=EVE)
    ]
    assert when(state, InvitePlayer(check_id=C, invitee=ANA)) == []


def test_withdrawing_someone_not_invited_records_nothing() -> None:
    command = WithdrawInvitation(check_id=C, player_id=EVE.player_id)
    assert when(given(*opened(ANA)), command) == []


def test_a_withdrawn_player_can_no_longer_answer() -> None:
    withdrawn = InvitationWithdrawn(check_id=C, player_id=ANA.player_id)
    state = given(*opened(ANA, BEN), said(ANA, YES), withdrawn)
    assert refused(state, answer(ANA, NO)) == "not_invited"
    assert state.invitee(ANA.player_id) is None
    assert state.confirmed == ()


# Answers


def test_only_invitees_answer() -> None:
    assert refused(given(*opened(ANA)), answer(EVE, YES)) == "not_invited"


def test_an_answer_is_recorded_with_its_note_source_and_time() -> None:
    command = answer(ANA, MAYBE, note="  back from holiday that day  ")
    assert when(given(*opened(ANA)), command) == [
        said(ANA, MAYBE, note="back from holiday that day")
    ]


def test_the_same_answer_twice_records_nothing() -> None:
    state = given(*opened(ANA), said(ANA, YES, note="10 min late"))
    assert when(state, answer(ANA, YES, note="10 min late")) == []
    assert when(state, answer(ANA, YES)) == []  # a second tap keeps the note


def test_a_new_note_on_the_same_answer_is_recorded() -> None:
    state = given(*opened(ANA), said(ANA, YES, note="10 min late"))
    assert when(state, answer(ANA, YES, note="on time")) == [
        said(ANA, YES, previous=YES, note="on time")
    ]
    assert when(state, answer(ANA, YES, note=" ")) == [said(ANA, YES, previous=YES, note=None)]


def test_a_changed_answer_records_what_it_was() -> None:
    state = given(*opened(ANA), said(ANA, YES, note="10 min late"))
    assert when(state, answer(ANA, NO)) == [said(ANA, NO, previous=YES, note=None)]


def test_the_board_shows_each_invitees_latest_answer_in_invitation_order() -> None:
    later = NOW + timedelta(hours=1)
    state = given(
        *opened(ANA, BEN, CAL),
        said(BEN, YES),
        said(ANA, MAYBE, note="if the baby sleeps"),
        said(BEN, NO, previous=YES, at=later),
    )
    board = [(i.name, i.answer, i.note, i.answered_at) for i in state.invitees]
    assert board == [
        ("Ana", MAYBE, "if the baby sleeps", NOW),
        ("Ben", NO, None, later),
        ("Cal", None, None, None),
    ]
    assert state.confirmed == ()


# Waitlist


def test_a_yes_beyond_the_maximum_is_waitlisted_in_arrival_order() -> None:
    state = given(*opened(*EVERYONE, max_players=2), said(ANA, YES), said(BEN, YES))
    assert when(state, answer(CAL, YES)) == [said(CAL, YES), waitlisted(CAL, 1)]
    state = given(
        *opened(*EVERYONE, max_players=2),
        said(ANA, YES),
        said(BEN, YES),
        said(CAL, YES),
        waitlisted(CAL, 1),
    )
    assert when(state, answer(DEE, YES)) == [said(DEE, YES), waitlisted(DEE, 2)]


def test_the_first_waitlisted_player_is_promoted_when_a_yes_drops_out() -> None:
    state = given(
        *opened(*EVERYONE, max_players=2),
        said(ANA, YES),
        said(BEN, YES),
        said(CAL, YES),
        waitlisted(CAL, 1),
        said(DEE, YES),
        waitlisted(DEE, 2),
    )
    assert (state.confirmed, state.waitlist) == (ids(ANA, BEN), ids(CAL, DEE))
    assert when(state, answer(ANA, NO)) == [said(ANA, NO, previous=YES), promoted(CAL)]
    state = after(state, answer(ANA, NO))
    assert (state.confirmed, state.waitlist) == (ids(BEN, CAL), ids(DEE))
    withdraw = WithdrawInvitation(check_id=C, player_id=BEN.player_id)
    assert when(state, withdraw) == [
        InvitationWithdrawn(check_id=C, player_id=BEN.player_id),
        promoted(DEE),
    ]


def test_a_waitlisted_player_who_changes_their_mind_leaves_the_queue() -> None:
    state = given(
        *opened(*EVERYONE, max_players=2),
        said(ANA, YES),
        said(BEN, YES),
        said(CAL, YES),
        waitlisted(CAL, 1),
        said(DEE, YES),
        waitlisted(DEE, 2),
    )
    assert when(state, answer(CAL, MAYBE)) == [said(CAL, MAYBE, previous=YES)]
    state = after(state, answer(CAL, MAYBE))
    assert state.waitlist == ids(DEE)
    assert when(state, answer(BEN, NO)) == [said(BEN, NO, previous=YES), promoted(DEE)]


def test_a_confirmed_yes_without_a_waitlist_frees_a_place() -> None:
    state = given(*opened(*EVERYONE, max_players=2), said(ANA, YES), said(BEN, YES))
    assert when(state, answer(ANA, MAYBE)) == [said(ANA, MAYBE, previous=YES)]
    state = after(state, answer(ANA, MAYBE))
    assert when(state, answer(CAL, YES)) == [said(CAL, YES)]


# Minimum


def test_reaching_and_falling_below_the_minimum_is_announced_on_the_crossing() -> None:
    state = given(*opened(*EVERYONE, min_players=2))
    assert when(state, answer(ANA, YES)) == [said(ANA, YES)]
    state = given(*opened(*EVERYONE, min_players=2), said(ANA, YES))
    assert when(state, answer(BEN, YES)) == [
        said(BEN, YES),
        CheckReachedMinimum(check_id=C, yes_count=2, min_players=2),
    ]
    state = given(*opened(*EVERYONE, min_players=2), said(ANA, YES), said(BEN, YES))
    assert when(state, answer(CAL, YES)) == [said(CAL, YES)]
    assert when(state, answer(BEN, MAYBE)) == [
        said(BEN, MAYBE, previous=YES),
        CheckBelowMinimum(check_id=C, yes_count=1, min_players=2),
    ]


def test_a_promotion_keeps_the_count_so_the_minimum_is_not_lost() -> None:
    state = given(
        *opened(*EVERYONE, min_players=2, max_players=2),
        said(ANA, YES),
        said(BEN, YES),
        said(CAL, YES),
        waitlisted(CAL, 1),
    )
    assert when(state, answer(ANA, NO)) == [said(ANA, NO, previous=YES), promoted(CAL)]


ALERT = AlertIfBelowMinimum(check_id=C, key="g1:minimum_check:20260504T1200Z")


def checked(yes_count: int, min_players: int | None) -> MinimumChecked:
    return MinimumChecked(check_id=C, key=ALERT.key, yes_count=yes_count, min_players=min_players)


def test_a_check_short_of_its_minimum_before_the_game_alerts_the_captain_once() -> None:
    state = given(*opened(*EVERYONE, min_players=3), said(ANA, YES), said(BEN, NO))
    assert when(state, ALERT) == [
        checked(1, 3),
        CheckBelowMinimum(check_id=C, yes_count=1, min_players=3),
    ]
    state = after(state, ALERT)
    assert when(state, ALERT) == []  # the scheduler sent it again
    assert when(state, AlertIfBelowMinimum(check_id=C, key="another")) == [
        MinimumChecked(check_id=C, key="another", yes_count=1, min_players=3),
        CheckBelowMinimum(check_id=C, yes_count=1, min_players=3),
    ]


def test_a_waitlisted_yes_does_not_count_towards_the_minimum() -> None:
    state = given(
        *opened(*EVERYONE, min_players=2, max_players=1),
        said(ANA, YES),
        said(BEN, YES),
        waitlisted(BEN, 1),
    )
    assert when(state, ALERT) == [
        checked(1, 2),
        CheckBelowMinimum(check_id=C, yes_count=1, min_players=2),
    ]


@pytest.mark.parametrize("yes", [(ANA, BEN), (ANA, BEN, CAL)], ids=["at", "above"])
def test_a_check_at_or_above_its_minimum_records_the_key_without_an_alert(
    yes: tuple[Invitee, ...],
) -> None:
    state = given(*opened(*EVERYONE, min_players=2), *(said(who, YES) for who in yes))
    assert when(state, ALERT) == [checked(len(yes), 2)]
    assert when(after(state, ALERT), ALERT) == []


def test_a_check_without_a_minimum_records_the_key_without_an_alert() -> None:
    assert when(given(*opened(*EVERYONE)), ALERT) == [checked(0, None)]


def test_a_closed_check_records_no_minimum_alert() -> None:
    state = given(*opened(*EVERYONE, min_players=3), CLOSED)
    assert when(state, ALERT) == []


def test_answers_closed_at_the_captains_deadline_still_warn_a_short_team_before_the_game(
) -> None:
    at_deadline = CheckClosed(check_id=C, reason=DEADLINE_REASON, closed_at=NOW)
    state = given(*opened(*EVERYONE, min_players=3), said(ANA, YES), at_deadline)
    assert when(state, ALERT) == [
        checked(1, 3),
        CheckBelowMinimum(check_id=C, yes_count=1, min_players=3),
    ]
    assert when(state, ALERT, now=KICKOFF) == []  # the game is under way: too late to help


# Late drop-outs


@pytest.mark.parametrize(
    ("before_start", "late"),
    [
        (timedelta(hours=24, seconds=1), False),
        (timedelta(hours=24), True),
        (timedelta(hours=1, minutes=30), True),
        (-timedelta(minutes=30), True),
    ],
    ids=["just outside 24 h", "exactly 24 h", "90 min", "after the start"],
)
def test_a_confirmed_yes_lost_within_24_hours_is_a_late_drop_out(
    before_start: timedelta, late: bool
) -> None:
    now = KICKOFF - before_start
    state = given(*opened(ANA, BEN), said(ANA, YES))
    expected: list[object] = [said(ANA, NO, previous=YES, at=now)]
    if late:
        hours = before_start / timedelta(hours=1)
        expected.append(
            LateDropOut(check_id=C, player_id=ANA.player_id, answer=NO, hours_before_start=hours)
        )
    assert when(state, answer(ANA, NO), now=now) == expected


def test_a_withdrawn_confirmed_player_is_a_late_drop_out_without_an_answer() -> None:
    now = KICKOFF - timedelta(hours=2)
    state = given(*opened(ANA, BEN), said(ANA, YES))
    assert when(state, WithdrawInvitation(check_id=C, player_id=ANA.player_id), now=now) == [
        InvitationWithdrawn(check_id=C, player_id=ANA.player_id),
        LateDropOut(check_id=C, player_id=ANA.player_id, answer=None, hours_before_start=2.0),
    ]


def test_only_a_confirmed_yes_can_drop_out_late() -> None:
    now = KICKOFF - timedelta(hours=2)
    state = given(
        *opened(ANA, BEN, CAL, max_players=1),
        said(ANA, MAYBE),
        said(BEN, YES),
        said(CAL, YES),
        waitlisted(CAL, 1),
    )
    assert when(state, answer(ANA, NO), now=now) == [said(ANA, NO, previous=MAYBE, at=now)]
    assert when(state, answer(CAL, NO), now=now) == [said(CAL, NO, previous=YES, at=now)]


def test_moving_the_check_moves_the_late_drop_out_window() -> None:
    later = KICKOFF + timedelta(days=7)
    move = MoveCheck(check_id=C, starts_at=later)
    state = given(*opened(ANA, starts_at=NOW + timedelta(hours=5)), said(ANA, YES))
    moved = CheckMoved(check_id=C, previous_starts_at=NOW + timedelta(hours=5), starts_at=later)
    assert when(state, move) == [moved]
    assert when(given(*opened(ANA, starts_at=later)), move) == []
    state = given(*opened(ANA, starts_at=NOW + timedelta(hours=5)), said(ANA, YES), moved)
    assert when(state, answer(ANA, NO)) == [said(ANA, NO, previous=YES)]


# Reminders


def test_reminders_go_to_those_without_an_answer_or_with_maybe() -> None:
    state = given(
        *opened(ANA, BEN, CAL, DEE, EVE, max_players=1),
        said(ANA, YES),
        said(BEN, NO),
        said(CAL, MAYBE),
        said(EVE, YES),
        waitlisted(EVE, 1),
    )
    assert when(state, RemindNonResponders(check_id=C, reminder_key="1440")) == [
        RemindersRequested(check_id=C, reminder_key="1440", player_ids=ids(CAL, DEE))
    ]


def test_each_reminder_is_sent_once_even_when_nobody_needs_it() -> None:
    state = given(*opened(ANA), said(ANA, YES))
    remind = RemindNonResponders(check_id=C, reminder_key="1440")
    assert when(state, remind) == [
        RemindersRequested(check_id=C, reminder_key="1440", player_ids=())
    ]
    state = given(*opened(ANA), RemindersRequested(check_id=C, reminder_key="1440", player_ids=()))
    assert when(state, remind) == []
    assert when(state, RemindNonResponders(check_id=C, reminder_key="180")) == [
        RemindersRequested(check_id=C, reminder_key="180", player_ids=ids(ANA))
    ]


# The answer deadline

FRIDAY_6PM = KICKOFF - timedelta(hours=25)


def deadline(at: datetime = FRIDAY_6PM) -> SetAnswerDeadline:
    return SetAnswerDeadline(check_id=C, deadline=at)


def deadline_set(at: datetime = FRIDAY_6PM) -> AnswerDeadlineSet:
    return AnswerDeadlineSet(check_id=C, deadline=at)


def test_a_captain_sets_a_deadline_once_and_can_move_it() -> None:
    state = given(*opened(ANA))
    assert state.deadline is None
    assert when(state, deadline()) == [deadline_set()]
    state = after(state, deadline())
    assert state.deadline == FRIDAY_6PM
    assert when(state, deadline()) == []  # the same deadline again records nothing
    earlier = FRIDAY_6PM - timedelta(days=1)
    assert when(state, deadline(earlier)) == [deadline_set(earlier)]
    assert after(state, deadline(earlier)).deadline == earlier


@pytest.mark.parametrize(
    ("at", "code"),
    [
        (NOW - timedelta(minutes=1), "deadline_in_past"),
        (NOW, "deadline_in_past"),
        (KICKOFF + timedelta(minutes=1), "deadline_after_start"),
    ],
    ids=["past", "now", "after the start"],
)
def test_a_deadline_is_still_ahead_and_not_after_the_start(at: datetime, code: str) -> None:
    assert refused(given(*opened(ANA)), deadline(at)) == code


def test_a_deadline_may_be_the_start_itself() -> None:
    assert when(given(*opened(ANA)), deadline(KICKOFF)) == [deadline_set(KICKOFF)]


def test_a_moved_game_keeps_its_deadline_and_bounds_the_next_one() -> None:
    sooner = FRIDAY_6PM - timedelta(hours=1)
    state = given(
        *opened(ANA),
        deadline_set(),
        CheckMoved(check_id=C, previous_starts_at=KICKOFF, starts_at=sooner),
    )
    assert (state.deadline, state.starts_at) == (FRIDAY_6PM, sooner)  # the start comes first
    assert refused(state, deadline(FRIDAY_6PM + timedelta(minutes=5))) == "deadline_after_start"


def test_a_captain_clears_a_deadline_and_answers_close_at_the_start_again() -> None:
    clear = ClearAnswerDeadline(check_id=C)
    assert when(given(*opened(ANA)), clear) == []  # no deadline: nothing to clear
    state = given(*opened(ANA), deadline_set())
    assert when(state, clear) == [AnswerDeadlineCleared(check_id=C)]
    state = after(state, clear)
    assert state.deadline is None
    assert when(state, clear) == []  # cleared once
    assert when(state, deadline()) == [deadline_set()]  # and may be set again


def test_the_scheduler_closes_at_the_deadline_only_if_it_still_stands() -> None:
    close = CloseAtDeadline(check_id=C, deadline=FRIDAY_6PM)
    at_deadline = FRIDAY_6PM
    closed = CheckClosed(check_id=C, reason=DEADLINE_REASON, closed_at=at_deadline)
    assert when(given(*opened(ANA), deadline_set()), close, now=at_deadline) == [closed]
    # The captain cleared or moved it a moment before the scheduler came: nothing closes.
    cleared = given(*opened(ANA), deadline_set(), AnswerDeadlineCleared(check_id=C))
    assert when(cleared, close, now=at_deadline) == []
    moved = given(*opened(ANA), deadline_set(), deadline_set(FRIDAY_6PM - timedelta(hours=2)))
    assert when(moved, close, now=at_deadline) == []
    assert when(given(*opened(ANA), deadline_set(), CLOSED), close, now=at_deadline) == []


def test_a_closed_check_with_a_deadline_refuses_to_clear_it() -> None:
    state = given(*opened(ANA), deadline_set(), CLOSED)
    assert refused(state, ClearAnswerDeadline(check_id=C)) == "check_closed"


# Deliveries


def delivered(channel: Channel = Channel.SLACK, key: str = "invite") -> MessageDelivered:
    return MessageDelivered(
        check_id=C,
        player_id=ANA.player_id,
        message_key=key,
        channel=channel,
        reference="ts-1" if channel is Channel.SLACK else None,
        delivered_at=NOW,
    )


def failed(permanent: bool, channel: Channel = Channel.SLACK) -> DeliveryFailed:
    return DeliveryFailed(
        check_id=C,
        player_id=ANA.player_id,
        message_key="invite",
        channel=channel,
        reason="cannot_dm_bot" if permanent else "timeout",
        permanent=permanent,
        failed_at=NOW,
    )


def deliver(channel: Channel = Channel.SLACK, key: str = "invite") -> RecordDelivery:
    return RecordDelivery(
        check_id=C,
        player_id=ANA.player_id,
        message_key=key,
        channel=channel,
        reference="ts-1" if channel is Channel.SLACK else None,
    )


def fail(permanent: bool, channel: Channel = Channel.SLACK) -> RecordDeliveryFailure:
    return RecordDeliveryFailure(
        check_id=C,
        player_id=ANA.player_id,
        message_key="invite",
        channel=channel,
        reason="cannot_dm_bot" if permanent else "timeout",
        permanent=permanent,
    )


def test_a_message_is_recorded_as_delivered_once_per_player_and_key() -> None:
    assert when(given(*opened(ANA)), deliver()) == [delivered()]
    state = given(*opened(ANA), delivered())
    assert state.delivered(ANA.player_id, "invite")
    assert when(state, deliver()) == []
    assert when(state, deliver(Channel.EMAIL)) == []
    assert when(state, fail(permanent=True)) == []
    assert when(state, deliver(key="reminder-1440")) == [delivered(key="reminder-1440")]


def test_a_round_of_deliveries_records_each_message_once_in_one_go() -> None:
    state = given(*opened(ANA), delivered())  # the invitation is recorded already
    ben = RecordDelivery(check_id=C, player_id=BEN.player_id, message_key="invite",
                         channel=Channel.EMAIL)
    other_check = RecordDelivery(check_id="c-other", player_id=ANA.player_id,
                                 message_key="x", channel=Channel.EMAIL)
    round_ = RecordDeliveries(check_id=C, deliveries=(
        deliver(), deliver(key="reminder-1440"), ben, deliver(key="reminder-1440"),
        other_check))
    assert when(state, round_) == [
        delivered(key="reminder-1440"),
        MessageDelivered(check_id=C, player_id=BEN.player_id, message_key="invite",
                         channel=Channel.EMAIL, reference=None, delivered_at=NOW)]
    assert refused(given(), round_) == "check_not_open"


def test_a_failure_is_recorded_once_unless_it_turns_permanent() -> None:
    assert when(given(*opened(ANA)), fail(permanent=False)) == [failed(permanent=False)]
    state = given(*opened(ANA), failed(permanent=False))
    assert when(state, fail(permanent=False)) == []
    assert when(state, fail(permanent=True)) == [failed(permanent=True)]
    state = given(*opened(ANA), failed(permanent=True))
    assert when(state, fail(permanent=False)) == []
    assert when(state, fail(permanent=True, channel=Channel.EMAIL)) == [
        failed(permanent=True, channel=Channel.EMAIL)
    ]


def test_after_a_failed_dm_the_email_fallback_is_recorded() -> None:
    state = given(*opened(ANA), failed(permanent=True))
    assert when(state, deliver(Channel.EMAIL)) == [delivered(Channel.EMAIL)]


def test_deliveries_are_recorded_after_close() -> None:
    state = given(*opened(ANA), CLOSED)
    assert when(state, deliver(key="cancelled")) == [delivered(key="cancelled")]
