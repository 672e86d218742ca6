"""Which rate-limit class each RPC belongs to, by its full method name.

Every request counts against its consumer's bucket (gateway/consumers.py).
Routes whose work is expensive or worth guessing at also count against a
tighter bucket of their class, for the same consumer:

- ``sign_in``: registration, sign-in, password changes and resets, email
  verification and OAuth sign-in (password checks, emails sent);
- ``chat``: assistant turns and plans (a model call each; approving or
  rejecting a tool call continues the turn);
- ``search``: travel searches and look-ups that ask a provider.

Every RPC is listed, so a new one cannot slip through unclassified:
tests/unit/gateway/test_gateway_rate_classes.py fails for an RPC that is
missing here. An RPC that is missing all the same (a test's own descriptors)
counts as ``general``: its consumer's bucket only.
"""

from __future__ import annotations

from enum import StrEnum


class RouteClass(StrEnum):
    GENERAL = "general"  # the consumer's bucket only
    SIGN_IN = "sign_in"
    CHAT = "chat"
    SEARCH = "search"


_AUTH = "tripsage.auth.v1.AuthService"
_TRIPS = "tripsage.trips.v1.TripService"
_TRAVEL = "tripsage.travel.v1.TravelService"
_ASSISTANT = "tripsage.assistant.v1.AssistantService"

_BY_SERVICE: dict[str, dict[RouteClass, tuple[str, ...]]] = {
    _AUTH: {
        RouteClass.SIGN_IN: (
            "Register",
            "Login",
            "ChangePassword",
            "RequestPasswordReset",
            "ResetPassword",
            "RequestEmailVerification",
            "VerifyEmail",
            "StartOAuthSignIn",
            "CompleteOAuthSignIn",
        ),
        RouteClass.GENERAL: (
            "RefreshSession",
            "Logout",
            "GetCurrentUser",
            "UpdateCurrentUser",
            "ResolveCredential",
            "LookupUsers",
            "CreateApiKey",
            "ListApiKeys",
            "RevokeApiKey",
            "PutProviderKey",
            "ListProviderKeys",
            "ValidateProviderKey",
            "DeleteProviderKey",
            "ListProviderKeyEvents",
            "ResolveProviderKey",
            "ListUsers",
            "SetUserDisabled",
            "SetUserRole",
        ),
    },
    _TRAVEL: {
        RouteClass.SEARCH: (
            "SearchFlights",
            "SearchAccommodations",
            "SearchPlaces",
            "Geocode",
            "ReverseGeocode",
            "GetWeather",
            "GetTravelTime",
        ),
        RouteClass.GENERAL: ("GetFlightOffer", "GetAccommodation", "ListAirports", "GetPlace"),
    },
    _ASSISTANT: {
        RouteClass.CHAT: (
            "SendMessage",
            "StreamMessage",
            "ApproveToolCall",
            "RejectToolCall",
            "PlanTrip",
        ),
        RouteClass.GENERAL: (
            "CreateConversation",
            "GetConversation",
            "ListConversations",
            "UpdateConversation",
            "DeleteConversation",
            "ListMessages",
            "ListMemories",
            "CreateMemory",
            "DeleteMemory",
            "ClearMemories",
        ),
    },
    _TRIPS: {
        RouteClass.GENERAL: (
            "CreateTrip",
            "GetTrip",
            "ListTrips",
            "UpdateTrip",
            "DeleteTrip",
            "DuplicateTrip",
            "TransferTripOwnership",
            "ListCollaborators",
            "AddCollaborator",
            "UpdateCollaboratorRole",
            "RemoveCollaborator",
            "LeaveTrip",
            "ListTripInvitations",
            "AcceptTripInvitation",
            "DeclineTripInvitation",
            "CreateItineraryItem",
            "GetItineraryItem",
            "ListItineraryItems",
            "UpdateItineraryItem",
            "DeleteItineraryItem",
            "ReorderItineraryItems",
            "GetTripSummary",
            "ExportTrip",
            "ListTripActivity",
            "WatchTrip",  # issue 12's live updates (one long stream, counted once)
        ),
    },
}

RATE_CLASSES: dict[str, RouteClass] = {
    f"{service}.{method}": route_class
    for service, classes in _BY_SERVICE.items()
    for route_class, methods in classes.items()
    for method in methods
}


def rate_class(method_full_name: str) -> RouteClass:
    """The class of an RPC (``tripsage.auth.v1.AuthService.Login``); unlisted: general."""
    return RATE_CLASSES.get(method_full_name, RouteClass.GENERAL)
