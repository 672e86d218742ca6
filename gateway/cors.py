"""CORS for browsers: Starlette's CORSMiddleware, configured from CORS_ORIGINS and
CORS_CREDENTIALS.

It is always installed, also with no origins: then every preflight is refused
(400) and no answer carries Access-Control-Allow-Origin. An origin not in the
list gets the same: its preflight is a 400 and its requests no CORS fields, so
the browser keeps their answers from the page. ``*`` together with credentials
is refused (here and in tripsage_core/config.py): Starlette would answer it
with the caller's own origin, letting any site act with a visitor's cookies.

Browsers may read the fields a client of this API needs: the rate-limit
fields, ETag, Location, Retry-After, WWW-Authenticate and X-Request-ID.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.types import Message, Receive, Scope, Send

from gateway.asgi_headers import request_headers, set_header
from gateway.rate_limit import POLICY_HEADER, STATE_HEADER

ALLOWED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# Request fields a browser may send besides the CORS-safelisted ones.
ALLOWED_HEADERS = (
    "content-type",
    "x-request-id",
    "if-match",
    "if-none-match",
    "last-event-id",
    "request-timeout",
    "grpc-timeout",
)
EXPOSED_HEADERS = (
    POLICY_HEADER,
    STATE_HEADER,
    "retry-after",
    "etag",
    "location",
    "x-request-id",
    "www-authenticate",
    "content-disposition",
)
PREFLIGHT_MAX_AGE_SECONDS = 600


def cors_middleware(
    origins: Sequence[str], credentials: bool, forwarded_headers: Sequence[str] = ()
) -> Middleware:
    """The CORS layer of the gateway; ``forwarded_headers`` may be sent too (they reach
    the services as metadata: authorization, x-api-key, idempotency-key, ...)."""
    if "*" in origins and credentials:
        raise ValueError("CORS_ORIGINS may not be '*' when CORS_CREDENTIALS is true")
    return Middleware(
        _CORSMiddleware,
        allow_origins=list(origins),
        allow_credentials=credentials,
        allow_methods=list(ALLOWED_METHODS),
        allow_headers=list(dict.fromkeys([*ALLOWED_HEADERS, *forwarded_headers])),
        expose_headers=list(EXPOSED_HEADERS),
        max_age=PREFLIGHT_MAX_AGE_SECONDS,
    )


class _CORSMiddleware(CORSMiddleware):
    """Starlette's, with the request without ``Origin`` (every non-browser call) passed
    on without its Headers objects: such an answer only gets ``Vary: Origin`` (added to
    any ``Vary`` it has), exactly as Starlette's ``send`` gives it."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or "origin" in request_headers(scope):
            await super().__call__(scope, receive, send)
            return

        async def send_vary(message: Message) -> None:
            if message["type"] == "http.response.start":
                vary = [v for k, v in message.get("headers", ()) if k.lower() == b"vary"]
                set_header(message, b"vary", b", ".join([*vary, b"Origin"]))
            await send(message)

        await self.app(scope, receive, send_vary)
