"""Security headers on every answer of the gateway, streamed ones included (pure ASGI).

- ``X-Content-Type-Options: nosniff``: a JSON answer is never run as script.
- ``Referrer-Policy: no-referrer``: an API answer has no page whose address
  should travel on; a page served later (the web app) may set its own.
- ``X-Frame-Options: DENY`` and a default ``Content-Security-Policy:
  default-src 'none'; frame-ancestors 'none'``: nothing the gateway answers
  may be framed or load anything. A response that sets its own CSP (the API
  reference at /api/docs, a web app) keeps it, and so with the others: these
  are defaults, never overrides.
- ``Strict-Transport-Security`` only when the request came over TLS: its
  scheme is https (uvicorn sets it from a trusted proxy's X-Forwarded-Proto,
  gateway/serving.py). Sent over plain HTTP it would be ignored at best.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"
HSTS = "max-age=31536000; includeSubDomains"
DEFAULTS = (
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("content-security-policy", DEFAULT_CONTENT_SECURITY_POLICY),
)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, hsts: str = HSTS) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        secure = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in DEFAULTS:
                    if name not in headers:
                        headers.append(name, value)
                if secure and "strict-transport-security" not in headers:
                    headers.append("strict-transport-security", self.hsts)
            await send(message)

        await self.app(scope, receive, send_with_headers)
