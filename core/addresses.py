"""Email addresses as people type them: checked for syntax (no DNS) and kept normalised."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from core.errors import DomainError, Refusal
from core.safe_text import excerpt, refuse_unsafe


def clean_email(value: str) -> str:
    """The address, checked with email-validator and normalised: the domain in lower case
    and Unicode, the whole in lower case as Attend has always kept addresses. A typo is
    refused saying what is wrong; internationalised addresses are welcome (sent with
    SMTPUTF8), and the reserved ``.test`` domain is allowed for trials."""
    refuse_unsafe(value, "email address")
    try:
        checked = validate_email(value.strip(), check_deliverability=False,
                                 test_environment=True)
    except EmailNotValidError as error:
        raise DomainError(Refusal.INVALID_EMAIL, f"{excerpt(value.strip())!r} isn't an email "
                          f"address Attend can use: {error}") from None
    return checked.normalized.lower()
