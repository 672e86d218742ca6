"""The deadline of each upstream call: its route class's, shortened by the client's.

Every call the gateway makes has a deadline (a gRPC call without one can hang as
long as the connection lives). Three classes, each from a setting:

- ``default``: every unary RPC (GATEWAY_CALL_TIMEOUT_SECONDS);
- ``long``: unary RPCs that may run a model or a provider search (chat turns,
  plans, flight/stay/place searches; GATEWAY_LONG_CALL_TIMEOUT_SECONDS);
- ``stream``: server-streaming RPCs, for the whole stream
  (GATEWAY_STREAM_TIMEOUT_SECONDS).

A client may ask for less, never more, with gRPC's own ``grpc-timeout`` header
(``5S``, ``200m``: up to 8 digits and a unit H, M, S, m, u or n) or with
``Request-Timeout`` (seconds, e.g. ``2.5``). A value that is not that syntax is
a 400 naming the header.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from gateway.errors import GatewayError, invalid_argument
from gateway.rate_classes import RouteClass as RateClass
from gateway.rate_classes import rate_class

GRPC_TIMEOUT_HEADER = "grpc-timeout"
REQUEST_TIMEOUT_HEADER = "request-timeout"

# gRPC over HTTP/2: TimeoutValue is at most 8 ASCII digits, then the unit.
_GRPC_TIMEOUT = re.compile(r"^([0-9]{1,8})([HMSmun])$")
_GRPC_UNIT_SECONDS = {"H": 3600.0, "M": 60.0, "S": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9}
# Seconds as a plain decimal: no signs, exponents, "inf" or "nan".
_SECONDS = re.compile(r"^[0-9]{1,8}(\.[0-9]{1,9})?$")

# Unary RPCs that may wait on a model or on provider searches (by RPC name).
# Calls that may wait on a model or a provider: the chat and search rate classes
# (gateway/rate_classes.py is the one list of them).
LONG_RATE_CLASSES = frozenset({RateClass.CHAT, RateClass.SEARCH})


class RouteClass(StrEnum):
    DEFAULT = "default"
    LONG = "long"
    STREAM = "stream"


def route_class(method_full_name: str, server_streaming: bool) -> RouteClass:
    if server_streaming:
        return RouteClass.STREAM
    if rate_class(method_full_name) in LONG_RATE_CLASSES:
        return RouteClass.LONG
    return RouteClass.DEFAULT


@dataclass(frozen=True, slots=True)
class Deadlines:
    """Seconds each route class may take at most."""

    default: float = 30.0
    long: float = 120.0
    stream: float = 300.0

    def __post_init__(self) -> None:
        for name in ("default", "long", "stream"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"the {name} deadline must be a positive number of seconds")

    def limit(self, kind: RouteClass) -> float:
        return {RouteClass.DEFAULT: self.default, RouteClass.LONG: self.long}.get(kind, self.stream)

    def timeout(
        self, method_full_name: str, server_streaming: bool, headers: Mapping[str, str]
    ) -> float:
        """The call's timeout in seconds: its class's, or less if the client asked."""
        allowed = self.limit(route_class(method_full_name, server_streaming))
        asked = client_timeout(headers)
        return allowed if asked is None else min(allowed, asked)


def client_timeout(headers: Mapping[str, str]) -> float | None:
    """The shortest timeout the client asked for (lower-cased header names), if any."""
    asked: list[float] = []
    grpc_value = headers.get(GRPC_TIMEOUT_HEADER)
    if grpc_value is not None:
        found = _GRPC_TIMEOUT.match(grpc_value.strip())
        if found is None:
            raise _bad_timeout(
                GRPC_TIMEOUT_HEADER,
                "up to 8 digits and a unit (H, M, S, m, u, n), e.g. 5S or 200m",
            )
        seconds = int(found.group(1)) * _GRPC_UNIT_SECONDS[found.group(2)]
        asked.append(_positive(GRPC_TIMEOUT_HEADER, seconds))
    seconds_value = headers.get(REQUEST_TIMEOUT_HEADER)
    if seconds_value is not None:
        if _SECONDS.match(seconds_value.strip()) is None:
            raise _bad_timeout(REQUEST_TIMEOUT_HEADER, "a number of seconds, e.g. 10 or 2.5")
        asked.append(_positive(REQUEST_TIMEOUT_HEADER, float(seconds_value)))
    return min(asked) if asked else None


def _positive(header: str, seconds: float) -> float:
    if seconds <= 0:
        raise _bad_timeout(header, "must be more than zero")
    return seconds


def _bad_timeout(header: str, expected: str) -> GatewayError:
    return invalid_argument(
        f"header {header} is not a valid timeout: {expected}",
        [(header, expected)],
        reason="INVALID_TIMEOUT",
    )
