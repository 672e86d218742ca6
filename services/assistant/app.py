"""Composition root of the assistant service.

Conversations, memories (PostgreSQL or Mem0), the chat turn (an OpenAI-compatible model
or the offline assistant, with the travel, trips and memory tools) and trip plans (the
offline planner over the same tools). It depends on PostgreSQL (its own schema), Redis
(revocations), the trips service (who may read a trip's conversations; trip tools),
the travel service (its tools) and auth (users' own OpenAI and Mem0 keys).
"""

from __future__ import annotations

from pathlib import Path

import grpc

from services.assistant.clients import service_tools
from services.assistant.conversations import Conversations
from services.assistant.memories import Memories
from services.assistant.memory_accounts import MemoryAccounts
from services.assistant.model import TripAccess
from services.assistant.models import ModelChooser
from services.assistant.offline_model import OfflineAssistant
from services.assistant.openai_embeddings import OpenAIEmbedder, embedder_from
from services.assistant.plan_tool import PlanTool
from services.assistant.planner import Planner
from services.assistant.rpc_policy import POLICIES
from services.assistant.servicer import AssistantServicer
from services.assistant.store import AssistantStore
from services.assistant.tools import RecallTool, RememberTool, Toolbox
from services.assistant.trip_planning import TripPlanning
from services.assistant.turns import DailyAllowance, Turns
from tripsage.assistant.v1 import assistant_service_pb2_grpc
from tripsage.trips.v1 import trip_service_pb2 as trips_pb
from tripsage.trips.v1 import trip_service_pb2_grpc as trips_grpc
from tripsage_core.config import Settings
from tripsage_core.errors import InvalidArgument, Unavailable
from tripsage_core.grpc_kit.auth_calls import AuthServiceKeys
from tripsage_core.grpc_kit.caller import caller_resolver
from tripsage_core.grpc_kit.client import shared_service_channel
from tripsage_core.grpc_kit.server import ServiceDefinition
from tripsage_core.grpc_kit.service_app import service_definition
from tripsage_core.idempotency import IdempotencyLedger
from tripsage_core.identity import Principal
from tripsage_core.runtime import ServiceRuntime

MIGRATIONS = Path(__file__).parent / "migrations"
SCHEMA = "tripsage_assistant"

_ACCESS = {
    trips_pb.TRIP_ACCESS_OWNER: TripAccess.EDIT,
    trips_pb.TRIP_ACCESS_ADMIN: TripAccess.EDIT,
    trips_pb.TRIP_ACCESS_EDIT: TripAccess.EDIT,
    trips_pb.TRIP_ACCESS_VIEW: TripAccess.VIEW,
}


class TripsServiceRights:
    """TripRights from the trips service's GetTrip, asked as the end user (the service
    credential carries the caller), so trips' own rules and RLS decide."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def access(self, caller: Principal, trip_id: str) -> TripAccess | None:
        channel = shared_service_channel(self.settings.service_addr("trips"), self.settings)
        try:
            reply = await trips_grpc.TripServiceStub(channel).GetTrip(
                trips_pb.GetTripRequest(trip_id=trip_id), timeout=10
            )
        except grpc.aio.AioRpcError as error:
            if error.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED):
                return None
            if error.code() is grpc.StatusCode.INVALID_ARGUMENT:
                raise InvalidArgument.for_field("trip_id", "is not a valid trip id") from None
            raise Unavailable(
                f"cannot check the trip's sharing right now ({error.code().name}); retry shortly",
                reason="TRIPS_UNAVAILABLE",
                retry_after_seconds=2,
            ) from None
        # A public trip's readers (no access of their own) see none of its conversations.
        return _ACCESS.get(reply.trip.caller_access)


async def build(settings: Settings) -> ServiceDefinition:
    runtime = ServiceRuntime(settings, service="assistant", migrations_dir=MIGRATIONS)
    store = AssistantStore(runtime.db)
    conversations = Conversations(store, TripsServiceRights(settings), IdempotencyLedger(SCHEMA))
    embedder = embedder_from(settings)
    memories = MemoryAccounts(
        Memories(store, embedder),
        server_key=settings.mem0_api_key.get_secret_value() if settings.mem0_api_key else None,
        user_keys=AuthServiceKeys(settings),
        mem0_url=settings.mem0_api_url,
        timeout=min(settings.provider_timeout_seconds, 10.0),
    )
    toolbox = Toolbox([*service_tools(settings), RememberTool(memories), RecallTool(memories)])
    models = ModelChooser(settings, AuthServiceKeys(settings), OfflineAssistant())
    allowance = DailyAllowance(settings.assistant_daily_messages, settings.assistant_daily_tokens)
    turns = Turns(
        store, conversations, memories, toolbox, model_for=models.for_caller, allowance=allowance
    )
    planning = TripPlanning(Planner(toolbox), toolbox)
    toolbox.add(PlanTool(planning))
    servicer = AssistantServicer(conversations, memories, turns, planning)
    return service_definition(
        "assistant",
        servicer,
        assistant_service_pb2_grpc.add_AssistantServiceServicer_to_server,
        POLICIES,
        caller_resolver(settings, redis_client=runtime.redis),
        readiness=runtime.ready,
        on_stop=lambda: _close(runtime, models, memories, embedder),
        components=runtime.components,
        metrics_port=settings.metrics_port("assistant"),
        describe=runtime.describe,
        modes=lambda: {"model": models.mode},
    )


async def _close(
    runtime: ServiceRuntime,
    models: ModelChooser,
    memories: MemoryAccounts,
    embedder: OpenAIEmbedder | None,
) -> None:
    await models.close()
    await memories.close()
    if embedder is not None:
        await embedder.close()
    await runtime.close()
