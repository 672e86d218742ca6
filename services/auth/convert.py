"""Auth records <-> protos."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format

from services.auth.key_store import ApiKeyRecord, ProviderKeyEventRecord, ProviderKeyRecord
from services.auth.store import UserRecord
from tripsage.auth.v1 import auth_service_pb2 as pb
from tripsage_core.grpc_kit.timestamps import to_timestamp
from tripsage_core.identity import Role
from tripsage_core.principal_proto import ROLE_FROM_PROTO, ROLE_TO_PROTO
from tripsage_core.provider_keys import PROVIDER_SERVICES


def provider_from_proto(value: int) -> str:
    """PROVIDER_SERVICE_GOOGLE_MAPS -> "google_maps"; "" when unset or unknown."""
    known = {int(v): n for n, v in pb.ProviderService.items()}
    name = known.get(value, "")
    service = name.removeprefix("PROVIDER_SERVICE_").lower()
    return service if service in PROVIDER_SERVICES else ""


def provider_to_proto(service: str) -> int:
    return int(pb.ProviderService.Value(f"PROVIDER_SERVICE_{service.upper()}"))


def status_to_proto(status: str) -> int:
    if not status:
        return 0
    return int(pb.ProviderKeyStatus.Value(f"PROVIDER_KEY_STATUS_{status.upper()}"))


def preferences_to_proto(preferences: dict[str, object]) -> pb.UserPreferences:
    message = pb.UserPreferences()
    json_format.ParseDict(preferences, message, ignore_unknown_fields=True)
    return message


def user_to_proto(user: UserRecord) -> pb.User:
    return pb.User(
        id=user.id,
        email=user.email,
        full_name=user.full_name,
        role=ROLE_TO_PROTO[user.role],
        preferences=preferences_to_proto(user.preferences),
        email_verified=user.email_verified,
        disabled=user.disabled,
        create_time=to_timestamp(user.created_at),
        update_time=to_timestamp(user.updated_at),
        etag=f'W/"{user.version}"',
    )


def api_key_to_proto(key: ApiKeyRecord) -> pb.ApiKey:
    message = pb.ApiKey(
        id=key.id,
        owner_id=key.owner_id,
        name=key.name,
        prefix=key.prefix,
        scopes=list(key.scopes),
        create_time=to_timestamp(key.created_at),
    )
    if key.expires_at is not None:
        message.expire_time.CopyFrom(to_timestamp(key.expires_at))
    if key.last_used_at is not None:
        message.last_use_time.CopyFrom(to_timestamp(key.last_used_at))
    if key.revoked_at is not None:
        message.revoke_time.CopyFrom(to_timestamp(key.revoked_at))
    return message


def provider_key_to_proto(key: ProviderKeyRecord) -> pb.ProviderKey:
    message = pb.ProviderKey(
        service=provider_to_proto(key.service),  # type: ignore[arg-type]
        last_four=key.last_four,
        status=status_to_proto(key.status),  # type: ignore[arg-type]
        status_message=key.status_message,
        create_time=to_timestamp(key.created_at),
        update_time=to_timestamp(key.updated_at),
    )
    if key.last_validated_at is not None:
        message.last_validate_time.CopyFrom(to_timestamp(key.last_validated_at))
    if key.last_used_at is not None:
        message.last_use_time.CopyFrom(to_timestamp(key.last_used_at))
    return message


def event_to_proto(event: ProviderKeyEventRecord) -> pb.ProviderKeyEvent:
    return pb.ProviderKeyEvent(
        id=event.id,
        service=provider_to_proto(event.service),  # type: ignore[arg-type]
        kind=int(pb.ProviderKeyEventKind.Value(f"PROVIDER_KEY_EVENT_KIND_{event.kind.upper()}")),  # type: ignore[arg-type]
        status=status_to_proto(event.status),  # type: ignore[arg-type]
        actor=event.actor,
        detail=event.detail,
        create_time=to_timestamp(event.created_at),
    )


def profile_changes(user: pb.User, paths: list[str]) -> dict[str, Any]:
    """{field path: new value} for the paths of an update mask (none: name and preferences)."""
    preferences = json_format.MessageToDict(user.preferences, preserving_proto_field_name=True)
    changes: dict[str, Any] = {}
    for path in paths or ["full_name", "preferences"]:
        if path == "full_name":
            changes[path] = user.full_name
        elif path == "preferences":
            changes[path] = preferences
        elif path.startswith("preferences."):
            changes[path] = preferences.get(path.removeprefix("preferences."))
        else:
            changes[path] = None  # refused by the domain with the list of editable fields
    return changes


def role_from_proto(value: int) -> Role | None:
    for proto_value, role in ROLE_FROM_PROTO.items():
        if proto_value == value:
            return role
    return None


def identity_provider_from_proto(value: int) -> str:
    """IDENTITY_PROVIDER_GITHUB -> "github"; "" when unset or unknown."""
    known = {int(v): n for n, v in pb.IdentityProvider.items()}
    name = known.get(value, "IDENTITY_PROVIDER_UNSPECIFIED")
    return "" if name.endswith("_UNSPECIFIED") else name.removeprefix("IDENTITY_PROVIDER_").lower()
