"""``Cache-Control: no-store`` on every answer to an authenticated request.

A request that carries ``Authorization`` or ``x-api-key`` gets an answer for that
caller only; no shared or browser cache may keep it (RFC 9111 section 5.2.2.5). It
replaces whatever the endpoint set (an event stream's ``no-cache``): no-store is the
stricter. Conditional requests still work: clients revalidate with If-None-Match.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.asgi_headers import request_headers, set_header

NO_STORE = "no-store"
_CREDENTIAL_HEADERS = ("authorization", "x-api-key")


def authenticated(scope: Scope) -> bool:
    headers = request_headers(scope)
    return any(name in headers for name in _CREDENTIAL_HEADERS)


class NoStoreForCredentialsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not authenticated(scope):
            await self.app(scope, receive, send)
            return

        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                set_header(message, b"cache-control", NO_STORE.encode())
            await send(message)

        await self.app(scope, receive, send_no_store)
