"""Principal <-> tripsage.auth.v1.Principal, shared by auth and the services that call it."""

from __future__ import annotations

from tripsage.auth.v1 import auth_service_pb2 as pb
from tripsage_core.identity import Principal, PrincipalKind, Role
from tripsage_core.proto_fields import message_from

ROLE_TO_PROTO = {Role.USER: pb.USER_ROLE_USER, Role.ADMIN: pb.USER_ROLE_ADMIN}
ROLE_FROM_PROTO = {value: key for key, value in ROLE_TO_PROTO.items()}
_KIND_TO_PROTO = {
    PrincipalKind.USER: pb.PRINCIPAL_KIND_USER,
    PrincipalKind.API_KEY: pb.PRINCIPAL_KIND_API_KEY,
    PrincipalKind.SERVICE: pb.PRINCIPAL_KIND_SERVICE,
}
_KIND_FROM_PROTO = {value: key for key, value in _KIND_TO_PROTO.items()}


def principal_to_proto(principal: Principal) -> pb.Principal:
    return message_from(
        pb.Principal,
        principal,
        role=ROLE_TO_PROTO[principal.role],
        kind=_KIND_TO_PROTO[principal.kind],
    )


def principal_from_proto(message: pb.Principal) -> Principal:
    return Principal(
        user_id=message.user_id,
        email=message.email,
        role=ROLE_FROM_PROTO.get(message.role, Role.USER),
        session_id=message.session_id,
        kind=_KIND_FROM_PROTO.get(message.kind, PrincipalKind.USER),
        scopes=tuple(message.scopes),
        api_key_id=message.api_key_id,
    )
