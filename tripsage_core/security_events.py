"""Security events: one log record type operators can filter and alert on.

Every such record comes from the `tripsage.security` logger with
`event_type="security"`, an `action` (sign_in_failed, sign_in_throttled,
password_changed, password_reset, password_reset_requested, api_key_created,
api_key_revoked, provider_key_stored, provider_key_deleted, role_changed,
permission_denied, token_rejected, invitation_created, invitation_accepted,
invitation_declined, invitation_revoked, collaborator_role_changed,
collaborator_removed, ...) and an `outcome` (success, denied, throttled), plus
ids — never a password, token, key or email address (invitations name the
invitation and trip ids; the address stays in the trip's activity).
`tripsage search-logs --query '"event_type": "security"'` lists them.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger("tripsage.security")

SUCCESS = "success"
DENIED = "denied"
THROTTLED = "throttled"


def security_event(action: str, outcome: str = SUCCESS, **fields: Any) -> None:
    """Log one security event; `fields` are ids and reasons, never secrets."""
    level = logging.INFO if outcome == SUCCESS else logging.WARNING
    logger.log(
        level,
        "security event: %s (%s)",
        action,
        outcome,
        extra={"event_type": "security", "action": action, "outcome": outcome, **fields},
    )
