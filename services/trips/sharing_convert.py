"""Collaborator, invitation and activity messages from the domain."""

from __future__ import annotations

from google.protobuf import struct_pb2

from services.trips.convert import word_to_enum
from services.trips.sharing import Activity, Collaborator, Invitation
from tripsage.trips.v1 import trip_service_pb2 as pb
from tripsage_core.proto_fields import message_from


def role_to_proto(role: str) -> pb.CollaboratorRole.ValueType:
    return pb.CollaboratorRole.Value("COLLABORATOR_ROLE_" + role.upper())


def collaborator_to_proto(collaborator: Collaborator) -> pb.Collaborator:
    return message_from(
        pb.Collaborator,
        collaborator,
        role=role_to_proto(collaborator.role),
        state=word_to_enum(pb.CollaboratorState, collaborator.state, "COLLABORATOR_STATE_"),
    )


def invitation_to_proto(invitation: Invitation) -> pb.TripInvitation:
    return message_from(
        pb.TripInvitation,
        invitation,
        role=role_to_proto(invitation.role),
    )


def activity_to_proto(activity: Activity) -> pb.TripActivity:
    details = struct_pb2.Struct()
    details.update(activity.details)
    return message_from(
        pb.TripActivity,
        activity,
        kind=word_to_enum(pb.TripActivityKind, activity.kind, "TRIP_ACTIVITY_KIND_"),
        details=details,
    )
