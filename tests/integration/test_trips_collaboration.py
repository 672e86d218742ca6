"""Sharing trips: collaborators by email, roles, invitations, leaving and ownership."""

from __future__ import annotations

import grpc
import httpx
import pytest
import pytest_asyncio

from tests.support.accounts import PASSWORD, Account, unique_email, verified
from tests.support.suite import RunningSuite
from tests.support.trips import Cast, code_of, create_trip, share
from tripsage.auth.v1 import auth_service_pb2 as auth_pb
from tripsage.auth.v1 import auth_service_pb2_grpc as auth_grpc
from tripsage.trips.v1 import trip_service_pb2 as pb
from tripsage.trips.v1 import trip_service_pb2_grpc as pb_grpc

pytestmark = pytest.mark.database


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def cast(suite: RunningSuite) -> Cast:
    """One cast for the module (registering is slow on purpose); each test makes its own trips."""
    return await Cast.register(suite)


async def test_adding_an_account_is_an_invitation_that_waits_for_consent(
    trips: pb_grpc.TripServiceAsyncStub,
    http: httpx.AsyncClient,
    cast: Cast,
) -> None:
    trip = await create_trip(trips, cast.owner, title="Kyoto")
    path = f"/api/v1/trips/{trip.id}/collaborators"
    added = await http.post(
        path, headers=cast.owner.headers,
        json={"email": cast.view.email.upper(), "role": "COLLABORATOR_ROLE_VIEW"},
    )  # fmt: skip
    assert added.status_code == 200, added.text
    invited = added.json()["collaborator"]
    # The inviter sees the address and "invited", nothing of the account behind it: the
    # answer has the same shape as for an address nobody registered.
    assert invited["state"] == "COLLABORATOR_STATE_PENDING"
    assert invited["email"] == cast.view.email
    assert invited.get("userId", "") == ""
    assert invited.get("fullName", "") == ""
    nobody = await http.post(
        path, headers=cast.owner.headers, json={"email": unique_email("nobody")}
    )
    assert set(nobody.json()["collaborator"]) == set(invited)
    # Until they accept, the invitee is not on the trip and it is not in their list.
    assert (
        await http.get(f"/api/v1/trips/{trip.id}", headers=cast.view.headers)
    ).status_code == 404
    listed = await http.get("/api/v1/trips", headers=cast.view.headers)
    assert trip.id not in {t["id"] for t in listed.json().get("trips", [])}
    viewer = cast.view
    waiting = await http.get("/api/v1/trip-invitations", headers=viewer.headers)
    assert [i["tripId"] for i in waiting.json()["invitations"]] == [trip.id]
    accepted = await http.post(
        f"/api/v1/trip-invitations/{invited['id']}:accept", headers=viewer.headers, json={}
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["trip"]["callerAccess"] == "TRIP_ACCESS_VIEW"
    people = await http.get(path, headers=cast.view.headers)
    joined = {c["email"]: c for c in people.json()["collaborators"]}[cast.view.email]
    assert (joined["userId"], joined["state"], joined["fullName"]) == (
        cast.view.id, "COLLABORATOR_STATE_ACTIVE", "viewer"
    )  # fmt: skip
    log = await http.get(f"/api/v1/trips/{trip.id}/activity", headers=cast.owner.headers)
    kinds = [(a["kind"], a["summary"]) for a in log.json()["activities"]]
    assert ("TRIP_ACTIVITY_KIND_COLLABORATOR_ADDED", f"invited {cast.view.email} as view") in kinds
    assert kinds[0][0] == "TRIP_ACTIVITY_KIND_INVITATION_ACCEPTED"
    # Inviting them again is a conflict; inviting yourself is bad input naming the field.
    again = await http.post(path, headers=cast.owner.headers, json={"email": cast.view.email})
    assert again.status_code == 409, again.text
    myself = await http.post(
        path, headers=cast.owner.headers, json={"email": cast.owner.email.upper()}
    )
    assert myself.status_code == 400, myself.text
    assert "email" in myself.text


async def test_a_declined_invitation_never_makes_a_member(
    trips: pb_grpc.TripServiceAsyncStub, cast: Cast
) -> None:
    trip = await create_trip(trips, cast.owner, title="Bergen")
    invitation = await share(trips, cast.owner, trip.id, cast.edit.email, "edit")
    await trips.DeclineTripInvitation(
        pb.DeclineTripInvitationRequest(invitation_id=invitation.id),
        metadata=cast.edit.metadata,
    )
    assert (
        await code_of(
            trips.GetTrip(pb.GetTripRequest(trip_id=trip.id), metadata=cast.edit.metadata)
        )
        == grpc.StatusCode.NOT_FOUND
    )
    people = await trips.ListCollaborators(
        pb.ListCollaboratorsRequest(trip_id=trip.id), metadata=cast.owner.metadata
    )
    assert list(people.collaborators) == []


async def test_roles_change_and_an_admin_manages_people(
    trips: pb_grpc.TripServiceAsyncStub, cast: Cast
) -> None:
    trip = await cast.shared_trip(trips)
    people = await trips.ListCollaborators(
        pb.ListCollaboratorsRequest(trip_id=trip.id, page_size=2), metadata=cast.admin.metadata
    )
    assert len(people.collaborators) == 2
    assert people.next_page_token
    rest = await trips.ListCollaborators(
        pb.ListCollaboratorsRequest(trip_id=trip.id, page_token=people.next_page_token),
        metadata=cast.admin.metadata,
    )
    everyone = {c.user_id: c for c in [*people.collaborators, *rest.collaborators]}
    assert set(everyone) == {cast.view.id, cast.edit.id, cast.admin.id}
    viewer = everyone[cast.view.id]
    # The admin promotes the viewer, checking the etag; a stale etag is ABORTED.
    promoted = (
        await trips.UpdateCollaboratorRole(
            pb.UpdateCollaboratorRoleRequest(
                trip_id=trip.id, collaborator_id=viewer.id, role=pb.COLLABORATOR_ROLE_EDIT,
                etag=viewer.etag,
            ),
            metadata=cast.admin.metadata,
        )
    ).collaborator  # fmt: skip
    assert promoted.role == pb.COLLABORATOR_ROLE_EDIT
    stale = trips.UpdateCollaboratorRole(
        pb.UpdateCollaboratorRoleRequest(
            trip_id=trip.id, collaborator_id=viewer.id, role=pb.COLLABORATOR_ROLE_ADMIN,
            etag=viewer.etag,
        ),
        metadata=cast.admin.metadata,
    )  # fmt: skip
    assert await code_of(stale) == grpc.StatusCode.ABORTED
    edited = await trips.UpdateTrip(
        pb.UpdateTripRequest(trip=pb.Trip(id=trip.id, title="Now editable"),
                             update_mask={"paths": ["title"]}),
        metadata=cast.view.metadata,
    )  # fmt: skip
    assert edited.trip.title == "Now editable"
    # An editor may not manage people; the admin removes the editor.
    editor = everyone[cast.edit.id]
    assert (
        await code_of(
            trips.RemoveCollaborator(
                pb.RemoveCollaboratorRequest(trip_id=trip.id, collaborator_id=viewer.id),
                metadata=cast.edit.metadata,
            )
        )
        == grpc.StatusCode.PERMISSION_DENIED
    )
    await trips.RemoveCollaborator(
        pb.RemoveCollaboratorRequest(trip_id=trip.id, collaborator_id=editor.id),
        metadata=cast.admin.metadata,
    )
    assert (
        await code_of(
            trips.GetTrip(pb.GetTripRequest(trip_id=trip.id), metadata=cast.edit.metadata)
        )
        == grpc.StatusCode.NOT_FOUND
    )


async def test_a_collaborator_leaves_and_the_owner_cannot(
    trips: pb_grpc.TripServiceAsyncStub, cast: Cast
) -> None:
    trip = await cast.shared_trip(trips)
    await trips.LeaveTrip(pb.LeaveTripRequest(trip_id=trip.id), metadata=cast.edit.metadata)
    assert (
        await code_of(
            trips.GetTrip(pb.GetTripRequest(trip_id=trip.id), metadata=cast.edit.metadata)
        )
        == grpc.StatusCode.NOT_FOUND
    )
    assert (
        await code_of(
            trips.LeaveTrip(pb.LeaveTripRequest(trip_id=trip.id), metadata=cast.owner.metadata)
        )
        == grpc.StatusCode.FAILED_PRECONDITION
    )
    log = await trips.ListTripActivity(
        pb.ListTripActivityRequest(trip_id=trip.id), metadata=cast.owner.metadata
    )
    assert log.activities[0].kind == pb.TRIP_ACTIVITY_KIND_COLLABORATOR_LEFT
    assert log.activities[0].actor_id == cast.edit.id


async def test_ownership_moves_to_a_collaborator(
    trips: pb_grpc.TripServiceAsyncStub, cast: Cast
) -> None:
    trip = await cast.shared_trip(trips)
    assert (
        await code_of(
            trips.TransferTripOwnership(
                pb.TransferTripOwnershipRequest(trip_id=trip.id, new_owner_id=cast.stranger.id),
                metadata=cast.owner.metadata,
            )
        )
        == grpc.StatusCode.FAILED_PRECONDITION
    )
    moved = (
        await trips.TransferTripOwnership(
            pb.TransferTripOwnershipRequest(
                trip_id=trip.id, new_owner_id=cast.edit.id, etag=trip.etag
            ),
            metadata=cast.owner.metadata,
        )
    ).trip
    assert moved.owner_id == cast.edit.id
    assert moved.caller_access == pb.TRIP_ACCESS_ADMIN  # the previous owner stays as admin
    as_new_owner = await trips.GetTrip(
        pb.GetTripRequest(trip_id=trip.id), metadata=cast.edit.metadata
    )
    assert as_new_owner.trip.caller_access == pb.TRIP_ACCESS_OWNER
    # Only the owner deletes: now the former owner cannot.
    assert (
        await code_of(
            trips.DeleteTrip(pb.DeleteTripRequest(trip_id=trip.id), metadata=cast.owner.metadata)
        )
        == grpc.StatusCode.PERMISSION_DENIED
    )


async def test_only_a_verified_address_claims_an_invitation(
    trips: pb_grpc.TripServiceAsyncStub,
    http: httpx.AsyncClient,
    suite: RunningSuite,
    cast: Cast,
) -> None:
    trip = await create_trip(trips, cast.owner, title="Oslo")
    newcomer_email = unique_email("newcomer")
    pending = await share(trips, cast.owner, trip.id, newcomer_email, "edit")
    assert pending.state == pb.COLLABORATOR_STATE_PENDING
    assert pending.user_id == ""
    summary = await trips.GetTripSummary(
        pb.GetTripSummaryRequest(trip_id=trip.id), metadata=cast.owner.metadata
    )
    assert summary.summary.collaborator_count == 0
    # Whoever registers the address, in any letter case, gets nothing until it is verified:
    # not the trip, not the invitation, and accepting it is NOT_FOUND.
    squatter = await _register_as(suite, newcomer_email.upper())
    assert (await http.get(f"/api/v1/trips/{trip.id}", headers=squatter.headers)).status_code == 404
    listed = await http.get("/api/v1/trips", headers=squatter.headers)
    assert listed.json().get("trips", []) == []
    invitations = await http.get("/api/v1/trip-invitations", headers=squatter.headers)
    assert invitations.json().get("invitations", []) == []
    taken = await http.post(
        f"/api/v1/trip-invitations/{pending.id}:accept", headers=squatter.headers, json={}
    )
    assert taken.status_code == 404, taken.text
    # Verified, the address holder sees the invitation and joins only by accepting it.
    newcomer = await verified(suite, squatter)
    listed = await http.get("/api/v1/trips", headers=newcomer.headers)
    assert listed.json().get("trips", []) == []
    invitations = await http.get("/api/v1/trip-invitations", headers=newcomer.headers)
    assert [i["id"] for i in invitations.json()["invitations"]] == [pending.id]
    accepted = await http.post(
        f"/api/v1/trip-invitations/{pending.id}:accept", headers=newcomer.headers, json={}
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["trip"]["callerAccess"] == "TRIP_ACCESS_EDIT"
    people = await trips.ListCollaborators(
        pb.ListCollaboratorsRequest(trip_id=trip.id), metadata=cast.owner.metadata
    )
    assert [(c.id, c.user_id, c.state, c.full_name) for c in people.collaborators] == [
        (pending.id, newcomer.id, pb.COLLABORATOR_STATE_ACTIVE, "newcomer")
    ]
    log = await trips.ListTripActivity(
        pb.ListTripActivityRequest(trip_id=trip.id), metadata=newcomer.metadata
    )
    assert log.activities[0].kind == pb.TRIP_ACTIVITY_KIND_INVITATION_ACCEPTED


async def test_invitations_are_listed_accepted_and_declined_over_the_gateway(
    trips: pb_grpc.TripServiceAsyncStub,
    http: httpx.AsyncClient,
    suite: RunningSuite,
    cast: Cast,
) -> None:
    first = await create_trip(trips, cast.owner, title="Rome")
    second = await create_trip(trips, cast.owner, title="Naples")
    email = unique_email("invitee")
    added = await http.post(
        f"/api/v1/trips/{first.id}/collaborators",
        headers=cast.owner.headers,
        json={"email": email, "role": "COLLABORATOR_ROLE_ADMIN", "message": "Join us"},
    )
    assert added.status_code == 200, added.text
    assert added.json()["collaborator"]["state"] == "COLLABORATOR_STATE_PENDING"
    await share(trips, cast.owner, second.id, email, "view")
    invitee = await verified(suite, await _register_as(suite, email))
    listed = await http.get("/api/v1/trip-invitations", headers=invitee.headers)
    assert listed.status_code == 200, listed.text
    invitations = {i["tripTitle"]: i for i in listed.json()["invitations"]}
    assert set(invitations) == {"Rome", "Naples"}
    assert invitations["Rome"]["role"] == "COLLABORATOR_ROLE_ADMIN"
    assert invitations["Rome"]["invitedByName"] == "owner"
    # Someone else cannot accept an invitation sent to this email.
    stolen = await http.post(
        f"/api/v1/trip-invitations/{invitations['Rome']['id']}:accept",
        headers=cast.stranger.headers, json={},
    )  # fmt: skip
    assert stolen.status_code == 404
    accepted = await http.post(
        f"/api/v1/trip-invitations/{invitations['Rome']['id']}:accept",
        headers=invitee.headers, json={},
    )  # fmt: skip
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["trip"]["callerAccess"] == "TRIP_ACCESS_ADMIN"
    declined = await http.post(
        f"/api/v1/trip-invitations/{invitations['Naples']['id']}:decline",
        headers=invitee.headers, json={},
    )  # fmt: skip
    assert declined.status_code == 200, declined.text
    after = await http.get("/api/v1/trip-invitations", headers=invitee.headers)
    assert after.json().get("invitations", []) == []
    hidden = await http.get(f"/api/v1/trips/{second.id}", headers=invitee.headers)
    assert hidden.status_code == 404
    people = await http.get(f"/api/v1/trips/{first.id}/collaborators", headers=invitee.headers)
    assert [c["userId"] for c in people.json()["collaborators"]] == [invitee.id]
    bad = await http.post(
        f"/api/v1/trips/{first.id}/collaborators",
        headers=cast.owner.headers, json={"email": "not an email"},
    )  # fmt: skip
    assert bad.status_code == 400
    assert "email" in bad.text


async def _register_as(suite: RunningSuite, email: str) -> Account:
    async with grpc.aio.insecure_channel(suite.address("auth")) as channel:
        reply = await auth_grpc.AuthServiceStub(channel).Register(
            auth_pb.RegisterRequest(email=email, password=PASSWORD, full_name="newcomer")
        )
    return Account(reply.user.id, reply.user.email, reply.access_token, reply.refresh_token)


async def test_strangers_get_not_found_for_people_rpcs(
    trips: pb_grpc.TripServiceAsyncStub, cast: Cast
) -> None:
    trip = await cast.shared_trip(trips)
    for call in (
        trips.ListCollaborators(
            pb.ListCollaboratorsRequest(trip_id=trip.id), metadata=cast.stranger.metadata
        ),
        trips.AddCollaborator(
            pb.AddCollaboratorRequest(trip_id=trip.id, email=cast.stranger.email),
            metadata=cast.stranger.metadata,
        ),
        trips.LeaveTrip(pb.LeaveTripRequest(trip_id=trip.id), metadata=cast.stranger.metadata),
    ):
        assert await code_of(call) == grpc.StatusCode.NOT_FOUND


async def test_an_admin_cannot_invite_the_owner(
    trips: pb_grpc.TripServiceAsyncStub, cast: Cast
) -> None:
    trip = await cast.shared_trip(trips)
    assert (
        await code_of(share(trips, cast.admin, trip.id, cast.owner.email.upper(), "view"))
        == grpc.StatusCode.FAILED_PRECONDITION
    )
