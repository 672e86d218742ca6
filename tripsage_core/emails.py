"""Email addresses, one rule for every service: how they are compared and what is one.

Addresses are compared in one form (trimmed, lower case), so an invitation to
Ana@Example.com and the account ana@example.com are the same person. What counts
as an address is the email-validator package's syntax check (RFC 5322/6531, with
internationalised addresses), without DNS look-ups; special-use domains
(localhost, .test, .invalid, ...) are refused as they cannot receive mail.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

MAX_EMAIL_LENGTH = 254  # RFC 5321's limit on a forward path
INVALID = "is not a valid email address"


def normalize_email(email: str) -> str:
    return email.strip().lower()


def email_problem(email: str) -> str | None:
    """Why `email` (normalised) is not an address, or None when it is one."""
    if not email:
        return "is required"
    if len(email) > MAX_EMAIL_LENGTH:
        return f"must be at most {MAX_EMAIL_LENGTH} characters"
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        return INVALID
    return None
