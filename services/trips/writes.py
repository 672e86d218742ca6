"""Rules every write follows: etags guard against lost updates (keys against double
creates are tripsage_core.idempotency's)."""

from __future__ import annotations

from tripsage_core.errors import Aborted


def stale(what: str) -> Aborted:
    return Aborted(f"the {what} changed since you read it; reload and retry", reason="STALE_ETAG")


def unless_stale[T](updated: T | None, what: str) -> T:
    """The row a version-checked update wrote; None means another write came first."""
    if updated is None:
        raise stale(what)
    return updated


def check_etag(etag: str, current: str, what: str) -> None:
    """An empty etag means "do not check"; any other must be the current one."""
    if etag and etag != current:
        raise stale(what)
