"""The request id that follows one call from the gateway through every service."""

import re
import uuid
from contextvars import ContextVar

REQUEST_ID_HEADER = "x-request-id"

request_id_var: ContextVar[str] = ContextVar("request_id", default="")

_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def new_request_id() -> str:
    return uuid.uuid4().hex


def accept_request_id(incoming: str | None) -> str:
    """Keep a caller's request id when it is sane, else mint one (ids end up in logs)."""
    if incoming and _SANE_REQUEST_ID.match(incoming):
        return incoming
    return new_request_id()
