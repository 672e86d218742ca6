"""Auth records <-> protos."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format

from services.auth.key_store import ApiKeyRecord, ProviderKeyEventRecord, ProviderKeyRecord
from services.auth.store import UserRecord
from tripsage.auth.v1 import auth_service_pb2 as pb
from tripsage_core.identity import Role
from tripsage_core.principal_proto import ROLE_FROM_PROTO, ROLE_TO_PROTO
from tripsage_core.proto_fields import message_from
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
    return message_from(
        pb.User,
        user,
        role=ROLE_TO_PROTO[user.role],
        preferences=preferences_to_proto(user.preferences),
        etag=f'W/"{user.version}"',
    )


def api_key_to_proto(key: ApiKeyRecord) -> pb.ApiKey:
    return message_from(pb.ApiKey, key)


def provider_key_to_proto(key: ProviderKeyRecord) -> pb.ProviderKey:
    return message_from(
        pb.ProviderKey,
        key,
        service=provider_to_proto(key.service),
        status=status_to_proto(key.status),
    )


def event_to_proto(event: ProviderKeyEventRecord) -> pb.ProviderKeyEvent:
    return message_from(
        pb.ProviderKeyEvent,
        event,
        service=provider_to_proto(event.service),
        kind=pb.ProviderKeyEventKind.Value(f"PROVIDER_KEY_EVENT_KIND_{event.kind.upper()}"),
        status=status_to_proto(event.status),
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
