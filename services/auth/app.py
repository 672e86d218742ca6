"""Composition root of the auth service: the one place real adapters are wired."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from redis.asyncio import Redis

from services.auth.accounts import Accounts, ResetPolicy, VerificationPolicy
from services.auth.admin import Admin
from services.auth.api_keys import ApiKeys
from services.auth.byok import ProviderChecker, ProviderKeys
from services.auth.credentials import Credentials
from services.auth.directory import Directory
from services.auth.key_store import ApiKeyStore, ProviderKeyStore
from services.auth.notifier import (
    DevelopmentNotifier,
    PasswordResetNotifier,
    SmtpNotifier,
    SmtpServer,
)
from services.auth.oauth import OAuthProvider, OAuthSignIns
from services.auth.provider_checks import HttpProviderChecker, ProviderEndpoints
from services.auth.rpc_policy import POLICIES
from services.auth.servicer import AuthServicer
from services.auth.store import UserStore
from services.auth.throttle import LoginThrottle, ResetRequestLimits, ThrottlePolicy
from tripsage.auth.v1 import auth_service_pb2_grpc
from tripsage_core.config import Settings
from tripsage_core.grpc_kit.caller import caller_resolver
from tripsage_core.grpc_kit.server import ServiceDefinition
from tripsage_core.grpc_kit.service_app import service_definition
from tripsage_core.identity import CLOCK_SKEW_SECONDS, access_tokens
from tripsage_core.key_encryption import key_encryption
from tripsage_core.rate_limit import WindowCounter
from tripsage_core.revocations import Revocations
from tripsage_core.runtime import ServiceRuntime

MIGRATIONS = Path(__file__).parent / "migrations"


def provider_checker(settings: Settings) -> HttpProviderChecker:
    """Live key checks at the same base URLs the travel and assistant adapters call."""
    defaults = ProviderEndpoints()
    return HttpProviderChecker(
        ProviderEndpoints(
            openai=settings.openai_base_url or defaults.openai,
            duffel=settings.duffel_api_url,
            google_maps=settings.google_geocoding_api_url,
            openweathermap=settings.openweathermap_api_url,
            mem0=settings.mem0_api_url,
        ),
        timeout=min(settings.provider_timeout_seconds, 5.0),
    )


def _counted[T](
    limits: Callable[[WindowCounter, ThrottlePolicy], T],
    client: Redis,
    counted: str,
    policy: ThrottlePolicy,
) -> T:
    """A limit over `policy`'s window whose counts live under tripsage:auth:<counted>."""
    counter = WindowCounter(
        client, prefix=f"tripsage:auth:{counted}", window_seconds=policy.window_seconds
    )
    return limits(counter, policy)


def login_throttle(settings: Settings, client: Redis) -> LoginThrottle:
    policy = ThrottlePolicy(
        window_seconds=settings.login_failure_window_seconds,
        slowdown_after=settings.login_slowdown_after_failures,
        max_per_account=settings.login_max_failures_per_account,
        max_per_address=settings.login_max_failures_per_address,
    )
    return _counted(LoginThrottle, client, "login-failures", policy)


def reset_limits(settings: Settings, client: Redis) -> ResetRequestLimits:
    policy = ThrottlePolicy(
        window_seconds=settings.password_reset_window_seconds,
        max_per_account=settings.password_reset_max_per_account,
        max_per_address=settings.password_reset_max_per_address,
    )
    return _counted(ResetRequestLimits, client, "reset-requests", policy)


def configured_notifier(settings: Settings) -> PasswordResetNotifier:
    """Email through NOTIFIER_URL; without it the development notifier (not in production)."""
    if settings.notifier_url is None:
        return DevelopmentNotifier()
    server = SmtpServer.from_url(settings.notifier_url.get_secret_value())
    return SmtpNotifier(server, from_address=settings.notifier_from)


def oauth_providers(settings: Settings) -> dict[str, OAuthProvider]:
    """The identity providers with a client id and secret configured."""
    candidates = (
        _oauth_provider(settings, "google", "oidc"),
        _oauth_provider(settings, "github", "github", scope="read:user user:email"),
    )
    return {provider.name: provider for provider in candidates if provider is not None}


def _oauth_provider(
    settings: Settings, name: str, style: Literal["oidc", "github"], **fixed: str
) -> OAuthProvider | None:
    """OAUTH_<NAME>_* as a provider: each OAuthProvider field the settings have for it."""
    client_id = getattr(settings, f"oauth_{name}_client_id")
    secret = getattr(settings, f"oauth_{name}_client_secret")
    if not (client_id and secret):
        return None
    configured = {
        f.name: getattr(settings, f"oauth_{name}_{f.name}")
        for f in dataclasses.fields(OAuthProvider)
        if f.name not in {"client_id", "client_secret"}
        and hasattr(settings, f"oauth_{name}_{f.name}")
    }
    return OAuthProvider(
        name=name,
        style=style,
        client_id=client_id,
        client_secret=secret.get_secret_value(),
        **configured,
        **fixed,
    )


async def build(
    settings: Settings,
    *,
    checker: ProviderChecker | None = None,
    notifier: PasswordResetNotifier | None = None,
) -> ServiceDefinition:
    runtime = ServiceRuntime(settings, service="auth", migrations_dir=MIGRATIONS)
    assert runtime.redis is not None
    tokens = access_tokens(settings)
    revocations = Revocations(
        runtime.redis, remember_seconds=settings.access_token_ttl_seconds + 2 * CLOCK_SKEW_SECONDS
    )
    users = UserStore(runtime.db)
    api_keys = ApiKeys(ApiKeyStore(runtime.db), users, revocations)
    accounts = Accounts(
        users,
        tokens,
        refresh_ttl_seconds=settings.refresh_token_ttl_seconds,
        revocations=revocations,
        api_keys=api_keys,
        throttle=login_throttle(settings, runtime.redis),
        notifier=notifier or configured_notifier(settings),
        reset_policy=ResetPolicy(
            settings.password_reset_url,
            settings.password_reset_ttl_seconds,
            enabled=settings.password_reset_enabled,
        ),
        reset_limits=reset_limits(settings, runtime.redis),
        verification_policy=VerificationPolicy(
            settings.email_verification_url, settings.email_verification_ttl_seconds
        ),
    )
    provider_keys = ProviderKeys(
        ProviderKeyStore(runtime.db),
        key_encryption(settings),
        checker or provider_checker(settings),
    )
    admin = Admin(users, api_keys, revocations)
    servicer = AuthServicer(
        accounts,
        credentials=Credentials(tokens, api_keys, revocations),
        directory=Directory(users),
        api_keys=api_keys,
        provider_keys=provider_keys,
        admin=admin,
        oauth=OAuthSignIns(
            oauth_providers(settings),
            redirect_uris=settings.oauth_redirect_uris,
            states=runtime.redis,
            users=users,
            accounts=accounts,
            timeout=settings.provider_timeout_seconds,
        ),
    )
    return service_definition(
        "auth",
        servicer,
        auth_service_pb2_grpc.add_AuthServiceServicer_to_server,
        POLICIES,
        caller_resolver(settings, redis_client=runtime.redis, api_keys=api_keys),
        runtime=runtime,
        is_admin=admin.is_admin,
        metrics_port=settings.metrics_port("auth"),
    )
