"""Collaborator, invitation and activity messages from the domain."""

from __future__ import annotations

from google.protobuf import struct_pb2

from services.trips.convert import word_to_enum
from services.trips.sharing import Activity, Collaborator, Invitation
from tripsage.trips.v1 import trip_service_pb2 as pb
from tripsage_core.grpc_kit.timestamps import to_timestamp


def role_to_proto(role: str) -> pb.CollaboratorRole.ValueType:
    return pb.CollaboratorRole.Value("COLLABORATOR_ROLE_" + role.upper())


def collaborator_to_proto(collaborator: Collaborator) -> pb.Collaborator:
    return pb.Collaborator(
        id=collaborator.id,
        trip_id=collaborator.trip_id,
        user_id=collaborator.user_id or "",
        email=collaborator.email,
        full_name=collaborator.full_name,
        role=role_to_proto(collaborator.role),
        state=word_to_enum(pb.CollaboratorState, collaborator.state, "COLLABORATOR_STATE_"),
        invited_by=collaborator.invited_by,
        create_time=to_timestamp(collaborator.created_at),
        update_time=to_timestamp(collaborator.updated_at),
        etag=collaborator.etag,
    )


def invitation_to_proto(invitation: Invitation) -> pb.TripInvitation:
    return pb.TripInvitation(
        id=invitation.id,
        trip_id=invitation.trip_id,
        trip_title=invitation.trip_title,
        role=role_to_proto(invitation.role),
        invited_by=invitation.invited_by,
        invited_by_name=invitation.invited_by_name,
        create_time=to_timestamp(invitation.created_at),
    )


def activity_to_proto(activity: Activity) -> pb.TripActivity:
    details = struct_pb2.Struct()
    details.update(activity.details)
    return pb.TripActivity(
        id=activity.id,
        trip_id=activity.trip_id,
        actor_id=activity.actor_id,
        kind=word_to_enum(pb.TripActivityKind, activity.kind, "TRIP_ACTIVITY_KIND_"),
        summary=activity.summary,
        details=details,
        create_time=to_timestamp(activity.created_at),
    )
