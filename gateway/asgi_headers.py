"""Header fields on the hot path without Starlette's Headers objects.

Every layer of the gateway reads a few request fields, and several add a response
field; building a Headers or MutableHeaders for each was a few percent of a
request's CPU. The request's fields are read into one dict per request, kept in
its scope; response fields are set on the ASGI message's list directly.
"""

from __future__ import annotations

from starlette.types import Message, Scope

HEADERS_SCOPE_KEY = "tripsage.gateway.headers"


def request_headers(scope: Scope) -> dict[str, str]:
    """The request's fields by lower-case name, the first value of a repeated one
    (what Starlette's ``Headers.get`` gives), read once per request."""
    found: dict[str, str] | None = scope.get(HEADERS_SCOPE_KEY)
    if found is None:
        found = {}
        for name, value in scope["headers"]:
            found.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))
        scope[HEADERS_SCOPE_KEY] = found
    return found


def set_header(message: Message, name: bytes, value: bytes) -> None:
    """Set a response field on an ``http.response.start`` message, replacing any it
    has (Starlette's ``MutableHeaders.__setitem__``); ``name`` is lower-case."""
    headers = message["headers"] = list(message.get("headers", ()))
    at = [index for index, (each, _) in enumerate(headers) if each.lower() == name]
    if not at:
        headers.append((name, value))
        return
    headers[at[0]] = (name, value)
    for index in reversed(at[1:]):
        del headers[index]
