"""Who may call what: one declared policy per RPC, enforced by a server interceptor.

Each service declares, in one table, the audience of every RPC it serves. The
interceptor authenticates the caller before the servicer runs and refuses what
the policy does not admit; servicers read the verified caller with
`current_caller()` instead of authenticating by hand. An RPC without a declared
policy is refused, so a new RPC cannot be left open by forgetting a check.
Health and reflection belong to the kit and are public.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from grpc_health.v1 import health
from grpc_reflection.v1alpha import reflection

from tripsage_core.errors import NotFound, PermissionDenied, Unauthenticated
from tripsage_core.grpc_kit.caller import CallerResolver
from tripsage_core.grpc_kit.interceptors import AroundInterceptor, iterate
from tripsage_core.identity import Principal, current_principal_var

# Services of the kit itself, open to every caller (orchestrators probe health unsigned).
KIT_SERVICES = frozenset(
    {health.SERVICE_NAME, reflection.SERVICE_NAME, "grpc.reflection.v1.ServerReflection"}
)


class Audience(StrEnum):
    """Who an RPC is for."""

    # Anyone. Credentials, when sent, are verified and the caller made available.
    PUBLIC = "public"
    # A signed-in user, or an API key acting for one (its scopes must allow the RPC).
    USER = "user"
    # Another TripSage service, acting for an end user or for itself.
    SERVICE = "service"
    # A signed-in administrator (the role confirmed by the service's `is_admin`).
    ADMIN = "admin"


@dataclass(frozen=True)
class Policy:
    audience: Audience
    # Besides the audience, TripSage services may call it too (acting for nobody).
    services_too: bool = False
    # Refused callers see NOT_FOUND: the RPC names a resource (another user, say) whose
    # existence they may not learn.
    hidden: bool = False


PUBLIC = Policy(Audience.PUBLIC)
USER = Policy(Audience.USER)
SERVICE = Policy(Audience.SERVICE)
ADMIN = Policy(Audience.ADMIN)
USER_OR_SERVICE = Policy(Audience.USER, services_too=True)

# RPC name -> policy, for one gRPC service ("tripsage.trips.v1.TripService").
AccessTable = Mapping[str, Policy]


def current_caller() -> Principal:
    """The verified caller of the RPC being served (its policy required one)."""
    principal = current_principal_var.get()
    if principal is None:
        raise RuntimeError("no verified caller: this RPC's policy admits anonymous calls")
    return principal


def optional_caller() -> Principal | None:
    """The verified caller of a PUBLIC RPC, or None when it came without credentials."""
    return current_principal_var.get()


AdminCheck = Callable[[Principal], Awaitable[bool]]


async def _token_says_admin(principal: Principal) -> bool:
    return principal.is_admin


class Access:
    """The declared policies of a server's RPCs and how a call is admitted by its own.

    `is_admin` confirms the administrator role; by default the token's role claim, while
    auth reads its own records so that a role change takes effect at once. The kit's
    ServerKit interceptor looks a method's policy up once and admits every call by it.
    """

    def __init__(
        self,
        tables: Mapping[str, AccessTable],
        callers: CallerResolver | None,
        *,
        is_admin: AdminCheck | None = None,
    ) -> None:
        self.tables = tables
        self.callers = callers
        self.is_admin = is_admin or _token_says_admin

    def policy(self, method: str) -> Policy | None:
        service, _, rpc = method.lstrip("/").partition("/")
        if service in KIT_SERVICES:
            return PUBLIC
        return self.tables.get(service, {}).get(rpc)

    async def admit(self, policy: Policy | None, method: str, context: Any) -> None:
        current_principal_var.set(None)
        if policy is None:
            raise PermissionDenied(
                f"{method} has no declared access policy", reason="NO_ACCESS_POLICY"
            )
        if policy.audience is Audience.PUBLIC:
            if self.callers is not None and self.callers.has_credentials(context):
                await self.callers.require(context, allow_service=True)
            return
        if self.callers is None:
            raise Unauthenticated("this service accepts no credentials", reason="TOKEN_MISSING")
        service_ok = policy.audience is Audience.SERVICE or policy.services_too
        principal = await self.callers.require(context, allow_service=service_ok)
        if policy.audience is Audience.SERVICE and not principal.is_service:
            raise PermissionDenied(
                "only TripSage services may make this call", reason="SERVICE_ONLY"
            )
        if policy.audience is Audience.ADMIN and not await self.is_admin(principal):
            if policy.hidden:
                raise NotFound("not found")
            raise PermissionDenied("only administrators may make this call", reason="ADMIN_ONLY")


class AccessInterceptor(AroundInterceptor):
    """The access policy as an interceptor of its own, for servers assembled by hand
    (after the kit's default_interceptors(), whose error mapping turns its refusals
    into statuses). GrpcService gives the policy to its ServerKit instead."""

    def __init__(
        self,
        tables: Mapping[str, AccessTable],
        callers: CallerResolver | None,
        *,
        is_admin: AdminCheck | None = None,
    ) -> None:
        self.access = Access(tables, callers, is_admin=is_admin)

    async def admit(self, method: str, context: Any) -> None:
        await self.access.admit(self.access.policy(method), method, context)

    async def unary(self, inner: Any, request: Any, context: Any, method: str) -> Any:
        await self.admit(method, context)
        return await inner(request, context)

    async def stream(
        self, inner: Any, request: Any, context: Any, method: str
    ) -> AsyncIterator[Any]:
        await self.admit(method, context)
        async for item in iterate(inner(request, context)):
            yield item
