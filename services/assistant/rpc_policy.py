"""Who may call each AssistantService RPC: signed-in users, and API keys acting for one."""

from tripsage_core.grpc_kit.access import USER, AccessTable

POLICIES: AccessTable = {
    "CreateConversation": USER,
    "GetConversation": USER,
    "ListConversations": USER,
    "UpdateConversation": USER,
    "DeleteConversation": USER,
    "ListMessages": USER,
    "SendMessage": USER,
    "StreamMessage": USER,
    "ApproveToolCall": USER,
    "RejectToolCall": USER,
    "PlanTrip": USER,
    "ListMemories": USER,
    "CreateMemory": USER,
    "DeleteMemory": USER,
    "ClearMemories": USER,
}
