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

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"
HSTS = "max-age=31536000; includeSubDomains"
DEFAULTS = (
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("content-security-policy", DEFAULT_CONTENT_SECURITY_POLICY),
)
_HSTS_NAME = b"strict-transport-security"


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, hsts: str = HSTS) -> None:
        self.app = app
        self._defaults = tuple((name.encode(), value.encode()) for name, value in DEFAULTS)
        self._hsts = (_HSTS_NAME, hsts.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        secure = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # On every answer: one pass over what the response set, no parsing.
                headers = list(message.get("headers", ()))
                present = {bytes(name).lower() for name, _ in headers}
                headers.extend(pair for pair in self._defaults if pair[0] not in present)
                if secure and _HSTS_NAME not in present:
                    headers.append(self._hsts)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
