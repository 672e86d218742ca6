"""Sharing a trip: collaborators, their roles, and invitations by email. No transport here.

Adding anyone, with an account or without, records a pending invitation under
the normalised email; the inviter sees the address and "invited" (pending)
until then, and never whether an account exists. It becomes membership only when
someone signed in with that address, verified (the token's `email_verified`),
accepts it through AcceptTripInvitation; they may also decline it (migrations
0002 and 0003).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol

from services.trips import limits
from services.trips.access import ADMIN, MEMBER, READ, load_trip, parse_uuid
from services.trips.model import Trip
from services.trips.sharing import (
    Collaborator,
    CollaboratorRole,
    Invitation,
)
from services.trips.store import TripStore, TripsUnit
from services.trips.writes import check_etag, unless_stale
from tripsage_core.emails import email_problem, normalize_email
from tripsage_core.errors import (
    AlreadyExists,
    FailedPrecondition,
    FieldErrors,
    InvalidArgument,
    NotFound,
    Unavailable,
)
from tripsage_core.identity import Principal
from tripsage_core.keyset import ByCreation, Page, keyset_page
from tripsage_core.page_budget import PAGE_BYTES
from tripsage_core.security_events import security_event
from tripsage_core.users import UserSummary


class UserDirectory(Protocol):
    """Names and addresses of accounts by id: the auth service, through LookupUsers. Never
    asked who owns an invited address, so inviting tells nothing about accounts."""

    async def by_id(self, user_ids: list[str]) -> dict[str, UserSummary]: ...


def _collaborator_not_found(collaborator_id: str) -> NotFound:
    return NotFound(f"collaborator {collaborator_id} not found", reason="COLLABORATOR_NOT_FOUND")


async def _managed_collaborator(
    uow: TripsUnit, trip_id: str, collaborator_id: str, target: uuid.UUID
) -> Collaborator:
    """The collaborator an admin of the trip changes or removes (404 when there is none)."""
    await load_trip(uow, trip_id, ADMIN)
    current = await uow.collaborators.get(trip_id, target)
    if current is None:
        raise _collaborator_not_found(collaborator_id)
    return current


def _invitation_not_found(invitation_id: str) -> NotFound:
    return NotFound(f"invitation {invitation_id} not found", reason="INVITATION_NOT_FOUND")


# Tokens of both lists name the creation time "k" (auth's lists say "t").
_BY_CREATION = ByCreation(time="k", ident="id")


class Collaboration:
    def __init__(self, store: TripStore, directory: UserDirectory) -> None:
        self.store = store
        self.directory = directory

    async def list_collaborators(
        self, caller: Principal, trip_id: str, *, page_size: int, page_token: str
    ) -> Page[Collaborator]:
        async def fetch(limit: int, after: tuple[datetime, str] | None) -> list[Collaborator]:
            async with self.store.unit(caller) as uow:
                await load_trip(uow, trip_id, MEMBER)
                return await uow.collaborators.page(trip_id, limit, after)

        page = await keyset_page(
            fetch, size=page_size, token=page_token, fingerprint=f"collaborators|{trip_id}",
            position_of=_BY_CREATION.position_of, bound_of=_BY_CREATION.bound_of,
            byte_budget=PAGE_BYTES,
        )  # fmt: skip
        rows = page.rows
        # Who joined through an invitation was unknown when invited: ask for the name now.
        unnamed = {row.user_id for row in rows if row.user_id and not row.full_name}
        names = await self._names(unnamed)
        for row in rows:
            if row.user_id and not row.full_name:
                row.full_name = names.get(row.user_id, "")
        return Page(rows, page.next_token)

    async def add(
        self, caller: Principal, trip_id: str, *, email: str, role: str, message: str
    ) -> Collaborator:
        errors = FieldErrors()
        address = normalize_email(email)
        if problem := email_problem(address):
            errors.add("email", problem)
        if role not in CollaboratorRole:
            errors.add("role", f"must be one of {', '.join(CollaboratorRole)}")
        limits.check_text(errors, "message", message, limits.MESSAGE)
        errors.raise_if_any()
        async with self.store.unit(caller) as uow:
            trip = await load_trip(uow, trip_id, ADMIN)
            # Locked so that concurrent invitations cannot pass the cap together.
            await uow.trips.lock(trip_id)
            if address == normalize_email(caller.email):
                raise InvalidArgument.for_field("email", "you cannot invite yourself")
            if trip.owner_id != caller.user_id and await self._owns(trip.owner_id, address):
                raise FailedPrecondition("that person owns this trip", reason="ALREADY_OWNER")
            existing = await uow.collaborators.find(trip_id, user_id=None, email=address)
            if existing is not None:
                raise AlreadyExists(
                    f"{address} is already on this trip ({existing.state})",
                    reason="ALREADY_COLLABORATOR",
                )
            if await uow.collaborators.count_all(trip_id) >= limits.PEOPLE_PER_TRIP:
                raise FailedPrecondition(
                    f"a trip has at most {limits.PEOPLE_PER_TRIP} collaborators and invitations",
                    reason="TOO_MANY_COLLABORATORS",
                )
            # Always an invitation, whether or not the address has an account: nobody joins
            # without consent, and the answer does not tell whether an account exists.
            added = await uow.collaborators.insert(
                trip_id, email=address, role=role, added_by=caller.user_id, message=message
            )
            await uow.activity.record(
                trip_id,
                caller.user_id,
                "collaborator_added",
                f"invited {address} as {role}",
                {"collaborator_id": added.id, "email": address, "role": role,
                 "state": "invited"},
            )  # fmt: skip
            await uow.trips.touch(trip_id)
        # Logged once committed; the address stays in the trip's own activity, not the log.
        security_event(
            "invitation_created", user_id=caller.user_id, trip_id=trip_id,
            invitation_id=added.id, role=role,
        )  # fmt: skip
        return added

    async def _owns(self, owner_id: str, address: str) -> bool:
        """Whether `address` is the trip owner's (whom an admin already knows)."""
        try:
            owner = (await self.directory.by_id([owner_id])).get(owner_id)
        except Unavailable:
            return False  # accepting an invitation to one's own trip changes nothing anyway
        return owner is not None and normalize_email(owner.email) == address

    async def update_role(
        self, caller: Principal, trip_id: str, collaborator_id: str, *, role: str, etag: str
    ) -> Collaborator:
        if role not in CollaboratorRole:
            raise InvalidArgument.for_field("role", f"must be one of {', '.join(CollaboratorRole)}")
        target = parse_uuid(collaborator_id, "collaborator_id", "collaborator")
        async with self.store.unit(caller) as uow:
            current = await _managed_collaborator(uow, trip_id, collaborator_id, target)
            check_etag(etag, current.etag, "collaborator")
            updated = unless_stale(
                await uow.collaborators.update_role(current.id, current.version, role),
                "collaborator",
            )
            await uow.activity.record(
                trip_id,
                caller.user_id,
                "collaborator_role_changed",
                f"changed {current.email or current.user_id} from {current.role} to {role}",
                {"collaborator_id": current.id, "from": current.role, "to": role},
            )
        security_event(
            "collaborator_role_changed", user_id=caller.user_id, trip_id=trip_id,
            collaborator_id=current.id, collaborator_user_id=current.user_id,
            from_role=current.role, to_role=role,
        )  # fmt: skip
        return updated

    async def remove(self, caller: Principal, trip_id: str, collaborator_id: str) -> None:
        target = parse_uuid(collaborator_id, "collaborator_id", "collaborator")
        async with self.store.unit(caller) as uow:
            current = await _managed_collaborator(uow, trip_id, collaborator_id, target)
            await uow.activity.record(
                trip_id,
                caller.user_id,
                "collaborator_removed",
                f"removed {current.email or current.user_id}",
                {"collaborator_id": current.id, "user_id": current.user_id,
                 "state": current.state},
            )  # fmt: skip
            await uow.collaborators.delete(current.id)
            await uow.trips.touch(trip_id)
        # A pending invitation taken back is a revocation; an active collaborator, a removal.
        security_event(
            "invitation_revoked" if current.state == "pending" else "collaborator_removed",
            user_id=caller.user_id, trip_id=trip_id, collaborator_id=current.id,
            collaborator_user_id=current.user_id,
        )  # fmt: skip

    async def leave(self, caller: Principal, trip_id: str) -> None:
        async with self.store.unit(caller) as uow:
            trip = await load_trip(uow, trip_id, READ)
            if trip.access == "owner":
                raise FailedPrecondition(
                    "the owner cannot leave; transfer ownership or delete the trip",
                    reason="OWNER_CANNOT_LEAVE",
                )
            me = await uow.collaborators.find(trip_id, user_id=caller.user_id, email="")
            if me is None or me.user_id != caller.user_id:
                raise FailedPrecondition(
                    "you are not a collaborator of this trip", reason="NOT_A_COLLABORATOR"
                )
            # Logged before leaving: once gone, the caller may no longer write the log.
            await uow.activity.record(
                trip_id, caller.user_id, "collaborator_left", "left the trip",
                {"collaborator_id": me.id},
            )  # fmt: skip
            await uow.collaborators.delete(me.id)
            await uow.trips.touch(trip_id)

    async def invitations(
        self, caller: Principal, *, page_size: int, page_token: str
    ) -> Page[Invitation]:
        async def fetch(limit: int, before: tuple[datetime, str] | None) -> list[Invitation]:
            async with self.store.unit(caller) as uow:
                return await uow.collaborators.invitations(limit, before)

        page = await keyset_page(
            fetch, size=page_size, token=page_token, fingerprint="invitations",
            position_of=_BY_CREATION.position_of, bound_of=_BY_CREATION.bound_of,
            byte_budget=PAGE_BYTES,
        )  # fmt: skip
        rows = page.rows
        inviters = await self._names({row.invited_by for row in rows})
        for row in rows:
            row.invited_by_name = inviters.get(row.invited_by, "")
        return Page(rows, page.next_token)

    async def accept(self, caller: Principal, invitation_id: str) -> Trip:
        target = parse_uuid(invitation_id, "invitation_id", "invitation")
        async with self.store.unit(caller) as uow:
            trip_id = await uow.collaborators.accept(target)
            if trip_id is None:
                raise _invitation_not_found(invitation_id)
            trip = await load_trip(uow, trip_id)
        security_event(
            "invitation_accepted", user_id=caller.user_id, trip_id=trip_id,
            invitation_id=invitation_id,
        )  # fmt: skip
        return trip

    async def decline(self, caller: Principal, invitation_id: str) -> None:
        target = parse_uuid(invitation_id, "invitation_id", "invitation")
        async with self.store.unit(caller) as uow:
            if not await uow.collaborators.decline(target):
                raise _invitation_not_found(invitation_id)
        security_event("invitation_declined", user_id=caller.user_id, invitation_id=invitation_id)

    async def _names(self, user_ids: set[str]) -> dict[str, str]:
        if not user_ids:
            return {}
        try:
            found = await self.directory.by_id(sorted(user_ids))
        except Unavailable:
            return {}  # names are a courtesy; the invitations themselves are ours
        return {user_id: user.full_name for user_id, user in found.items()}
