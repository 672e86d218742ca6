"""Who may call each TripService RPC: all are for signed-in users (or API keys acting for
one); which trips a caller reaches is then the trip roles' and row level security's."""

from tripsage_core.grpc_kit.access import USER, AccessTable

POLICIES: AccessTable = {
    "CreateTrip": USER,
    "GetTrip": USER,
    "ListTrips": USER,
    "UpdateTrip": USER,
    "DeleteTrip": USER,
    "DuplicateTrip": USER,
    "TransferTripOwnership": USER,
    "ListCollaborators": USER,
    "AddCollaborator": USER,
    "UpdateCollaboratorRole": USER,
    "RemoveCollaborator": USER,
    "LeaveTrip": USER,
    "ListTripInvitations": USER,
    "AcceptTripInvitation": USER,
    "DeclineTripInvitation": USER,
    "CreateItineraryItem": USER,
    "GetItineraryItem": USER,
    "ListItineraryItems": USER,
    "UpdateItineraryItem": USER,
    "DeleteItineraryItem": USER,
    "ReorderItineraryItems": USER,
    "GetTripSummary": USER,
    "ExportTrip": USER,
    "ListTripActivity": USER,
    "WatchTrip": USER,
}
