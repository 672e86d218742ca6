"""Watching trips in tests: extra trips replicas and gateways, and a reader of SSE/NDJSON
streams that runs in the background so a test can act while it listens."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from gateway.app import create_app
from gateway.callers import gateway_callers
from gateway.discovery import upstream_addresses
from services.trips.app import build as build_trips
from services.trips.app import change_feed
from services.trips.change_feed import TripChangeFeed
from tests.support.http_server import serve_asgi
from tests.support.suite import RunningSuite, wait_serving
from tripsage_core.grpc_kit.server import GrpcService
from tripsage_core.grpc_kit.tls import channel_credentials, server_credentials

TRIPS_SERVICE = "tripsage.trips.v1.TripService"


@dataclass
class TripsReplica:
    """A trips service on the suite's database, with its change feed in reach."""

    address: str
    feed: TripChangeFeed
    service: GrpcService


async def start_trips_replica(
    suite: RunningSuite, stack: AsyncExitStack, *, max_watchers: int | None = None
) -> TripsReplica:
    """Another trips process, as RunningSuite starts one, on the same database."""
    feed = change_feed(suite.settings)
    if max_watchers is not None:
        feed.max_watchers = max_watchers
    service = GrpcService(await build_trips(suite.settings, feed=feed), grace_seconds=1)
    port = await service.start(0, host="127.0.0.1", credentials=server_credentials(suite.settings))
    stack.push_async_callback(service.stop)
    address = f"127.0.0.1:{port}"
    await wait_serving(address, credentials=channel_credentials(suite.settings))
    return TripsReplica(address, feed, service)


async def start_gateway(
    suite: RunningSuite, stack: AsyncExitStack, trips_address: str, **options: Any
) -> str:
    """A gateway app in front of the suite, sending trips calls to `trips_address`."""
    upstreams = upstream_addresses(suite.settings)
    upstreams[TRIPS_SERVICE] = trips_address
    app = create_app(
        upstreams,
        call_timeout=10,
        callers=gateway_callers(suite.settings),
        channel_credentials=channel_credentials(suite.settings),
        **options,
    )
    return await stack.enter_async_context(serve_asgi(app, lifespan="on"))


@dataclass
class Event:
    data: Any
    id: str = ""
    event: str = ""


@dataclass
class StreamReader:
    """What a stream has sent so far: events (parsed), heartbeats, the response."""

    events: asyncio.Queue[Event] = field(default_factory=asyncio.Queue)
    heartbeats: int = 0
    status: int = 0
    headers: httpx.Headers = field(default_factory=httpx.Headers)
    body: bytes = b""
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    started: asyncio.Event = field(default_factory=asyncio.Event)

    async def next(self, timeout: float = 5.0) -> Event:
        async with asyncio.timeout(timeout):
            return await self.events.get()

    async def next_timed(self, timeout: float = 5.0) -> tuple[Event, float]:
        """The next event and when it arrived (time.perf_counter())."""
        event = await self.next(timeout)
        return event, getattr(event, "_at", time.perf_counter())

    def drain(self) -> list[Event]:
        found = []
        while not self.events.empty():
            found.append(self.events.get_nowait())
        return found


async def _read_sse(response: httpx.Response, reader: StreamReader) -> None:
    fields: dict[str, str] = {}
    async for line in response.aiter_lines():
        if line == "":
            if "data" in fields:
                event = Event(
                    json.loads(fields["data"]), fields.get("id", ""), fields.get("event", "")
                )
                event._at = time.perf_counter()  # type: ignore[attr-defined]
                reader.events.put_nowait(event)
            fields = {}
        elif line.startswith(":"):
            reader.heartbeats += 1
        else:
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")


async def _read_ndjson(response: httpx.Response, reader: StreamReader) -> None:
    async for line in response.aiter_lines():
        if not line.strip():
            reader.heartbeats += 1
            continue
        event = Event(json.loads(line))
        event._at = time.perf_counter()  # type: ignore[attr-defined]
        reader.events.put_nowait(event)


@asynccontextmanager
async def watching(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], *, ndjson: bool = False
) -> AsyncIterator[StreamReader]:
    """Opens the stream in the background; leaving the block drops the connection."""
    reader = StreamReader()
    wanted = {**headers, "accept": "application/x-ndjson" if ndjson else "text/event-stream"}

    async def run() -> None:
        try:
            async with client.stream("GET", path, headers=wanted) as response:
                reader.status, reader.headers = response.status_code, response.headers
                if response.status_code != 200:
                    reader.body = await response.aread()
                    return
                reader.started.set()
                await (_read_ndjson if ndjson else _read_sse)(response, reader)
        finally:
            reader.started.set()
            reader.ended.set()

    task = asyncio.create_task(run())
    try:
        async with asyncio.timeout(10):
            await reader.started.wait()
        yield reader
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
            await task
