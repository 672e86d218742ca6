"""The fake providers' Starlette app: request checks, realistic payloads, scripted failures."""

from __future__ import annotations

import asyncio
import itertools
import math
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import airportsdata
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

DUFFEL_KEY = "duffel_test_server_token"
GOOGLE_KEY = "google-server-key"
OWM_KEY = "owm-server-key"
# Any provider answers this one as an invalid key (shaped like a Google key, which is
# what the auth service checks before storing it).
REJECTED_KEY = "AIza" + "RejectedKey".ljust(35, "0")
DUFFEL_VERSION = "v2"
_AIRPORTS = airportsdata.load("IATA")


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    params: dict[str, str]
    json: Any


@dataclass
class Scripted:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


def _duffel_error(status: int, code: str, message: str) -> JSONResponse:
    error = {"type": "invalid_request_error", "title": code, "message": message, "code": code}
    return JSONResponse(
        {"errors": [error], "meta": {"request_id": uuid.uuid4().hex, "status": status}},
        status_code=status,
    )


def _google_error(status: int, message: str, state: str, reason: str = "") -> JSONResponse:
    error: dict[str, Any] = {"code": status, "message": message, "status": state}
    if reason:
        error["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": reason,
                "domain": "googleapis.com",
                "metadata": {"service": "places.googleapis.com"},
            }
        ]
    return JSONResponse({"error": error}, status_code=status)


class FakeProviders:
    def __init__(self) -> None:
        self.base_url = ""
        self.requests: list[Recorded] = []
        self._scripts: dict[str, list[Scripted]] = {}
        self._offers: dict[str, dict[str, Any]] = {}
        self._stays: dict[str, dict[str, Any]] = {}
        self._rates: dict[str, tuple[dict[str, Any], str]] = {}
        self.app = Starlette(
            routes=[
                Route("/air/offer_requests", self.offer_requests, methods=["POST"]),
                Route("/air/offers/{offer_id}", self.get_offer, methods=["GET"]),
                Route("/stays/search", self.stays_search, methods=["POST"]),
                Route(
                    "/stays/search_results/{result_id}/actions/fetch_all_rates",
                    self.fetch_all_rates,
                    methods=["POST"],
                ),
                Route("/stays/quotes", self.stays_quote, methods=["POST"]),
                Route("/v1/places:searchText", self.places_search, methods=["POST"]),
                Route("/v1/places/{place_id}", self.place_details, methods=["GET"]),
                Route("/maps/api/geocode/json", self.geocode, methods=["GET"]),
                Route("/directions/v2:computeRoutes", self.compute_routes, methods=["POST"]),
                Route("/data/2.5/weather", self.current_weather, methods=["GET"]),
                Route("/data/2.5/forecast", self.forecast, methods=["GET"]),
            ]
        )

    # -- scripting and inspection -------------------------------------------------------

    def script(self, path_prefix: str, *responses: Scripted) -> None:
        """The next calls to paths starting with path_prefix answer these, in order."""
        self._scripts.setdefault(path_prefix, []).extend(responses)

    def calls(self, path_prefix: str) -> list[Recorded]:
        return [r for r in self.requests if r.path.startswith(path_prefix)]

    def reset(self) -> None:
        self.requests.clear()
        self._scripts.clear()

    async def _record(self, request: Request) -> tuple[Recorded, Response | None]:
        body = await request.body()
        recorded = Recorded(
            method=request.method,
            path=request.url.path,
            headers={k.lower(): v for k, v in request.headers.items()},
            params=dict(request.query_params),
            json=await request.json() if body else None,
        )
        self.requests.append(recorded)
        for prefix, queue in self._scripts.items():
            if recorded.path.startswith(prefix) and queue:
                scripted = queue.pop(0)
                if scripted.delay:
                    await asyncio.sleep(scripted.delay)
                if scripted.body is None and scripted.status == 200:
                    return recorded, None  # only a delay: answer normally
                return recorded, JSONResponse(
                    scripted.body if scripted.body is not None else {"message": "scripted"},
                    status_code=scripted.status,
                    headers=scripted.headers,
                )
        return recorded, None

    # -- Duffel ---------------------------------------------------------------------------

    def _duffel_check(self, recorded: Recorded) -> Response | None:
        auth = recorded.headers.get("authorization", "")
        if recorded.headers.get("duffel-version") != DUFFEL_VERSION:
            return _duffel_error(400, "unsupported_version", "Duffel-Version header is required")
        if not auth.startswith("Bearer ") or len(auth) <= len("Bearer "):
            return _duffel_error(401, "missing_authorization", "Authorization header missing")
        if auth == f"Bearer {REJECTED_KEY}":
            return _duffel_error(401, "invalid_authorization", "The access token is not valid")
        return None

    async def offer_requests(self, request: Request) -> Response:
        recorded, scripted = await self._record(request)
        if scripted is not None:
            return scripted
        if (failure := self._duffel_check(recorded)) is not None:
            return failure
        if recorded.params.get("return_offers") != "true":
            return _duffel_error(422, "validation_error", "return_offers=true expected")
        data = (recorded.json or {}).get("data") or {}
        slices, passengers = data.get("slices"), data.get("passengers")
        if not slices or not passengers:
            return _duffel_error(422, "validation_error", "slices and passengers are required")
        for item in slices:
            if not {"origin", "destination", "departure_date"} <= set(item):
                return _duffel_error(422, "validation_error", "slice fields missing")
            if item["origin"] not in _AIRPORTS:
                return _duffel_error(422, "validation_error", f"unknown origin {item['origin']}")
        for passenger in passengers:
            if "type" not in passenger and "age" not in passenger:
                return _duffel_error(422, "validation_error", "a passenger needs type or age")
        cabin = data.get("cabin_class", "economy")
        offers = [
            self._offer(slices, passengers, cabin, owner, price, stops)
            for owner, price, stops in (
                (("BA", "British Airways"), "412.30", 0),
                (("TP", "TAP Air Portugal"), "298.10", 1),
                (("LH", "Lufthansa"), "355.00", 1),
            )
            if data.get("max_connections") is None or stops <= data["max_connections"]
        ]
        for offer in offers:
            self._offers[offer["id"]] = offer
        body = {
            "data": {
                "id": f"orq_{uuid.uuid4().hex[:20]}",
                "live_mode": False,
                "cabin_class": cabin,
                "slices": slices,
                "passengers": [{"id": f"pas_{i}", **p} for i, p in enumerate(passengers)],
                "offers": offers,
                "created_at": datetime.now(UTC).isoformat(),
            }
        }
        return JSONResponse(body, status_code=201)

    def _segment(
        self, origin: str, destination: str, departs: datetime, cabin: str, carrier: tuple[str, str]
    ) -> tuple[dict[str, Any], datetime]:
        here, there = _AIRPORTS.get(origin, {}), _AIRPORTS.get(destination, {})
        km = _km(here.get("lat", 0), here.get("lon", 0), there.get("lat", 0), there.get("lon", 0))
        minutes = int(40 + km / 13.3)
        utc_arrival = departs.astimezone(UTC) + timedelta(minutes=minutes)
        arrives = utc_arrival.astimezone(ZoneInfo(there.get("tz") or "UTC"))
        segment = {
            "id": f"seg_{uuid.uuid4().hex[:16]}",
            "origin": {
                "type": "airport",
                "iata_code": origin,
                "name": here.get("name", origin),
                "time_zone": here.get("tz"),
            },
            "destination": {
                "type": "airport",
                "iata_code": destination,
                "name": there.get("name", destination),
                "time_zone": there.get("tz"),
            },
            "departing_at": departs.replace(tzinfo=None).isoformat(timespec="seconds"),
            "arriving_at": arrives.replace(tzinfo=None).isoformat(timespec="seconds"),
            "duration": f"PT{minutes // 60}H{minutes % 60}M",
            "marketing_carrier": {"iata_code": carrier[0], "name": carrier[1]},
            "operating_carrier": {"iata_code": carrier[0], "name": carrier[1]},
            "marketing_carrier_flight_number": str(100 + len(self._offers) % 900),
            "aircraft": {"name": "Airbus A320", "iata_code": "320"},
            "passengers": [
                {
                    "passenger_id": "pas_0",
                    "cabin_class": cabin,
                    "cabin_class_marketing_name": cabin.replace("_", " ").title(),
                    "baggages": [{"type": "checked", "quantity": 1}],
                }
            ],
        }
        return segment, arrives

    def _offer(
        self,
        slices: list[dict[str, Any]],
        passengers: list[dict[str, Any]],
        cabin: str,
        owner: tuple[str, str],
        price: str,
        stops: int,
    ) -> dict[str, Any]:
        offer_slices = []
        for item in slices:
            zone = ZoneInfo(_AIRPORTS.get(item["origin"], {}).get("tz") or "UTC")
            start = (item.get("departure_time") or {}).get("from", "08:30")
            departs = datetime.fromisoformat(f"{item['departure_date']}T{start}").replace(
                tzinfo=zone
            )
            route = [item["origin"], "MAD", item["destination"]] if stops else None
            route = route or [item["origin"], item["destination"]]
            segments, when = [], departs
            for a, b in itertools.pairwise(route):
                segment, arrival = self._segment(a, b, when, cabin, owner)
                segments.append(segment)
                when = arrival + timedelta(minutes=90)
            offer_slices.append(
                {
                    "id": f"sli_{uuid.uuid4().hex[:16]}",
                    "origin": segments[0]["origin"],
                    "destination": segments[-1]["destination"],
                    "duration": None,
                    "segments": segments,
                }
            )
        total = float(price) * len(passengers)
        return {
            "id": f"off_{uuid.uuid4().hex[:20]}",
            "live_mode": False,
            "total_amount": f"{total:.2f}",
            "total_currency": "GBP",
            "base_amount": f"{total * 0.8:.2f}",
            "tax_amount": f"{total * 0.2:.2f}",
            "tax_currency": "GBP",
            "owner": {"iata_code": owner[0], "name": owner[1]},
            "expires_at": (datetime.now(UTC) + timedelta(minutes=20)).isoformat(),
            "conditions": {
                "refund_before_departure": {"allowed": owner[0] == "BA", "penalty_amount": "50"},
                "change_before_departure": {"allowed": True, "penalty_amount": "0"},
            },
            "slices": offer_slices,
            "passengers": [{"id": f"pas_{i}", **p} for i, p in enumerate(passengers)],
        }

    async def get_offer(self, request: Request) -> Response:
        recorded, scripted = await self._record(request)
        if scripted is not None:
            return scripted
        if (failure := self._duffel_check(recorded)) is not None:
            return failure
        offer = self._offers.get(request.path_params["offer_id"])
        if offer is None:
            return _duffel_error(
                404, "not_found", "The resource you are trying to access was not found"
            )
        return JSONResponse({"data": offer})

    async def stays_search(self, request: Request) -> Response:
        recorded, scripted = await self._record(request)
        if scripted is not None:
            return scripted
        if (failure := self._duffel_check(recorded)) is not None:
            return failure
        data = (recorded.json or {}).get("data") or {}
        location = (data.get("location") or {}).get("geographic_coordinates")
        if not location or not data.get("check_in_date") or not data.get("guests"):
            return _duffel_error(422, "validation_error", "location, dates and guests are required")
        results = []
        for number, (name, stars, score, total) in enumerate(
            (
                ("The Ritz Test", 5, 9.1, "820.00"),
                ("Harbour Test Inn", 3, 8.2, "310.00"),
                ("Budget Test Rooms", 2, 6.9, "150.00"),
            )
        ):
            result_id = f"srr_{uuid.uuid4().hex[:20]}"
            result = {
                "id": result_id,
                "check_in_date": data["check_in_date"],
                "check_out_date": data["check_out_date"],
                "rooms": data.get("rooms", 1),
                "guests": data["guests"],
                "cheapest_rate_total_amount": total,
                "cheapest_rate_currency": "EUR",
                "accommodation": {
                    "id": f"acc_{number:04d}",
                    "name": name,
                    "rating": stars,
                    "review_score": score,
                    "description": f"{name}, a test property.",
                    "amenities": [
                        {"type": "wifi", "description": "Free Wi-Fi"},
                        {"type": "restaurant", "description": "Restaurant"},
                    ][: 2 if stars > 2 else 1],
                    "photos": [{"url": f"https://example.test/{number}.jpg"}],
                    "location": {
                        "geographic_coordinates": {
                            "latitude": location["latitude"] + 0.004 * number,
                            "longitude": location["longitude"] - 0.003 * number,
                        },
                        "address": {
                            "line_one": f"{number + 1} Test Street",
                            "city_name": "Lisbon",
                            "postal_code": "1100-001",
                            "country_code": "PT",
                        },
                    },
                    "rooms": [],
                },
            }
            self._stays[result_id] = result
            results.append(result)
        return JSONResponse(
            {"data": {"results": results, "created_at": datetime.now(UTC).isoformat()}}
        )

    async def fetch_all_rates(self, request: Request) -> Response:
        recorded, scripted = await self._record(request)
        if scripted is not None:
            return scripted
        if (failure := self._duffel_check(recorded)) is not None:
            return failure
        result = self._stays.get(request.path_params["result_id"])
        if result is None:
            return _duffel_error(404, "not_found", "The search result was not found")
        total = float(result["cheapest_rate_total_amount"])
        rooms = [
            {
                "name": "Double room",
                "max_occupancy": 2,
                "rates": [
                    {
                        "id": f"rat_{uuid.uuid4().hex[:16]}",
                        "total_amount": f"{total:.2f}",
                        "total_currency": "EUR",
                        "board_type": "room_only",
                        "quantity_available": 3,
                        "cancellation_timeline": [],
                    },
                    {
                        "id": f"rat_{uuid.uuid4().hex[:16]}",
                        "total_amount": f"{total * 1.15:.2f}",
                        "total_currency": "EUR",
                        "board_type": "breakfast",
                        "quantity_available": 1,
                        "cancellation_timeline": [
                            {
                                "refund_amount": f"{total * 1.15:.2f}",
                                "currency": "EUR",
                                "before": f"{result['check_in_date']}T12:00:00Z",
                            }
                        ],
                    },
                ],
            }
        ]
        for rate in rooms[0]["rates"]:
            self._rates[rate["id"]] = (result, rate["total_amount"])
        detailed = {**result, "accommodation": {**result["accommodation"], "rooms": rooms}}
        return JSONResponse({"data": detailed})

    async def stays_quote(self, request: Request) -> Response:
        recorded, scripted = await self._record(request)
        if scripted is not None:
            return scripted
        if (failure := self._duffel_check(recorded)) is not None:
            return failure
        rate_id = ((recorded.json or {}).get("data") or {}).get("rate_id")
        rate = self._rates.get(rate_id or "")
        if rate is None:
            return _duffel_error(422, "rate_unavailable", "The rate is no longer available")
        result, price = rate
        # Prices move between search and quote: the quote is 2% dearer.
        total = float(price) * 1.02
        return JSONResponse(
            {
                "data": {
                    "id": f"quo_{uuid.uuid4().hex[:16]}",
                    "total_amount": f"{total:.2f}",
                    "total_currency": "EUR",
                    "check_in_date": result["check_in_date"],
                    "check_out_date": result["check_out_date"],
                    "accommodation": result["accommodation"],
                }
            },
            status_code=201,
        )

    # -- Google Maps Platform ------------------------------------------------------------

    def _google_check(self, recorded: Recorded, *, field_mask: bool) -> Response | None:
        key = recorded.headers.get("x-goog-api-key", "")
        if not key:
            return _google_error(
                403, "The request is missing a valid API key.", "PERMISSION_DENIED"
            )
        if key == REJECTED_KEY:
            return _google_error(
                400,
                "API key not valid. Please pass a valid API key.",
                "INVALID_ARGUMENT",
                reason="API_KEY_INVALID",
            )
        if field_mask and not recorded.headers.get("x-goog-fieldmask"):
            return _google_error(
                400,
                "FieldMask is a required parameter. See https://cloud.google.com/apis/docs/system-parameters",
                "INVALID_ARGUMENT",
            )
        return None

    async def places_search(self, request: Request) -> Response:
        recorded, scripted = await self._record(request)
        if scripted is not None:
            return scripted
        if (failure := self._google_check(recorded, field_mask=True)) is not None:
            return failure
        body = recorded.json or {}
        if not body.get("textQuery"):
            return _google_error(400, "Missing required field: textQuery", "INVALID_ARGUMENT")
        center = ((body.get("locationBias") or {}).get("circle") or {}).get("center") or {
            "latitude": 38.7223,
            "longitude": -9.1393,
        }
        places = _google_places(center, body.get("languageCode", "en"))
        wanted = body.get("pageSize") or body.get("maxResultCount") or 20
        return JSONResponse({"places": places[:wanted]})

    async def place_details(self, request: Request) -> Response:
        """Place Details (New): the fields the X-Goog-FieldMask names (no "places."
        prefix, unlike Text Search), or 404 NOT_FOUND."""
        recorded, scripted = await self._record(request)
        if scripted is not None:
            return scripted
        if (failure := self._google_check(recorded, field_mask=True)) is not None:
            return failure
        fields = recorded.headers["x-goog-fieldmask"].split(",")
        if any(f.startswith("places.") for f in fields):
            return _google_error(400, "Invalid field: places.", "INVALID_ARGUMENT")
        language = recorded.params.get("languageCode", "en")
        center = {"latitude": 38.7223, "longitude": -9.1393}
        wanted = request.path_params["place_id"]
        for place in _google_places(center, language):
            if place["id"] == wanted:
                return JSONResponse({k: v for k, v in place.items() if k in fields})
        return _google_error(404, f"The place ID '{wanted}' is not found.", "NOT_FOUND")

    async def geocode(self, request: Request) -> Response:
        recorded, scripted = await self._record(request)
        if scripted is not None:
            return scripted
        key = recorded.params.get("key", "")
        if not key or key == REJECTED_KEY:
            return JSONResponse(
                {
                    "error_message": "The provided API key is invalid.",
                    "results": [],
                    "status": "REQUEST_DENIED",
                }
            )
        if "latlng" in recorded.params:
            lat, lng = (float(v) for v in recorded.params["latlng"].split(","))
            results = [
                _geocode_result(
                    "R. Augusta 100, 1100-053 Lisboa, Portugal", lat, lng, "street_address"
                )
            ]
        elif (address := recorded.params.get("address", "")).lower().startswith("nowhere"):
            return JSONResponse({"results": [], "status": "ZERO_RESULTS"})
        elif address:
            results = [_geocode_result(f"{address}, Portugal", 38.7222524, -9.1393366, "locality")]
        else:
            return JSONResponse(
                {
                    "error_message": "Invalid request. Missing the 'address' parameter.",
                    "results": [],
                    "status": "INVALID_REQUEST",
                }
            )
        return JSONResponse({"results": results, "status": "OK"})

    async def compute_routes(self, request: Request) -> Response:
        recorded, scripted = await self._record(request)
        if scripted is not None:
            return scripted
        if (failure := self._google_check(recorded, field_mask=True)) is not None:
            return failure
        body = recorded.json or {}
        if "origin" not in body or "destination" not in body:
            return _google_error(400, "Origin and destination must be set.", "INVALID_ARGUMENT")
        speeds = {"DRIVE": 40.0, "WALK": 5.0, "BICYCLE": 16.0, "TRANSIT": 25.0}
        meters = 5234
        seconds = int(meters / 1000 / speeds.get(body.get("travelMode", "DRIVE"), 40.0) * 3600)
        return JSONResponse({"routes": [{"distanceMeters": meters, "duration": f"{seconds}s"}]})

    # -- OpenWeatherMap ------------------------------------------------------------------

    def _owm_check(self, recorded: Recorded) -> Response | None:
        key = recorded.params.get("appid", "")
        if not key or key == REJECTED_KEY:
            return JSONResponse(
                {
                    "cod": 401,
                    "message": "Invalid API key. Please see "
                    "https://openweathermap.org/faq#error401 for more info.",
                },
                status_code=401,
            )
        if "lat" not in recorded.params or "lon" not in recorded.params:
            return JSONResponse({"cod": "400", "message": "Nothing to geocode"}, status_code=400)
        return None

    async def current_weather(self, request: Request) -> Response:
        recorded, scripted = await self._record(request)
        if scripted is not None:
            return scripted
        if (failure := self._owm_check(recorded)) is not None:
            return failure
        lat, lon = float(recorded.params["lat"]), float(recorded.params["lon"])
        now = int(time.time())
        return JSONResponse(
            {
                "coord": {"lon": lon, "lat": lat},
                "weather": [
                    {"id": 500, "main": "Rain", "description": "light rain", "icon": "10d"}
                ],
                "base": "stations",
                "main": {
                    "temp": 17.4,
                    "feels_like": 17.0,
                    "temp_min": 15.9,
                    "temp_max": 18.8,
                    "pressure": 1015,
                    "humidity": 77,
                },
                "visibility": 10000,
                "wind": {"speed": 4.63, "deg": 330},
                "clouds": {"all": 75},
                "dt": now - 600,
                "sys": {"country": "PT", "sunrise": now - 20000, "sunset": now + 20000},
                "timezone": 0,
                "id": 2267057,
                "name": "Lisbon",
                "cod": 200,
            }
        )

    async def forecast(self, request: Request) -> Response:
        recorded, scripted = await self._record(request)
        if scripted is not None:
            return scripted
        if (failure := self._owm_check(recorded)) is not None:
            return failure
        start = int(time.time()) // 10800 * 10800 + 10800
        steps = []
        for step in range(40):
            dt = start + step * 10800
            rainy = step % 8 in (4, 5)
            steps.append(
                {
                    "dt": dt,
                    "main": {
                        "temp": 16 + (step % 8),
                        "feels_like": 15.5 + (step % 8),
                        "temp_min": 14 + (step % 8),
                        "temp_max": 18 + (step % 8),
                        "humidity": 70,
                    },
                    "weather": [
                        {"id": 500, "main": "Rain", "description": "light rain", "icon": "10d"}
                        if rainy
                        else {
                            "id": 801,
                            "main": "Clouds",
                            "description": "few clouds",
                            "icon": "02d",
                        }
                    ],
                    "wind": {"speed": 3.1, "deg": 300},
                    "pop": 0.8 if rainy else 0.1,
                    **({"rain": {"3h": 1.2}} if rainy else {}),
                    "dt_txt": datetime.fromtimestamp(dt, UTC).strftime("%Y-%m-%d %H:%M:%S"),
                }
            )
        now = int(time.time())
        return JSONResponse(
            {
                "cod": "200",
                "message": 0,
                "cnt": len(steps),
                "list": steps,
                "city": {
                    "id": 2267057,
                    "name": "Lisbon",
                    "coord": {
                        "lat": float(recorded.params["lat"]),
                        "lon": float(recorded.params["lon"]),
                    },
                    "country": "PT",
                    "timezone": 0,
                    "sunrise": now - 20000,
                    "sunset": now + 20000,
                },
            }
        )


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _geocode_result(address: str, lat: float, lng: float, kind: str) -> dict[str, Any]:
    return {
        "address_components": [
            {"long_name": "Lisboa", "short_name": "Lisboa", "types": ["locality", "political"]},
            {
                "long_name": "Lisbon",
                "short_name": "Lisbon",
                "types": ["administrative_area_level_1", "political"],
            },
            {"long_name": "Portugal", "short_name": "PT", "types": ["country", "political"]},
        ],
        "formatted_address": address,
        "geometry": {"location": {"lat": lat, "lng": lng}, "location_type": "APPROXIMATE"},
        "place_id": f"ChIJ{uuid.uuid5(uuid.NAMESPACE_URL, address).hex[:20]}",
        "types": [kind, "political"],
    }


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371 * math.asin(math.sqrt(a))


def _google_places(center: dict[str, float], language: str) -> list[dict[str, Any]]:
    """Three places of Lisbon as Places API (New) describes them."""
    places = []
    for number, (name, kind, price) in enumerate(
        (
            ("Museu Nacional do Azulejo", "museum", None),
            ("Cervejaria Ramiro", "restaurant", "PRICE_LEVEL_MODERATE"),
            ("Jardim da Estrela", "park", "PRICE_LEVEL_FREE"),
        )
    ):
        place: dict[str, Any] = {
            "id": f"ChIJ{number}test{uuid.uuid5(uuid.NAMESPACE_URL, name).hex[:12]}",
            "displayName": {"text": name, "languageCode": language},
            "formattedAddress": f"{number + 1} Rua Teste, 1100-001 Lisboa, Portugal",
            "location": {
                "latitude": center["latitude"] + 0.01 * number,
                "longitude": center["longitude"] + 0.01 * number,
            },
            "types": [kind, "point_of_interest", "establishment"],
            "rating": 4.3 + 0.2 * number,
            "userRatingCount": 1200 * (number + 1),
            "websiteUri": f"https://example.test/{number}",
            "internationalPhoneNumber": "+351 21 000 0000",
            "regularOpeningHours": {
                "openNow": True,
                # day 0 is Sunday; Monday closed, as many museums are
                "periods": [
                    {"open": {"day": day, "hour": 10, "minute": 0},
                     "close": {"day": day, "hour": 18, "minute": 0}}
                    for day in (0, 2, 3, 4, 5, 6)
                ],
                "weekdayDescriptions": [
                    f"{d}: {'Closed' if d == 'Monday' else '10:00 AM – 6:00 PM'}"
                    for d in _WEEKDAYS
                ],
            },
            "editorialSummary": {"text": f"{name}, a test place.", "languageCode": "en"},
            "accessibilityOptions": {
                "wheelchairAccessibleEntrance": number != 1,
                "wheelchairAccessibleRestroom": number == 0,
            },
        }  # fmt: skip
        if price:
            place["priceLevel"] = price
        if kind == "restaurant":
            place["servesVegetarianFood"] = True
            place["priceRange"] = {
                "startPrice": {"currencyCode": "EUR", "units": "20"},
                "endPrice": {"currencyCode": "EUR", "units": "30"},
            }
        places.append(place)
    return places
