"""Redis through Upstash's REST API (UPSTASH_REDIS_REST_URL / UPSTASH_REDIS_REST_TOKEN).

`UpstashRedis` is a `redis.asyncio.Redis` whose commands travel as HTTPS requests
instead of RESP: the cache, rate limits, sign-in limits and revocations keep calling
the redis-py methods they use today, and redis-py's own response callbacks turn each
reply into what a RESP connection would have given (bytes: decode_responses=False).

The protocol (Upstash's documentation): a command is a JSON array POSTed to the base
URL with `Authorization: Bearer TOKEN`; `/pipeline` takes an array of them and
`/multi-exec` runs them as one transaction; each reply is `{"result": ...}` or
`{"error": "..."}`. With `Upstash-Encoding: base64` every string in a result is
base64 (binary-safe) except the status reply "OK". The `Upstash-Sync-Token` of the
last reply is sent with the next request (read-your-writes on a database with read
replicas: a read after this process's write never sees the older value).

A JSON request cannot carry bytes that are not UTF-8 (the travel cache's serialized
protobufs), so such a command is sent in the documented path form: the arguments
before the binary one in the path, that one as the raw request body, the rest as
query parameters.

Written here rather than taken from the `upstash-redis` package: that client has an
API of its own, so every caller would need a second code path; this one gives the
callers the interface they already use. HTTP failures become redis-py's exceptions
(ConnectionError, TimeoutError, AuthenticationError for a refused token) so the
paths that degrade while Redis is down behave the same over REST.

What REST cannot do: WATCH (no connection to hold it) and CLIENT TRACKING (no pushes;
revocations fall back to a bounded re-read, see tripsage_core/revocations.py).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import inspect
import logging
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import redis.asyncio as redis
from redis._parsers.base import BaseParser
from redis.asyncio.client import Pipeline
from redis.client import EMPTY_RESPONSE, NEVER_DECODE
from redis.exceptions import (
    AuthenticationError,
    ConnectionError,
    DataError,
    RedisError,
    ResponseError,
    TimeoutError,
)

logger = logging.getLogger("tripsage.upstash")

# As the RESP client's socket timeouts (tripsage_core/cache.py).
TIMEOUT_SECONDS = 2.0
# Read-your-writes: the header name (Upstash-Sync-Token), not a credential.
SYNC_HEADER = "upstash-sync-token"


class _Rest:
    """The HTTP side: one keep-alive httpx client per event loop, errors as redis-py's."""

    def __init__(self, url: str, token: str, timeout: float) -> None:
        self.url = url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}", "Upstash-Encoding": "base64"}
        self.timeout = timeout
        self._http: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._refused_logged = False
        self._sync_token = ""

    def _client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._http is None or self._loop is not loop:
            # A client's connections belong to the loop that opened them.
            self._http = httpx.AsyncClient(timeout=self.timeout, headers=self.headers)
            self._loop = loop
        return self._http

    async def post(self, path: str, *, json: Any = None, content: bytes | None = None) -> Any:
        headers = {SYNC_HEADER: self._sync_token} if self._sync_token else None
        try:
            response = await self._client().post(
                self.url + path, json=json, content=content, headers=headers
            )
        except httpx.TimeoutException as exc:
            raise TimeoutError(f"Upstash REST API did not answer in time: {exc}") from exc
        except httpx.HTTPError as exc:
            raise ConnectionError(f"Upstash REST API unreachable: {exc}") from exc
        if sync_token := response.headers.get(SYNC_HEADER):
            self._sync_token = sync_token
        if response.status_code == 401:
            message = "Upstash REST API refused UPSTASH_REDIS_REST_TOKEN (HTTP 401)"
            if not self._refused_logged:
                self._refused_logged = True
                logger.error("%s: check the token of the database at %s", message, self.url)
            raise AuthenticationError(message)
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 500 or body is None:
            raise ConnectionError(
                f"Upstash REST API answered HTTP {response.status_code}: {response.text[:200]}"
            )
        return body

    async def aclose(self) -> None:
        if self._http is not None:
            http, self._http = self._http, None
            with contextlib.suppress(RuntimeError):  # its loop is gone (tests)
                await http.aclose()


def _decode(value: Any) -> Any:
    """A base64-encoded result as RESP would give it: strings as bytes, "OK" as b"OK"."""
    if isinstance(value, str):
        if value == "OK":
            return b"OK"
        try:
            return base64.b64decode(value, validate=True)
        except binascii.Error:
            raise ResponseError(
                f"a result not in base64 from the Upstash REST API: {value:.50}"
            ) from None
    if isinstance(value, list):
        return [_decode(item) for item in value]
    return value  # integers and null


def _error(message: str) -> ResponseError:
    """A Redis error reply as the RESP parser maps it (NOSCRIPT -> NoScriptError, ...)."""
    parsed = BaseParser.parse_error(message)  # type: ignore[no-untyped-call]
    return parsed if isinstance(parsed, ResponseError) else ResponseError(message)


def _result(reply: Any) -> Any:
    if not isinstance(reply, dict):
        raise ResponseError(f"unexpected reply from the Upstash REST API: {reply!r:.200}")
    if "error" in reply:
        return _error(str(reply["error"]))
    return _decode(reply.get("result"))


class UpstashRedis(redis.Redis):
    """A redis.asyncio.Redis whose commands go to Upstash's REST API."""

    def __init__(self, url: str, token: str, *, timeout: float = TIMEOUT_SECONDS) -> None:
        # The base class sets up the encoder and the response callbacks (RESP2's: REST
        # results have RESP2's shapes, e.g. HGETALL a flat array); its connection pool is
        # never connected.
        super().__init__(decode_responses=False, protocol=2)
        self.rest = _Rest(url, token, timeout)

    def __repr__(self) -> str:
        return f"<UpstashRedis({self.rest.url})>"

    def pipeline(self, transaction: bool = True, shard_hint: str | None = None) -> UpstashPipeline:
        return UpstashPipeline(self, transaction)

    def encode_command(self, args: Sequence[Any]) -> list[bytes]:
        # As redis-py's pack_command: "SCRIPT LOAD" is two words on the wire.
        if args and isinstance(args[0], str) and " " in args[0]:
            args = (*args[0].split(), *args[1:])
        encoder = self.get_encoder()  # type: ignore[no-untyped-call]
        return [encoder.encode(arg) for arg in args]

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        command_name = args[0]
        words = self.encode_command(args)
        try:
            body: Any = [word.decode() for word in words]
        except UnicodeDecodeError:
            path, value = _path_form(words)
            reply = await self.rest.post(path, content=value)
        else:
            reply = await self.rest.post("", json=body)
        result = _result(reply)
        if isinstance(result, ResponseError):
            if EMPTY_RESPONSE in options:
                return options[EMPTY_RESPONSE]
            raise result
        return await self.apply_callback(command_name, result, options)

    async def apply_callback(
        self, command_name: Any, result: Any, options: Mapping[str, Any]
    ) -> Any:
        """What redis-py's parse_response does with a reply once it is read."""
        options = {
            name: value
            for name, value in options.items()
            if name not in (NEVER_DECODE, EMPTY_RESPONSE, "keys")
        }
        callback = self.response_callbacks.get(command_name)
        if callback is None:
            return result
        value = callback(result, **options)
        return await value if inspect.isawaitable(value) else value

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await self.rest.aclose()
        await super().aclose(close_connection_pool)


def _path_form(words: list[bytes]) -> tuple[str, bytes]:
    """A command with one non-UTF-8 argument, in the path form: /CMD/arg/...?rest with
    that argument as the raw body (e.g. SET key <bytes> EX 60 -> /SET/key?EX=60)."""
    binary = [index for index, word in enumerate(words) if not _is_utf8(word)]
    after = words[binary[0] + 1 :] if len(binary) == 1 else []
    if len(binary) != 1 or len(after) % 2 or binary[0] == 0:
        raise DataError(
            "over Upstash's REST API a command may carry one binary (non-UTF-8) argument, "
            "followed only by name/value options"
        )
    index = binary[0]
    path = "/" + "/".join(quote(word.decode(), safe="") for word in words[:index])
    options = [(after[i].decode(), after[i + 1].decode()) for i in range(0, len(after), 2)]
    if options:
        path += "?" + urlencode(options)
    return path, words[index]


def _is_utf8(word: bytes) -> bool:
    try:
        word.decode()
    except UnicodeDecodeError:
        return False
    return True


class UpstashPipeline(Pipeline):
    """Queued commands sent as one request: /multi-exec for a transaction, else /pipeline."""

    def __init__(self, client: UpstashRedis, transaction: bool) -> None:
        super().__init__(client.connection_pool, client.response_callbacks, transaction, None)
        self._upstash = client

    def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        if args and str(args[0]).upper() == "WATCH":
            raise RedisError("WATCH is not available over Upstash's REST API")
        return self.pipeline_execute_command(*args, **kwargs)  # type: ignore[no-untyped-call]

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        stack = self.command_stack
        try:
            if not stack:
                return []
            for script in self.scripts:
                # EVALSHA inside the batch needs the script known first (one request each).
                script.sha = await self._upstash.script_load(script.script)
            commands: list[list[str]] = []
            for args, _ in stack:
                try:
                    commands.append([word.decode() for word in self._upstash.encode_command(args)])
                except UnicodeDecodeError:
                    raise DataError(
                        "binary (non-UTF-8) arguments cannot be batched over Upstash's REST API"
                    ) from None
            atomic = self.is_transaction or self.explicit_transaction
            path = "/multi-exec" if atomic else "/pipeline"
            replies = await self._upstash.rest.post(path, json=commands)
            if isinstance(replies, dict) and "error" in replies:
                raise _error(str(replies["error"]))  # the transaction as a whole failed
            if not isinstance(replies, list) or len(replies) != len(stack):
                raise ResponseError("Wrong number of response items from pipeline execution")
            results = [_result(reply) for reply in replies]
            if raise_on_error:
                self.raise_first_error(stack, results)
            data = []
            for result, (args, options) in zip(results, stack, strict=True):
                if not isinstance(result, Exception):
                    result = await self._upstash.apply_callback(args[0], result, options)
                data.append(result)
            return data
        finally:
            await self.reset()  # type: ignore[no-untyped-call]
