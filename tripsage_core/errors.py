"""Domain errors: what went wrong, in terms a caller can act on, with no transport in sight.

The gRPC layer (tripsage_core.grpc_kit.status) maps each to a status code and a
google.rpc.Status carrying ErrorInfo and, where it fits, field violations.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ERROR_DOMAIN = "tripsage.app"


@dataclass(frozen=True)
class FieldViolation:
    field: str
    description: str


@dataclass
class DomainError(Exception):
    """Base of every error the services raise on purpose."""

    message: str
    reason: str = "ERROR"
    metadata: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


@dataclass
class InvalidArgument(DomainError):
    reason: str = "INVALID_ARGUMENT"
    violations: list[FieldViolation] = field(default_factory=list)

    @classmethod
    def for_field(cls, field_name: str, description: str) -> InvalidArgument:
        return cls(
            message=f"{field_name}: {description}",
            violations=[FieldViolation(field_name, description)],
        )


@dataclass
class NotFound(DomainError):
    reason: str = "NOT_FOUND"


@dataclass
class AlreadyExists(DomainError):
    reason: str = "ALREADY_EXISTS"


@dataclass
class Unauthenticated(DomainError):
    reason: str = "UNAUTHENTICATED"


@dataclass
class PermissionDenied(DomainError):
    reason: str = "PERMISSION_DENIED"


@dataclass
class FailedPrecondition(DomainError):
    reason: str = "FAILED_PRECONDITION"


@dataclass
class Aborted(DomainError):
    """A concurrent change won (for example a stale etag)."""

    reason: str = "ABORTED"


@dataclass
class RetryLater(DomainError):
    """An error that may pass: the caller may be told how long to wait before trying again."""

    retry_after_seconds: float | None = None


@dataclass
class ResourceExhausted(RetryLater):
    reason: str = "RESOURCE_EXHAUSTED"


@dataclass
class Unavailable(RetryLater):
    reason: str = "UNAVAILABLE"


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
