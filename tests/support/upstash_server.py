"""A small server speaking Upstash's REST protocol in front of the tests' real Redis/Valkey.

As Upstash documents it: a command as a JSON array POSTed to `/`, `/pipeline` (an
array of commands, each answered on its own) and `/multi-exec` (the same, as one
MULTI/EXEC transaction), the path form (`/CMD/arg/...` with the request body as the
last argument and query parameters after it), `Authorization: Bearer TOKEN` (401
otherwise), replies `{"result": ...}` / `{"error": "..."}` (HTTP 400), and with
`Upstash-Encoding: base64` every string of a result base64-encoded except "OK".
Each command is run with redis-py against the real server, its RESP reply passed on
unchanged (no redis-py response callbacks). Test code only, never in the product.
"""

from __future__ import annotations

import base64
import hmac
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import unquote

import redis.asyncio as redis
from redis.exceptions import ResponseError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.http_server import serve_asgi


def _error_text(exc: ResponseError) -> str:
    # redis-py strips the error code ("NOSCRIPT ...") off the message; Upstash keeps it.
    code = getattr(exc, "status_code", None)
    return f"{code} {exc}" if code else str(exc)


def _encode(value: Any, base64_strings: bool) -> Any:
    if isinstance(value, bytes):
        if value == b"OK":
            return "OK"
        return base64.b64encode(value).decode() if base64_strings else value.decode()
    if isinstance(value, list):
        return [_encode(item, base64_strings) for item in value]
    return value


class UpstashRestServer:
    def __init__(self, redis_url: str, token: str) -> None:
        self.redis_url = redis_url
        self.token = token
        # What arrived, by endpoint ("/", "/pipeline", "/multi-exec", "path"): proof
        # that a flow went over REST.
        self.requests: Counter[str] = Counter()
        self.commands: Counter[str] = Counter()
        self._redis: redis.Redis | None = None
        # Read-your-writes: each reply carries a new Upstash-Sync-Token; the ones that
        # came back with requests.
        self._sync = 0
        self.sync_tokens_seen: list[str] = []

    def app(self) -> Starlette:
        async def sync_token(request: Request, call_next: Any) -> Response:
            if seen := request.headers.get("upstash-sync-token"):
                self.sync_tokens_seen.append(seen)
            response: Response = await call_next(request)
            self._sync += 1
            response.headers["upstash-sync-token"] = f"sync-{self._sync}"
            return response

        return Starlette(
            middleware=[Middleware(BaseHTTPMiddleware, dispatch=sync_token)],
            routes=[
                Route("/", self._single, methods=["POST"]),
                Route("/pipeline", self._batch, methods=["POST"]),
                Route("/multi-exec", self._batch, methods=["POST"]),
                Route("/{path:path}", self._path_form, methods=["POST", "GET"]),
            ],
        )

    @property
    def redis(self) -> redis.Redis:
        if self._redis is None:
            # RESP2: the shapes Upstash's results have (HGETALL a flat array, not a map).
            client = redis.Redis.from_url(self.redis_url, decode_responses=False, protocol=2)
            client.response_callbacks.clear()  # RESP replies as they are
            self._redis = client
        return self._redis

    def _authorized(self, request: Request) -> bool:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        expected = self.token.encode()
        return scheme.lower() == "bearer" and hmac.compare_digest(token.encode(), expected)

    def _refused(self) -> JSONResponse:
        return JSONResponse({"error": "Unauthorized"}, status_code=401)

    async def _run(self, command: list[Any]) -> Any:
        if not command or not all(isinstance(word, str | int | float) for word in command):
            raise ResponseError("ERR a command is a non-empty array of strings")
        self.commands[str(command[0]).upper()] += 1
        return await self.redis.execute_command(*command)

    async def _answer(self, request: Request, command: list[Any]) -> JSONResponse:
        base64_strings = request.headers.get("upstash-encoding", "").lower() == "base64"
        try:
            result = await self._run(command)
        except ResponseError as exc:
            return JSONResponse({"error": _error_text(exc)}, status_code=400)
        return JSONResponse({"result": _encode(result, base64_strings)})

    async def _single(self, request: Request) -> Response:
        if not self._authorized(request):
            return self._refused()
        self.requests["/"] += 1
        command = await request.json()
        if not isinstance(command, list):
            return JSONResponse({"error": "ERR the body must be a JSON array"}, status_code=400)
        return await self._answer(request, command)

    async def _path_form(self, request: Request) -> Response:
        if not self._authorized(request):
            return self._refused()
        self.requests["path"] += 1
        words: list[Any] = [unquote(part) for part in request.url.path.strip("/").split("/")]
        body = await request.body()
        if body:
            words.append(body)
        for name, value in request.query_params.multi_items():
            words.extend([name, value] if value else [name])
        base64_strings = request.headers.get("upstash-encoding", "").lower() == "base64"
        try:
            self.commands[str(words[0]).upper()] += 1
            result = await self.redis.execute_command(*words)
        except ResponseError as exc:
            return JSONResponse({"error": _error_text(exc)}, status_code=400)
        return JSONResponse({"result": _encode(result, base64_strings)})

    async def _batch(self, request: Request) -> Response:
        if not self._authorized(request):
            return self._refused()
        path = request.url.path
        self.requests[path] += 1
        commands = await request.json()
        if not isinstance(commands, list) or not all(isinstance(c, list) for c in commands):
            return JSONResponse(
                {"error": "ERR the body must be an array of commands"}, status_code=400
            )
        base64_strings = request.headers.get("upstash-encoding", "").lower() == "base64"
        if path == "/multi-exec":
            try:
                async with self.redis.pipeline(transaction=True) as pipe:
                    for command in commands:
                        self.commands[str(command[0]).upper()] += 1
                        pipe.execute_command(*command)
                    results = await pipe.execute(raise_on_error=False)
            except ResponseError as exc:  # the transaction as a whole (EXECABORT)
                return JSONResponse({"error": _error_text(exc)}, status_code=400)
        else:
            results = []
            for command in commands:
                try:
                    results.append(await self._run(command))
                except ResponseError as exc:
                    results.append(exc)
        return JSONResponse(
            [
                {"error": _error_text(r)}
                if isinstance(r, ResponseError)
                else {"result": _encode(r, base64_strings)}
                for r in results
            ]
        )

    async def aclose(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None


@asynccontextmanager
async def upstash_rest(redis_url: str, token: str) -> AsyncIterator[tuple[str, UpstashRestServer]]:
    """Serves the REST protocol on 127.0.0.1:<free port>; yields its URL and the server."""
    server = UpstashRestServer(redis_url, token)
    try:
        async with serve_asgi(server.app()) as url:
            yield url, server
    finally:
        await server.aclose()
