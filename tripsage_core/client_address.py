"""The end client's address, vouched for by the gateway to the services behind it.

Per-address limits (sign-in, password reset) need the address of the client, not of
the gateway. The gateway settles it (trusted proxies, gateway/serving.py) and sends
it sealed: `address|unix time|HMAC` under a key derived from SECRET_KEY. A service
believes only a seal it can verify, less than a minute old; anything else a caller
writes (a plain X-Forwarded-For on a direct gRPC call, say) is ignored and the
connection's own peer address counts.
"""

from __future__ import annotations

import time

from tripsage_core.rotating_macs import RotatingMac

HEADER = "x-tripsage-client-address"
MAX_AGE_SECONDS = 60
MAX_ADDRESS_LENGTH = 64

SEAL = RotatingMac("tripsage client address")


def seal(address: str, *, now: float | None = None) -> str:
    body = f"{address[:MAX_ADDRESS_LENGTH]}|{int(now if now is not None else time.time())}"
    return f"{body}|{SEAL.tag(body)}"


def unseal(value: str | None, *, now: float | None = None) -> str | None:
    """The address in a seal this suite made in the last minute, else None."""
    if not value or len(value) > 2 * MAX_ADDRESS_LENGTH:
        return None
    body, _, tag = value.rpartition("|")
    address, _, stamp = body.rpartition("|")
    if not address or not stamp.isdigit() or not SEAL.verify(body, tag):
        return None
    age = (now if now is not None else time.time()) - int(stamp)
    return address if -5 <= age <= MAX_AGE_SECONDS else None
