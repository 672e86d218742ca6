"""Who may call each TravelService RPC: signed-in users, and API keys acting for one."""

from tripsage_core.grpc_kit.access import USER, AccessTable

POLICIES: AccessTable = {
    "SearchFlights": USER,
    "GetFlightOffer": USER,
    "SearchAccommodations": USER,
    "GetAccommodation": USER,
    "ListAirports": USER,
    "SearchPlaces": USER,
    "GetPlace": USER,
    "Geocode": USER,
    "ReverseGeocode": USER,
    "GetWeather": USER,
    "GetTravelTime": USER,
}
