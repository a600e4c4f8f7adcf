"""Refusals: one vocabulary of codes whose text never changes."""

from __future__ import annotations

from core.errors import DomainError, Refusal, RefusalKind


def test_a_code_reads_as_its_name_in_lower_case() -> None:
    # The text is logged and kept in the scheduler's stored error; one spelling per code.
    assert all(refusal == refusal.name.lower() for refusal in Refusal)


def test_a_refusal_reads_the_same_in_logs_and_stored_errors() -> None:
    error = DomainError(Refusal.CHECK_CLOSED, "Answers are closed.")
    assert f"{error.code}: {error.message}" == "check_closed: Answers are closed."
    assert repr(error) == "DomainError('check_closed', 'Answers are closed.')"
    assert str(error) == "Answers are closed."


def test_an_error_has_the_kind_of_its_refusal() -> None:
    kinds = {refusal: DomainError(refusal, "no").kind for refusal in Refusal}
    assert kinds[Refusal.UNKNOWN_CHECK] is RefusalKind.NOT_FOUND
    assert kinds[Refusal.NOT_INVITED] is RefusalKind.NOT_ALLOWED
    assert kinds[Refusal.GAME_CANCELLED] is RefusalKind.CLOSED
    assert kinds[Refusal.TOO_LONG] is RefusalKind.REFUSED
    assert all(kinds[refusal] is refusal.kind for refusal in Refusal)
