"""One settings class for every TripSage process, read from the environment.

Variable names follow the operators reference. Outside production, secrets that
are not set are generated once and kept in the data directory so that every
process of a local suite shares them; in production every required setting
must be given and strong, or start-up stops with one message naming each.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import sys
import time
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from tripsage_core.grpc_kit.targets import grpc_target
from tripsage_core.service_registry import DEFAULT_PORTS

GATEWAY_DEFAULT_PORT = 8000
MIN_SECRET_LENGTH = 32
# Values that appear in examples and tutorials; never acceptable in production.
_KNOWN_WEAK_SECRETS = {"changeme", "secret", "your-secret-key", "dev", "development", "test"}


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TESTING = "testing"
    STAGING = "staging"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Every setting a TripSage process reads. Secrets are SecretStr so they never print."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    environment: Environment = Environment.DEVELOPMENT
    debug: bool = False
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "text"
    # Each process also writes JSON lines to LOG_DIR/<process>.log (default
    # TRIPSAGE_DATA_DIR/logs), rotated at LOG_FILE_MAX_BYTES (0: no files) keeping
    # LOG_FILE_BACKUPS old files (docs/operations.md).
    log_dir: Path | None = None
    log_file_max_bytes: int = Field(default=10 * 1024 * 1024, ge=0)
    log_file_backups: int = Field(default=5, ge=1, le=1000)
    api_title: str = "TripSage API"
    api_version: str = "1.0.0"
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    cors_credentials: bool = False
    # Proxies (IP addresses or CIDR networks) whose X-Forwarded-For the gateway believes.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)

    secret_key: SecretStr | None = None
    # During a SECRET_KEY rotation: still accepted for service credentials and to
    # decrypt BYOK keys until `tripsage rotate-secret-key` has re-encrypted them.
    secret_key_previous: SecretStr | None = None
    # DATABASE_* are the Supabase project's: its REST URL and keys. TripSage talks
    # to PostgreSQL directly through POSTGRES_URL and only needs the JWT secret.
    database_url: str | None = None
    database_public_key: SecretStr | None = None
    database_service_key: SecretStr | None = None
    database_jwt_secret: SecretStr | None = None
    database_jwt_previous_secret: SecretStr | None = None
    # The `iss` of the access tokens TripSage mints; tokens are accepted only from it,
    # the Supabase project at DATABASE_URL and TOKEN_EXTRA_ISSUERS (accepted_token_issuers).
    token_issuer: str = Field(default="tripsage", min_length=1)
    token_extra_issuers: Annotated[list[str], NoDecode] = Field(default_factory=list)
    postgres_url: SecretStr | None = None
    # A session connection to the same database (Supabase's direct URL on 5432) for the
    # migrations, the operator commands and WatchTrip's LISTEN, when POSTGRES_URL goes
    # through a transaction-mode pooler (Supabase's on 6543); unset: POSTGRES_URL.
    postgres_direct_url: SecretStr | None = None
    # asyncpg's prepared statements kept per connection; 0 (off) behind a transaction-mode
    # pooler, which runs each transaction on whichever server connection is free.
    postgres_statement_cache_size: int = Field(default=100, ge=0, le=10_000)

    openai_api_key: SecretStr | None = None
    duffel_access_token: SecretStr | None = None
    google_maps_api_key: SecretStr | None = None
    openweathermap_api_key: SecretStr | None = None
    mem0_api_key: SecretStr | None = None
    mem0_api_url: str = "https://api.mem0.ai"

    # Redis over RESP (REDIS_URL), or Upstash's REST API (both UPSTASH_* and no REDIS_URL:
    # tripsage_core/cache.py redis_from_settings). REDIS_URL wins when both are set.
    upstash_redis_rest_url: str | None = None
    upstash_redis_rest_token: SecretStr | None = None
    redis_url: SecretStr | None = None

    otel_service_name: str | None = None
    otel_exporter_otlp_endpoint: str | None = None
    otel_exporter_otlp_headers: SecretStr | None = None
    otel_exporter_otlp_protocol: str | None = None
    otel_exporter_otlp_traces_endpoint: str | None = None
    otel_exporter_otlp_metrics_endpoint: str | None = None
    # "none" turns tracing off even with an endpoint set; "otlp" (or unset): export.
    otel_traces_exporter: Literal["otlp", "none"] | None = None
    # Each service's Prometheus port (unset: not served); TRAVEL_METRICS_PORT is below.
    auth_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    trips_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    assistant_metrics_port: int | None = Field(default=None, ge=1, le=65535)

    port: int | None = None
    auth_service_addr: str = f"localhost:{DEFAULT_PORTS['auth']}"
    trips_service_addr: str = f"localhost:{DEFAULT_PORTS['trips']}"
    travel_service_addr: str = f"localhost:{DEFAULT_PORTS['travel']}"
    assistant_service_addr: str = f"localhost:{DEFAULT_PORTS['assistant']}"

    # gRPC servers: the address they bind (the image sets 0.0.0.0), TLS and mutual TLS
    # (tripsage_core/grpc_kit/tls.py), reflection (default: on outside production).
    grpc_bind_host: str = "127.0.0.1"
    grpc_tls_cert_file: Path | None = None
    grpc_tls_key_file: Path | None = None
    grpc_tls_ca_file: Path | None = None
    grpc_tls_client_auth: bool = False
    grpc_reflection: bool | None = None

    tripsage_data_dir: Path = Path(".tripsage")
    access_token_ttl_seconds: int = Field(default=900, ge=60, le=86400)
    refresh_token_ttl_seconds: int = Field(default=30 * 86400, ge=3600)
    shutdown_grace_seconds: float = Field(default=10.0, ge=0)
    # Deadlines of the gateway's upstream calls (gateway/deadlines.py): unary calls, the
    # chat/plan/search calls that may wait on a model or provider, whole streams.
    gateway_call_timeout_seconds: float = Field(default=30.0, gt=0, le=3600)
    gateway_long_call_timeout_seconds: float = Field(default=120.0, gt=0, le=3600)
    gateway_stream_timeout_seconds: float = Field(default=300.0, gt=0, le=86400)
    # Largest request body the gateway reads (413 past it); at most the 4 MiB a
    # service accepts in one gRPC message.
    gateway_max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024, le=4 * 1024 * 1024)
    # Gateway processes sharing its port (uvicorn workers); each has its own caches.
    gateway_workers: int = Field(default=1, ge=1, le=64)
    # Seconds between keep-alive lines on an idle stream (SSE comment, NDJSON blank line),
    # so proxies and load balancers keep the connection (docs/gateway.md "Streaming").
    gateway_stream_heartbeat_seconds: float = Field(default=15.0, gt=0, le=3600)
    # Gateway rate limits per minute (docs/gateway.md#rate-limits). RATE_LIMIT_PER_MINUTE
    # is a signed-in user's limit unless RATE_LIMIT_USER_PER_MINUTE says otherwise; 0
    # there turns every gateway limit off.
    rate_limit_per_minute: int = Field(default=600, ge=0, le=1_000_000_000)
    rate_limit_anonymous_per_minute: int = Field(default=120, ge=1, le=1_000_000_000)
    rate_limit_user_per_minute: int | None = Field(default=None, ge=1, le=1_000_000_000)
    rate_limit_api_key_per_minute: int = Field(default=1200, ge=1, le=1_000_000_000)
    rate_limit_admin_per_minute: int = Field(default=3000, ge=1, le=1_000_000_000)
    rate_limit_sign_in_per_minute: int = Field(default=10, ge=1, le=1_000_000_000)
    rate_limit_chat_per_minute: int = Field(default=20, ge=1, le=1_000_000_000)
    rate_limit_search_per_minute: int = Field(default=60, ge=1, le=1_000_000_000)
    database_pool_max_size: int = Field(default=10, ge=1)
    # Bearer token that opens the gateway's internal endpoints (detailed health,
    # metrics) besides an administrator's access token (docs/operations.md).
    operator_token: SecretStr | None = None

    # Auth: sign-in throttling, password reset, API keys, OAuth sign-in (docs/auth.md).
    login_failure_window_seconds: int = Field(default=900, ge=1)
    login_slowdown_after_failures: int = Field(default=3, ge=1)
    login_max_failures_per_account: int = Field(default=5, ge=1)
    login_max_failures_per_address: int = Field(default=50, ge=1)
    password_reset_url: str = "http://localhost:3000/reset-password"
    password_reset_ttl_seconds: int = Field(default=3600, ge=60)
    # Off: RequestPasswordReset is refused, and production may run without NOTIFIER_URL.
    password_reset_enabled: bool = True
    password_reset_window_seconds: int = Field(default=3600, ge=1)
    password_reset_max_per_account: int = Field(default=3, ge=1)
    password_reset_max_per_address: int = Field(default=20, ge=1)
    # smtp://user:pass@host:port (?starttls=true) or smtps:// (implicit TLS); unset: the
    # development notifier, which logs links (refused in production).
    notifier_url: SecretStr | None = None
    notifier_from: str = "TripSage <no-reply@localhost>"
    email_verification_url: str = "http://localhost:3000/verify-email"
    email_verification_ttl_seconds: int = Field(default=86400, ge=60)
    api_key_cache_seconds: float = Field(default=5.0, ge=0)
    oauth_redirect_uris: Annotated[list[str], NoDecode] = Field(default_factory=list)
    oauth_google_client_id: str | None = None
    oauth_google_client_secret: SecretStr | None = None
    oauth_google_authorize_url: str = "https://accounts.google.com/o/oauth2/v2/auth"
    oauth_google_token_url: str = "https://oauth2.googleapis.com/token"
    oauth_google_userinfo_url: str = "https://openidconnect.googleapis.com/v1/userinfo"
    oauth_google_jwks_url: str = "https://www.googleapis.com/oauth2/v3/certs"
    oauth_google_issuer: str = "https://accounts.google.com"
    oauth_github_client_id: str | None = None
    oauth_github_client_secret: SecretStr | None = None
    oauth_github_authorize_url: str = "https://github.com/login/oauth/authorize"
    oauth_github_token_url: str = "https://github.com/login/oauth/access_token"
    oauth_github_userinfo_url: str = "https://api.github.com/user"
    oauth_github_emails_url: str = "https://api.github.com/user/emails"

    # Travel: provider base URLs (tests point them at local servers), call timeout and
    # an optional Prometheus port (docs/travel.md).
    duffel_api_url: str = "https://api.duffel.com"
    google_places_api_url: str = "https://places.googleapis.com"
    google_geocoding_api_url: str = "https://maps.googleapis.com"
    google_routes_api_url: str = "https://routes.googleapis.com"
    openweathermap_api_url: str = "https://api.openweathermap.org"
    provider_timeout_seconds: float = Field(default=10.0, gt=0)
    travel_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    travel_cache_prefix: str = "tripsage:travel"
    # Identical cached searches within this many seconds are answered from the process's
    # memory without asking Redis (0: off). Bounded by travel_local_cache_entries.
    travel_local_cache_seconds: float = Field(default=5.0, ge=0, le=60)
    travel_local_cache_entries: int = Field(default=256, ge=1, le=100_000)
    # BYOK look-ups (auth's ResolveProviderKey) are remembered this long per user and
    # provider: a stored, replaced or deleted key takes effect within it (0: ask each time).
    provider_key_cache_seconds: float = Field(default=10.0, ge=0, le=300)

    # Assistant: the OpenAI-compatible model (a user's own key, else OPENAI_API_KEY; with
    # neither and no OPENAI_BASE_URL, the offline assistant), its timeouts and each user's
    # daily allowance (docs/assistant.md).
    openai_base_url: str | None = None
    openai_model: str = Field(default="gpt-4o-mini", min_length=1)
    openai_timeout_seconds: float = Field(default=60.0, gt=0)
    openai_max_retries: int = Field(default=2, ge=0, le=10)
    # Semantic memory search (pgvector) with this OpenAI-compatible embeddings model;
    # unset: full-text search. The base URL defaults to OPENAI_BASE_URL.
    embedding_model: str | None = None
    embedding_base_url: str | None = None
    assistant_daily_messages: int = Field(default=200, ge=0)
    assistant_daily_tokens: int = Field(default=500_000, ge=0)

    # Trips: planning exchange rates for trip summaries, "USD=0.92,GBP=1.17" (value of one
    # unit in EUR), added to the built-in table (docs/trips.md).
    trips_currency_rates: str = ""
    # Open WatchTrip streams one trips process serves; more are refused (UNAVAILABLE).
    trips_max_watchers: int = Field(default=1000, ge=1, le=100_000)

    @field_validator(
        "cors_origins",
        "oauth_redirect_uris",
        "trusted_proxies",
        "token_extra_issuers",
        mode="before",
    )
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        # Accept "a,b" as well as a JSON list, since operators write both.
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator(
        "auth_service_addr", "trips_service_addr", "travel_service_addr", "assistant_service_addr"
    )
    @classmethod
    def _grpc_target(cls, value: str) -> str:
        # host:port (a DNS name: every address it resolves to gets calls) or a list of
        # IP addresses; see tripsage_core/grpc_kit/targets.py.
        grpc_target(value)
        return value.strip()

    @field_validator(
        "notifier_url",
        "postgres_url",
        "postgres_direct_url",
        "redis_url",
        "upstash_redis_rest_url",
        "upstash_redis_rest_token",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        # compose passes NOTIFIER_URL="" when it is not set; an empty POSTGRES_URL= line
        # must mean "embedded", never libpq's defaults (some local database).
        return None if value == "" else value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: list[str]) -> list[str]:
        # "*" would let a client's own X-Forwarded-For entries through; name the proxies.
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"TRUSTED_PROXIES: {entry!r} is not an IP address or CIDR network"
                ) from None
        return value

    @model_validator(mode="after")
    def _upstash_url_and_token(self) -> Settings:
        # One without the other would silently run without Redis (or fail on every call).
        url, token = self.upstash_redis_rest_url, self.upstash_redis_rest_token
        if (url is None) != (token is None or not token.get_secret_value()):
            raise ValueError("UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN go together")
        if url is not None and not url.startswith(("https://", "http://")):
            raise ValueError(
                f"UPSTASH_REDIS_REST_URL must be the database's https:// REST URL, not {url!r}"
            )
        return self

    @model_validator(mode="after")
    def _no_credentials_for_every_origin(self) -> Settings:
        # Starlette answers "*" with the request's own origin when credentials are on,
        # which would let any site act with a visitor's cookies: refused everywhere.
        if "*" in self.cors_origins and self.cors_credentials:
            raise ValueError("CORS_ORIGINS may not be '*' when CORS_CREDENTIALS is true")
        return self

    @property
    def user_rate_limit_per_minute(self) -> int:
        """A signed-in user's gateway limit: RATE_LIMIT_USER_PER_MINUTE, else the old
        RATE_LIMIT_PER_MINUTE."""
        return self.rate_limit_user_per_minute or self.rate_limit_per_minute

    @property
    def postgres_session_url(self) -> str | None:
        """Where work that needs a session (advisory locks, LISTEN, pg_dump) connects:
        POSTGRES_DIRECT_URL, else POSTGRES_URL."""
        url = self.postgres_direct_url or self.postgres_url
        return url.get_secret_value() if url is not None else None

    @property
    def postgres_listen_url(self) -> str | None:
        """Where WatchTrip LISTENs; None when only a transaction pooler is known (POSTGRES_URL
        with the statement cache off and no POSTGRES_DIRECT_URL): notifications cannot
        pass one, so watchers read the log every second instead."""
        if self.postgres_direct_url is None and self.postgres_statement_cache_size == 0:
            return None
        return self.postgres_session_url

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    @property
    def reflection_enabled(self) -> bool:
        return self.grpc_reflection if self.grpc_reflection is not None else not self.is_production

    def tls_problems(self) -> list[str]:
        """What makes the gRPC TLS settings unusable (checked in every environment)."""
        found: list[str] = []
        if (self.grpc_tls_cert_file is None) != (self.grpc_tls_key_file is None):
            found.append("GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE go together")
        if self.grpc_tls_client_auth and (
            self.grpc_tls_ca_file is None or self.grpc_tls_cert_file is None
        ):
            found.append(
                "GRPC_TLS_CLIENT_AUTH needs GRPC_TLS_CA_FILE, GRPC_TLS_CERT_FILE and "
                "GRPC_TLS_KEY_FILE"
            )
        for name in ("grpc_tls_cert_file", "grpc_tls_key_file", "grpc_tls_ca_file"):
            path = getattr(self, name)
            if path is not None and not path.is_file():
                found.append(f"{name.upper()}: no such file: {path}")
        return found

    @property
    def accepted_token_issuers(self) -> tuple[str, ...]:
        """Issuers whose access tokens every service accepts: our own, the Supabase
        project's Auth (https://<ref>.supabase.co/auth/v1) when DATABASE_URL names it,
        and any configured extras. Tokens from anyone else, or with no issuer, are refused."""
        issuers = [self.token_issuer]
        if self.database_url and self.database_url.startswith(("https://", "http://")):
            issuers.append(self.database_url.rstrip("/") + "/auth/v1")
        issuers.extend(self.token_extra_issuers)
        return tuple(dict.fromkeys(issuers))

    @property
    def log_directory(self) -> Path:
        return (self.log_dir or self.tripsage_data_dir / "logs").resolve()

    def service_addr(self, service: str) -> str:
        return str(getattr(self, f"{service}_service_addr"))

    def metrics_port(self, service: str) -> int | None:
        """Where `service` serves Prometheus metrics (<SERVICE>_METRICS_PORT), if anywhere."""
        port = getattr(self, f"{service}_metrics_port")
        return int(port) if port is not None else None

    def listen_port(self, service: str) -> int:
        """PORT wins; otherwise the port of this service's own *_SERVICE_ADDR."""
        if self.port is not None:
            return self.port
        if service == "gateway":
            return GATEWAY_DEFAULT_PORT
        return int(self.service_addr(service).rsplit(":", 1)[1])

    def problems(self) -> list[str]:
        """What makes this configuration unfit for production (empty when fit)."""
        if not self.is_production:
            return []
        found: list[str] = []
        for name in ("secret_key", "database_jwt_secret"):
            found.extend(_secret_problems(name, getattr(self, name)))
        if self.operator_token is not None:
            found.extend(_secret_problems("operator_token", self.operator_token))
        if self.postgres_url is None:
            found.append("POSTGRES_URL is required in production")
        if self.redis_url is None and self.upstash_redis_rest_url is None:
            found.append(
                "REDIS_URL is required in production (or UPSTASH_REDIS_REST_URL and"
                " UPSTASH_REDIS_REST_TOKEN)"
            )
        if self.debug:
            found.append("DEBUG must be false in production")
        if self.notifier_url is None and self.password_reset_enabled:
            # The development notifier writes live reset links to the log.
            found.append("NOTIFIER_URL is required in production (or PASSWORD_RESET_ENABLED=false)")
        return found


def _secret_problems(name: str, value: SecretStr | None) -> list[str]:
    env_name = name.upper()
    if value is None or not value.get_secret_value():
        return [f"{env_name} is required in production"]
    raw = value.get_secret_value()
    if raw.lower() in _KNOWN_WEAK_SECRETS or len(set(raw)) < 8:
        return [f"{env_name} is a well-known or low-entropy value"]
    if len(raw) < MIN_SECRET_LENGTH:
        return [f"{env_name} must be at least {MIN_SECRET_LENGTH} characters"]
    return []


class ConfigurationError(Exception):
    """Settings unfit to start with; the message names every problem."""


def load_settings(**overrides: Any) -> Settings:
    settings = Settings(**overrides)
    tls = settings.tls_problems()
    if tls:
        listing = "\n".join(f"  - {p}" for p in tls)
        raise ConfigurationError(f"TripSage cannot start: gRPC TLS settings:\n{listing}")
    problems = settings.problems()
    if problems:
        listing = "\n".join(f"  - {p}" for p in problems)
        raise ConfigurationError(f"TripSage cannot start in production:\n{listing}")
    if not settings.is_production:
        _fill_dev_secrets(settings)
    return settings


def _fill_dev_secrets(settings: Settings) -> None:
    """Generate missing secrets once per data directory, shared by the suite's processes."""
    if settings.secret_key is not None and settings.database_jwt_secret is not None:
        return
    stored = _dev_secrets(settings.tripsage_data_dir)
    if settings.secret_key is None:
        settings.secret_key = SecretStr(stored["secret_key"])
    if settings.database_jwt_secret is None:
        settings.database_jwt_secret = SecretStr(stored["jwt_secret"])


def _dev_secrets(data_dir: Path) -> dict[str, str]:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "dev-secrets.json"
    fresh = {"secret_key": secrets.token_urlsafe(48), "jwt_secret": secrets.token_urlsafe(48)}
    try:
        # O_EXCL: when several services start at once exactly one writes the file.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            text = path.read_text()
            if text:
                loaded: dict[str, str] = json.loads(text)
                return loaded
            time.sleep(0.05)
        raise ConfigurationError(f"{path} is empty; remove it to regenerate") from None
    with os.fdopen(fd, "w") as handle:
        json.dump(fresh, handle)
    return fresh


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


def get_settings_or_exit() -> Settings:
    """For entry points: a clear message and exit status 2 instead of a traceback."""
    try:
        return get_settings()
    except ConfigurationError as exc:
        print(str(exc), file=sys.stderr)
        raise SystemExit(2) from None
    except ValueError as exc:  # pydantic's ValidationError, e.g. PORT=abc
        print(f"TripSage configuration is invalid:\n{exc}", file=sys.stderr)
        raise SystemExit(2) from None
