"""Composition root of the auth service: the one place real adapters are wired."""

from __future__ import annotations

from pathlib import Path

from grpc import aio
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
from tripsage.auth.v1 import auth_service_pb2, auth_service_pb2_grpc
from tripsage_core.config import Settings
from tripsage_core.grpc_kit.caller import caller_resolver
from tripsage_core.grpc_kit.server import ServiceDefinition
from tripsage_core.identity import CLOCK_SKEW_SECONDS, access_tokens
from tripsage_core.key_encryption import key_encryption
from tripsage_core.rate_limit import WindowCounter
from tripsage_core.revocations import Revocations
from tripsage_core.runtime import ServiceRuntime

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = auth_service_pb2.DESCRIPTOR.services_by_name["AuthService"].full_name


def provider_checker(settings: Settings) -> HttpProviderChecker:
    """Live key checks at the same base URLs the travel and assistant adapters call."""
    defaults = ProviderEndpoints()
    return HttpProviderChecker(
        ProviderEndpoints(
            openai=settings.openai_base_url or defaults.openai,
            duffel=settings.duffel_api_url,
            google_maps=settings.google_geocoding_api_url,
            openweathermap=settings.openweathermap_api_url,
            mem0=getattr(settings, "mem0_api_url", None) or defaults.mem0,
        ),
        timeout=min(settings.provider_timeout_seconds, 5.0),
    )


def login_throttle(settings: Settings, client: Redis) -> LoginThrottle:
    window = settings.login_failure_window_seconds
    return LoginThrottle(
        WindowCounter(client, prefix="tripsage:auth:login-failures", window_seconds=window),
        ThrottlePolicy(
            window_seconds=window,
            slowdown_after=settings.login_slowdown_after_failures,
            max_per_account=settings.login_max_failures_per_account,
            max_per_address=settings.login_max_failures_per_address,
        ),
    )


def reset_limits(settings: Settings, client: Redis) -> ResetRequestLimits:
    window = settings.password_reset_window_seconds
    return ResetRequestLimits(
        WindowCounter(client, prefix="tripsage:auth:reset-requests", window_seconds=window),
        ThrottlePolicy(
            window_seconds=window,
            max_per_account=settings.password_reset_max_per_account,
            max_per_address=settings.password_reset_max_per_address,
        ),
    )


def configured_notifier(settings: Settings) -> PasswordResetNotifier:
    """Email through NOTIFIER_URL; without it the development notifier (not in production)."""
    if settings.notifier_url is None:
        return DevelopmentNotifier()
    server = SmtpServer.from_url(settings.notifier_url.get_secret_value())
    return SmtpNotifier(server, from_address=settings.notifier_from)


def oauth_providers(settings: Settings) -> dict[str, OAuthProvider]:
    """The identity providers with a client id and secret configured."""
    found: dict[str, OAuthProvider] = {}
    if settings.oauth_google_client_id and settings.oauth_google_client_secret:
        found["google"] = OAuthProvider(
            name="google",
            style="oidc",
            client_id=settings.oauth_google_client_id,
            client_secret=settings.oauth_google_client_secret.get_secret_value(),
            authorize_url=settings.oauth_google_authorize_url,
            token_url=settings.oauth_google_token_url,
            userinfo_url=settings.oauth_google_userinfo_url,
            jwks_url=settings.oauth_google_jwks_url,
            issuer=settings.oauth_google_issuer,
        )
    if settings.oauth_github_client_id and settings.oauth_github_client_secret:
        found["github"] = OAuthProvider(
            name="github",
            style="github",
            client_id=settings.oauth_github_client_id,
            client_secret=settings.oauth_github_client_secret.get_secret_value(),
            authorize_url=settings.oauth_github_authorize_url,
            token_url=settings.oauth_github_token_url,
            userinfo_url=settings.oauth_github_userinfo_url,
            emails_url=settings.oauth_github_emails_url,
            scope="read:user user:email",
        )
    return found


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

    def register(server: aio.Server) -> None:
        auth_service_pb2_grpc.add_AuthServiceServicer_to_server(servicer, server)

    return ServiceDefinition(
        name="auth",
        service_names=[SERVICE_NAME],
        register=register,
        access={SERVICE_NAME: POLICIES},
        callers=caller_resolver(settings, redis_client=runtime.redis, api_keys=api_keys),
        is_admin=admin.is_admin,
        readiness=runtime.ready,
        on_stop=runtime.close,
        components=runtime.components,
    )
