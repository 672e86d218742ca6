"""The access interceptor on a real gRPC server: undeclared RPCs are refused, each audience
admits exactly its callers, and the servicer reads the verified caller."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import grpc
import pytest
import pytest_asyncio
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio  # type: ignore[attr-defined]

from tripsage_core.grpc_kit.access import (
    ADMIN,
    PUBLIC,
    SERVICE,
    USER,
    AccessInterceptor,
    Audience,
    Policy,
    current_caller,
    optional_caller,
)
from tripsage_core.grpc_kit.caller import CallerResolver
from tripsage_core.grpc_kit.interceptors import default_interceptors
from tripsage_core.identity import AccessTokens, Role

USER_ID = str(uuid.uuid4())
SECRET = "access-interceptor-test-secret-0123456789abcdef"
TABLE = {
    "Open": PUBLIC,
    "Mine": USER,
    "Internal": SERVICE,
    "Admin": ADMIN,
    "AdminOnUser": Policy(Audience.ADMIN, hidden=True),
}


async def _who(request: bytes, context: aio.ServicerContext) -> bytes:
    caller = optional_caller()
    return (caller.user_id if caller else "anonymous").encode()


async def _me(request: bytes, context: aio.ServicerContext) -> bytes:
    return current_caller().user_id.encode()


@pytest_asyncio.fixture
async def address() -> AsyncIterator[str]:
    callers = CallerResolver(AccessTokens(SECRET))
    server = aio.server(
        interceptors=[*default_interceptors(), AccessInterceptor({"test.Svc": TABLE}, callers)]
    )
    methods = {name: _me for name in TABLE} | {"Open": _who, "Undeclared": _me}
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                "test.Svc",
                {name: grpc.unary_unary_rpc_method_handler(fn) for name, fn in methods.items()},
            ),
        )
    )
    health_pb2_grpc.add_HealthServicer_to_server(health_aio.HealthServicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await server.stop(None)


def _bearer(role: Role = Role.USER, user_id: str = "") -> tuple[tuple[str, str], ...]:
    token = AccessTokens(SECRET).issue(
        user_id=user_id or str(uuid.uuid4()), email="a@example.com", role=role, session_id="s-1"
    )
    return (("authorization", f"Bearer {token.token}"),)


async def _call(address: str, method: str, metadata: tuple[tuple[str, str], ...] = ()) -> bytes:
    async with aio.insecure_channel(address) as channel:
        reply: bytes = await channel.unary_unary(f"/test.Svc/{method}")(b"", metadata=metadata)
        return reply


async def _refused(address: str, method: str, metadata: tuple[tuple[str, str], ...] = ()) -> str:
    with pytest.raises(aio.AioRpcError) as caught:
        await _call(address, method, metadata)
    return caught.value.code().name


async def test_an_rpc_without_a_declared_policy_is_refused_even_to_admins(address: str) -> None:
    assert await _refused(address, "Undeclared", _bearer(Role.ADMIN)) == "PERMISSION_DENIED"


async def test_public_rpcs_take_anyone_and_still_verify_credentials_sent(address: str) -> None:
    assert await _call(address, "Open") == b"anonymous"
    assert await _call(address, "Open", _bearer(user_id=USER_ID)) == USER_ID.encode()
    forged = (("authorization", "Bearer not-a-token"),)
    assert await _refused(address, "Open", forged) == "UNAUTHENTICATED"


async def test_each_audience_admits_only_its_callers(address: str) -> None:
    assert await _refused(address, "Mine") == "UNAUTHENTICATED"
    assert await _call(address, "Mine", _bearer(user_id=USER_ID)) == USER_ID.encode()
    assert await _refused(address, "Internal") == "UNAUTHENTICATED"
    assert await _refused(address, "Internal", _bearer(Role.ADMIN)) == "PERMISSION_DENIED"
    assert await _refused(address, "Admin", _bearer()) == "PERMISSION_DENIED"
    assert await _call(address, "Admin", _bearer(Role.ADMIN, USER_ID)) == USER_ID.encode()
    assert await _refused(address, "AdminOnUser", _bearer()) == "NOT_FOUND"


async def test_health_stays_open_to_unsigned_probes(address: str) -> None:
    async with aio.insecure_channel(address) as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_current_caller_outside_a_verified_call_is_a_programming_error() -> None:
    with pytest.raises(RuntimeError):
        current_caller()
