"""Rules every write follows: etags guard against lost updates, keys against double creates."""

from __future__ import annotations

from services.trips.store import TripsUnit
from tripsage_core.errors import Aborted, FailedPrecondition
from tripsage_core.idempotency import IdempotencyKey, IdempotencyLedger
from tripsage_core.identity import Principal


def stale(what: str) -> Aborted:
    return Aborted(f"the {what} changed since you read it; reload and retry", reason="STALE_ETAG")


def check_etag(etag: str, current: str, what: str) -> None:
    """An empty etag means "do not check"; any other must be the current one."""
    if etag and etag != current:
        raise stale(what)


async def replay_or_claim(
    ledger: IdempotencyLedger, uow: TripsUnit, caller: Principal, attempt: IdempotencyKey | None
) -> str | None:
    """The id the first attempt with this key created, or None to go ahead and create."""
    if attempt is None:
        return None
    return await ledger.claim(uow.conn, caller.user_id, attempt)


def gone_since(what: str) -> FailedPrecondition:
    return FailedPrecondition(
        f"the {what} this Idempotency-Key created has since been deleted; use a new key",
        reason="IDEMPOTENT_RESULT_DELETED",
    )
