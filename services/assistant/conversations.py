"""Conversation use cases for an authenticated caller. No transport here.

A conversation belongs to its owner, and may be about a trip: then the trip's members
read it (view rights) and write to it (edit rights) as the trips service says, and the
owner keeps reading it even after leaving the trip. Everyone else gets NOT_FOUND.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from services.assistant import limits
from services.assistant.model import Conversation, Message, TripAccess
from services.assistant.store import AssistantStore, TripGrant
from services.assistant.trip_rights import TripRights, read_only, trip_not_found
from tripsage_core.errors import FieldErrors, NotFound
from tripsage_core.idempotency import IdempotencyKey, IdempotencyLedger
from tripsage_core.identity import Principal
from tripsage_core.keyset import BY_CREATION, Page, Position, keyset_page
from tripsage_core.validators.ids import parse_uuid

MESSAGES_PAGE_DEFAULT = 100
MESSAGES_PAGE_MAX = 500


def conversation_not_found(conversation_id: str) -> NotFound:
    # The same answer whether it does not exist or is not the caller's to see.
    return NotFound(f"conversation {conversation_id} not found", reason="CONVERSATION_NOT_FOUND")


@dataclass(frozen=True)
class ConversationDraft:
    title: str = ""
    trip_id: str = ""
    auto_approve: bool = False


def check_title(errors: FieldErrors, field: str, title: str) -> None:
    if len(title) > limits.TITLE:
        errors.add(field, f"must be at most {limits.TITLE} characters")


class Conversations:
    def __init__(self, store: AssistantStore, trips: TripRights, ledger: IdempotencyLedger) -> None:
        self.store = store
        self.trips = trips
        self.ledger = ledger

    async def _grant(self, caller: Principal, trip_id: str | None) -> TripGrant | None:
        if trip_id is None:
            return None
        access = await self.trips.access(caller, trip_id)
        return TripGrant(trip_id, access) if access is not None else None

    async def create(
        self, caller: Principal, draft: ConversationDraft, attempt: IdempotencyKey | None = None
    ) -> Conversation:
        errors = FieldErrors()
        check_title(errors, "conversation.title", draft.title)
        trip_id = None
        if draft.trip_id:
            trip_id = str(parse_uuid(draft.trip_id, "conversation.trip_id", "trip"))
        errors.raise_if_any()
        grant = await self._grant(caller, trip_id)
        if trip_id is not None:
            if grant is None:
                raise trip_not_found(draft.trip_id)
            if grant.access is not TripAccess.EDIT:
                raise read_only()
        async with self.store.unit(caller.user_id, grant) as uow:

            async def create() -> Conversation:
                return await uow.insert_conversation(
                    draft.title.strip(), trip_id, draft.auto_approve
                )

            async def replay(first: str) -> Conversation | None:
                return await uow.conversation(uuid.UUID(first))

            return await self.ledger.create_once(
                uow.conn, caller.user_id, attempt, create=create, replay=replay,
                what="conversation",
            )  # fmt: skip

    async def _open(
        self, caller: Principal, conversation_id: str, *, write: bool = False
    ) -> tuple[Conversation, TripGrant | None]:
        """The conversation if the caller may read it (NOT_FOUND otherwise), with the trip
        grant that admits it; `write` also requires the right to add to it."""
        ident = parse_uuid(conversation_id, "conversation_id", "conversation")
        async with self.store.unit(caller.user_id) as uow:
            trip_id = await uow.trip_of(ident)
            found = None if trip_id else await uow.conversation(ident)
        if trip_id is None:
            if found is None or (write and found.owner_id != caller.user_id):
                raise conversation_not_found(conversation_id)
            return found, None
        grant = await self._grant(caller, trip_id)
        async with self.store.unit(caller.user_id, grant) as uow:
            found = await uow.conversation(ident)
        if found is None:
            raise conversation_not_found(conversation_id)
        if write and (grant is None or grant.access is not TripAccess.EDIT):
            raise read_only()
        return found, grant

    async def open_for_writing(
        self, caller: Principal, conversation_id: str
    ) -> tuple[Conversation, TripGrant | None]:
        """The conversation if the caller may add to it, with the grant that admits it."""
        return await self._open(caller, conversation_id, write=True)

    async def get(self, caller: Principal, conversation_id: str) -> Conversation:
        conversation, _ = await self._open(caller, conversation_id)
        return conversation

    async def list(
        self, caller: Principal, *, trip_id: str, page_size: int, page_token: str
    ) -> Page[Conversation]:
        grant = None
        if trip_id:
            trip = str(parse_uuid(trip_id, "trip_id", "trip"))
            grant = await self._grant(caller, trip)
            if grant is None:
                raise trip_not_found(trip_id)

        async def fetch(limit: int, after: tuple[object, str] | None) -> list[Conversation]:
            async with self.store.unit(caller.user_id, grant) as uow:
                return await uow.conversation_page(
                    trip_id=grant.trip_id if grant else None,
                    limit=limit,
                    after=after,  # type: ignore[arg-type]
                )

        def position_of(last: Conversation) -> Position:
            return {"t": last.updated_at.isoformat(), "i": last.id}

        return await keyset_page(
            fetch, size=page_size, token=page_token,
            fingerprint=f"conversations|{grant.trip_id if grant else ''}",
            position_of=position_of, bound_of=BY_CREATION.bound_of,
        )  # fmt: skip

    async def update(
        self,
        caller: Principal,
        conversation_id: str,
        *,
        title: str | None,
        auto_approve: bool | None,
    ) -> Conversation:
        errors = FieldErrors()
        if title is not None:
            check_title(errors, "conversation.title", title)
        errors.raise_if_any()
        _, grant = await self._open(caller, conversation_id, write=True)
        async with self.store.unit(caller.user_id, grant) as uow:
            updated = await uow.update_conversation(
                uuid.UUID(conversation_id),
                title=title.strip() if title is not None else None,
                auto_approve=auto_approve,
            )
        if updated is None:
            raise conversation_not_found(conversation_id)
        return updated

    async def delete(self, caller: Principal, conversation_id: str) -> None:
        conversation, grant = await self._open(caller, conversation_id)
        if conversation.owner_id != caller.user_id:
            # Members of the trip may read it; only its owner may delete it.
            raise conversation_not_found(conversation_id)
        async with self.store.unit(caller.user_id, grant) as uow:
            await uow.delete_conversation(uuid.UUID(conversation_id))

    async def messages(
        self, caller: Principal, conversation_id: str, *, page_size: int, page_token: str
    ) -> Page[Message]:
        conversation, grant = await self._open(caller, conversation_id)

        async def fetch(limit: int, after: int | None) -> list[Message]:
            async with self.store.unit(caller.user_id, grant) as uow:
                return await uow.message_page(uuid.UUID(conversation.id), limit=limit, after=after)

        def bound_of(position: Position) -> int:
            seq = position["s"]
            if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
                raise ValueError("not a position")
            return seq

        return await keyset_page(
            fetch, size=page_size, token=page_token,
            fingerprint=f"messages|{conversation.id}",
            position_of=lambda last: {"s": last.seq}, bound_of=bound_of,
            default=MESSAGES_PAGE_DEFAULT, maximum=MESSAGES_PAGE_MAX,
        )  # fmt: skip
