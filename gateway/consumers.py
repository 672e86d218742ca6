"""Which kind of consumer a request comes from, decided once per request.

The rate limiter picks its limits by this, and the access log and metrics
label every request with it. Only what the gateway has verified counts
(gateway/callers.py): a made-up token or an unknown API key is anonymous.
"""

from __future__ import annotations

from enum import StrEnum

from starlette.types import Scope

from gateway.asgi_headers import request_headers
from gateway.callers import GatewayCallers

CONSUMER_SCOPE_KEY = "tripsage.gateway.consumer"


class Consumer(StrEnum):
    ANONYMOUS = "anonymous"
    USER = "user"
    API_KEY = "api_key"
    ADMIN = "admin"


def consumer_of(scope: Scope, callers: GatewayCallers) -> Consumer:
    """The request's consumer type, remembered in its scope."""
    found = scope.get(CONSUMER_SCOPE_KEY)
    if isinstance(found, Consumer):
        return found
    headers = request_headers(scope)
    consumer = Consumer.ANONYMOUS
    if headers.get("authorization"):  # services, too, take the bearer token first
        user = callers.user(headers)
        if user is not None:
            consumer = Consumer.ADMIN if user.is_admin else Consumer.USER
    elif callers.known_api_key(headers) is not None:
        consumer = Consumer.API_KEY
    scope[CONSUMER_SCOPE_KEY] = consumer
    return consumer
