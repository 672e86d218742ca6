"""How the gateway is served: the one place that decides whose forwarding headers count.

uvicorn by default believes `X-Forwarded-For` from any loopback client, which
lets every local caller claim a new address per request. Here only the proxies
in TRUSTED_PROXIES are believed (none by default); their header then names the
client, as the first address from the right that is not itself a trusted proxy.

The event loop is uvloop and the HTTP parser httptools (uvicorn's fast pair):
on the gateway's hot path they take about a third off the CPU of the asyncio
loop with h11 (docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import uvicorn
from starlette.types import ASGIApp


def server_config(
    app: ASGIApp, *, host: str, port: int, trusted_proxies: Sequence[str] = (), **options: Any
) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        proxy_headers=bool(trusted_proxies),
        forwarded_allow_ips=list(trusted_proxies),  # never uvicorn's loopback default
        **{"loop": "uvloop", "http": "httptools", **options},
    )
