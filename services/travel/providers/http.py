"""One HTTP call to a provider, with the failure handling every adapter needs.

Every call has a timeout. Idempotent calls are retried a bounded number of times
with exponential backoff (tenacity) on timeouts, connection errors and 5xx. A 429
is respected: its Retry-After is waited out when short, otherwise the provider is
not called again until it passes. A circuit breaker per provider fails calls fast
while the provider keeps failing. Whatever happens, the caller sees one of the
ProviderError types below, never a raw httpx error.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from services.travel.metrics import PROVIDER_LATENCY
from tripsage_core.circuit_breaker import CircuitBreaker, CircuitOpen

# A Retry-After up to this long is waited out inside the call; longer ones fail it.
MAX_INLINE_RETRY_AFTER_SECONDS = 2.0


class ProviderError(Exception):
    def __init__(self, provider: str, message: str) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.detail = message


class ProviderUnavailable(ProviderError):
    """Down, timing out, failing with 5xx, rate limited, or its circuit is open."""

    def __init__(self, provider: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(provider, message)
        self.retry_after = retry_after


class ProviderRejected(ProviderError):
    """The provider refused the request itself (400/422): retrying will not help."""


class ProviderAuthFailed(ProviderError):
    """The provider refused the key (401/403)."""


class ProviderNotFound(ProviderError):
    """The provider does not know the resource (404)."""


class _Transient(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After is either delay-seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class ProviderHttp:
    def __init__(
        self,
        provider: str,
        base_url: str,
        *,
        timeout: float = 10.0,
        attempts: int = 3,
        backoff_seconds: float = 0.2,
        breaker: CircuitBreaker | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.provider = provider
        self.attempts = attempts
        self.backoff_seconds = backoff_seconds
        self.breaker = breaker or CircuitBreaker(provider)
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=httpx.Timeout(timeout),
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "TripSage-travel/1"},
        )
        self._blocked_until = 0.0

    async def aclose(self) -> None:
        await self._client.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        idempotent: bool,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        json: Any = None,
    ) -> Any:
        """The decoded JSON body of a successful call."""
        blocked_for = self._blocked_until - time.monotonic()
        if blocked_for > 0:
            raise ProviderUnavailable(self.provider, "rate limited by the provider", blocked_for)
        try:
            self.breaker.before_call()
        except CircuitOpen as exc:
            raise ProviderUnavailable(
                self.provider, "failing repeatedly; paused", exc.retry_after_seconds
            ) from None
        started = time.perf_counter()
        outcome = "error"
        try:
            response = await self._with_retries(
                method, path, idempotent, headers=headers, params=params, json=json
            )
            outcome = str(response.status_code)
            return self._decode(response)
        finally:
            PROVIDER_LATENCY.labels(self.provider, operation, outcome).observe(
                time.perf_counter() - started
            )

    async def _with_retries(
        self,
        method: str,
        path: str,
        idempotent: bool,
        **kwargs: Any,
    ) -> httpx.Response:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.attempts if idempotent else 1),
            wait=self._wait,
            retry=retry_if_exception_type(_Transient),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._once(method, path, **kwargs)
        except _Transient as exc:
            if exc.retry_after is not None:
                # A 429 is the provider protecting itself, not a failure of it.
                self._blocked_until = time.monotonic() + exc.retry_after
                raise ProviderUnavailable(self.provider, str(exc), exc.retry_after) from None
            self.breaker.record_failure()
            raise ProviderUnavailable(self.provider, str(exc)) from None
        raise AssertionError("unreachable: tenacity either returns or raises")

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, _Transient) and exc.retry_after is not None:
            return exc.retry_after
        backoff = wait_exponential(multiplier=self.backoff_seconds, max=2.0)
        return float(backoff(state))

    async def _once(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._client.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise _Transient("timed out") from None
        except httpx.TransportError as exc:
            raise _Transient(f"not reachable ({type(exc).__name__})") from None
        if response.status_code == 429:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            retry_after = 1.0 if retry_after is None else retry_after
            if retry_after <= MAX_INLINE_RETRY_AFTER_SECONDS:
                raise _Transient("rate limited (429)", retry_after)
            self._blocked_until = time.monotonic() + retry_after
            raise ProviderUnavailable(self.provider, "rate limited (429)", retry_after)
        if response.status_code >= 500:
            raise _Transient(f"answered {response.status_code}")
        return response

    def _decode(self, response: httpx.Response) -> Any:
        status = response.status_code
        if status < 400:
            self.breaker.record_success()
            try:
                return response.json()
            except ValueError:
                self.breaker.record_failure()
                raise ProviderUnavailable(self.provider, "answered with malformed JSON") from None
        # A 4xx means the provider is up and answered; the circuit stays closed.
        self.breaker.record_success()
        message = _error_message(response)
        if status in (401, 403) or _google_key_invalid(response):
            raise ProviderAuthFailed(self.provider, message)
        if status == 404:
            raise ProviderNotFound(self.provider, message)
        raise ProviderRejected(self.provider, message)


def _error_message(response: httpx.Response) -> str:
    """The provider's own words, from Duffel's, Google's or OpenWeatherMap's error bodies."""
    try:
        body = response.json()
    except ValueError:
        return f"answered {response.status_code}"
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return str(errors[0].get("message") or errors[0].get("title") or errors[0])
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if body.get("message"):
            return str(body["message"])
        if body.get("error_message"):
            return str(body["error_message"])
    return f"answered {response.status_code}"


def _google_key_invalid(response: httpx.Response) -> bool:
    """Google answers a bad key with 400 and an ErrorInfo reason of API_KEY_INVALID."""
    try:
        details = response.json().get("error", {}).get("details", [])
    except (ValueError, AttributeError):
        return False
    return any(isinstance(d, dict) and d.get("reason") == "API_KEY_INVALID" for d in details)
