"""Domain errors: what went wrong, in terms a caller can act on, with no transport in sight.

The gRPC layer (tripsage_core.grpc_kit.status) maps each to a status code and a
google.rpc.Status carrying ErrorInfo and, where it fits, field violations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

ERROR_DOMAIN = "tripsage.app"


@dataclass(frozen=True)
class FieldViolation:
    field: str
    description: str


@dataclass
class DomainError(Exception):
    """Base of every error the services raise on purpose."""

    message: str
    # Empty: the kind's own, its gRPC status name (NotFound -> NOT_FOUND).
    reason: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    default_reason: ClassVar[str] = "ERROR"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.default_reason = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", cls.__name__).upper()

    def __post_init__(self) -> None:
        super().__init__(self.message)
        self.reason = self.reason or self.default_reason

    def __str__(self) -> str:
        return self.message


@dataclass
class InvalidArgument(DomainError):
    violations: list[FieldViolation] = field(default_factory=list)

    @classmethod
    def for_field(cls, field_name: str, description: str) -> InvalidArgument:
        return cls(
            message=f"{field_name}: {description}",
            violations=[FieldViolation(field_name, description)],
        )


class NotFound(DomainError):
    """The resource does not exist, or the caller may not learn that it does."""


class AlreadyExists(DomainError):
    """The resource to create is there already."""


class Unauthenticated(DomainError):
    """No credentials, or none that hold."""


class PermissionDenied(DomainError):
    """The caller is known but may not do this."""


class FailedPrecondition(DomainError):
    """The system is not in the state the call needs."""


class Aborted(DomainError):
    """A concurrent change won (for example a stale etag)."""


@dataclass
class RetryLater(DomainError):
    """An error that may pass: the caller may be told how long to wait before trying again."""

    retry_after_seconds: float | None = None


class ResourceExhausted(RetryLater):
    """A quota or a limit is used up for now."""


class Unavailable(RetryLater):
    """A dependency is down for now."""


class FieldErrors:
    """Collects every bad field of one request so the caller sees them all at once."""

    def __init__(self) -> None:
        self.violations: list[FieldViolation] = []

    def add(self, field_name: str, description: str) -> None:
        self.violations.append(FieldViolation(field_name, description))

    def raise_if_any(self) -> None:
        if self.violations:
            summary = "; ".join(f"{v.field}: {v.description}" for v in self.violations)
            raise InvalidArgument(message=summary, violations=list(self.violations))
