"""The offline assistant: a ChatModel without a model, for machines with no key.

It understands a few common requests in plain English (weather, places, stays, flights,
remembering and recalling preferences), calls the same tools a model would, and answers
from what they return. What it does not understand it says plainly, with what it can do,
rather than inventing. It is the default on a fresh machine (no OPENAI_API_KEY).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from services.assistant.chat import (
    ChatMessage,
    Finished,
    ModelEvent,
    TextPiece,
    ToolCallRequest,
    ToolRequested,
    ToolSpec,
)
from services.assistant.travel_request import parse

_PLACE = r"(?P<place>[a-zà-ÿ' .-]+?)"
_END = r"(?=\s+(?:from|on|for|between|next|this|tomorrow|today|in \d|\d)\b|[?.!,]|$)"
_ISO = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")
_WEATHER = re.compile(rf"\b(?:weather|forecast)\b.*?\b(?:in|for|at)\s+{_PLACE}{_END}", re.I)
_PLACES = re.compile(
    r"\b(?P<what>restaurants?|museums?|things to do|sights|bars|caf[eé]s?|attractions?|parks?|"
    rf"galleries|beaches|places to eat|food)\b.*?\bin\s+{_PLACE}{_END}",
    re.I,
)
_STAYS = re.compile(
    r"\b(?:hotels?|stays?|accommodations?|places to stay|apartments?|hostels?)\b"
    rf".*?\bin\s+{_PLACE}{_END}",
    re.I,
)
_FLIGHTS = re.compile(
    rf"\bfl(?:y|ights?)\b.*?\bfrom\s+(?P<origin>[a-zà-ÿ' .-]+?)\s+to\s+{_PLACE}{_END}", re.I
)
_REMEMBER = re.compile(r"^\s*(?:please\s+)?remember(?:\s+that)?\s+(?P<fact>.+)$", re.I)
_STATEMENT = re.compile(
    r"^\s*(?P<fact>(?:i am|i'm|im|we are|we're)\s+(?:a\s+|an\s+)?(?:vegetarian|vegan|pescatarian|"
    r"gluten[- ]free|lactose[- ]intolerant|allergic to .+|travell?ing with .+|wheelchair users?)"
    r"|i (?:prefer|always|never|love|hate|like|need|can't|cannot|don't eat)\b.+)$",
    re.I,
)
_NEW_TRIP = re.compile(
    rf"\b(?:create|make|start|set up|add|open)\b\s+(?:a\s+|an\s+|my\s+)?(?:new\s+)?trip\b"
    rf".*?\bto\s+{_PLACE}{_END}",
    re.I,
)
_RECALL = re.compile(r"\bwhat do you (?:remember|know) about me\b", re.I)
_PLAN = re.compile(r"\b(?:plan|itinerary|organi[sz]e)\b", re.I)
_SAVE = re.compile(r"\bsave\b", re.I)
_IATA = re.compile(r"^[A-Za-z]{3}$")

_ABILITIES = (
    'the weather somewhere ("weather in Lisbon"), places ("museums in Porto"), stays'
    ' ("hotels in Seville from 2027-05-01 to 2027-05-04"), flights ("flights from London'
    ' to Lisbon on 2027-05-01"), creating a trip once you approve ("create a trip to'
    ' Lisbon from 2027-05-01 to 2027-05-04"), and remembering what you tell me ("I\'m'
    ' vegetarian")'
)


def _call(name: str, **arguments: Any) -> ToolRequested:
    return ToolRequested(ToolCallRequest(f"call_{uuid.uuid4().hex[:12]}", name, arguments))


def _title(text: str) -> str:
    return " ".join(word.capitalize() if word.islower() else word for word in text.split())


def _dates(text: str) -> list[str]:
    found = _ISO.findall(text)
    today = datetime.now(UTC).date()
    if not found and re.search(r"\btomorrow\b", text, re.I):
        found = [(today + timedelta(days=1)).isoformat()]
    return found


class OfflineAssistant:
    name = "offline"

    async def stream(
        self, messages: list[ChatMessage], tools: list[ToolSpec]
    ) -> AsyncIterator[ModelEvent]:
        last_user = max(i for i, m in enumerate(messages) if m.role == "user")
        request = messages[last_user].content
        results = [m for m in messages[last_user + 1 :] if m.role == "tool"]
        available = {tool.name for tool in tools}
        if results:
            follow_up = self._follow_up(request, results, available)
            if follow_up is not None:
                yield follow_up
            else:
                for piece in _pieces(self._answer(results)):
                    yield TextPiece(piece)
        else:
            calls = self._plan(request, available, messages[:last_user])
            if calls:
                for call in calls:
                    yield call
            else:
                yield TextPiece(
                    "I'm the offline assistant (no AI model is configured), and I didn't"
                    f" understand that request. I can look up {_ABILITIES}."
                )
        yield Finished()

    def _plan(
        self, text: str, available: set[str], history: Sequence[ChatMessage] = ()
    ) -> list[ToolRequested]:
        if "plan_trip" in available and (planned := self._trip_plan(text, history)):
            return [planned]
        calls: list[ToolRequested] = []
        if match := _REMEMBER.match(text) or _STATEMENT.match(text):
            calls.append(_call("remember", content=match.group("fact").strip(" .!")))
        if _RECALL.search(text):
            calls.append(_call("recall", query=""))
        if match := _WEATHER.search(text):
            dates = _dates(text)
            arguments: dict[str, Any] = {"place": _title(match.group("place"))}
            if dates:
                arguments["startDate"] = dates[0]
                arguments["endDate"] = dates[-1]
            calls.append(_call("get_weather", **arguments))
        if match := _PLACES.search(text):
            place = _title(match.group("place"))
            calls.append(_call("search_places", query=f"{match.group('what')} in {place}"))
        if match := _STAYS.search(text):
            dates = _dates(text)
            if len(dates) >= 2:
                start, end = dates[0], dates[1]
            else:
                first = date.fromisoformat(dates[0]) if dates else _soon()
                start, end = first.isoformat(), (first + timedelta(days=3)).isoformat()
            calls.append(
                _call(
                    "search_stays",
                    destination=_title(match.group("place")),
                    checkInDate=start,
                    checkOutDate=end,
                )
            )
        if match := _NEW_TRIP.search(text):
            place = _title(match.group("place"))
            trip: dict[str, Any] = {"title": f"{place} trip", "destinations": [{"name": place}]}
            dates = _dates(text)
            if dates:
                trip["startDate"], trip["endDate"] = dates[0], dates[-1]
            return [c for c in [_call("create_trip", trip=trip)] if c.call.name in available]
        if match := _FLIGHTS.search(text):
            origin, destination = match.group("origin").strip(), match.group("place").strip()
            unknown = [p for p in (origin, destination) if not _IATA.match(p)]
            if unknown:
                calls += [_call("list_airports", query=_title(p), pageSize=10) for p in unknown]
            else:
                calls.append(self._flights(origin, destination, text))
        return [c for c in calls if c.call.name in available]

    def _trip_plan(self, text: str, history: Sequence[ChatMessage]) -> ToolRequested | None:
        """A whole trip planned ("Plan 4 days in Lisbon from London in May for two..."),
        or the plan before saved ("save it as a trip"), which the user then approves."""
        if _PLAN.search(text) and parse(text, datetime.now(UTC).date()).destination:
            return _call("plan_trip", prompt=text, save=bool(_SAVE.search(text)))
        if not _SAVE.search(text):
            return None
        planned = [c for m in history for c in m.tool_calls if c.name == "plan_trip"]
        if not planned:
            return None
        return _call("plan_trip", **{**planned[-1].arguments, "save": True})

    def _flights(self, origin: str, destination: str, text: str) -> ToolRequested:
        dates = _dates(text)
        day = dates[0] if dates else _soon().isoformat()
        slices = [
            {"origin": origin.upper(), "destination": destination.upper(), "departureDate": day}
        ]
        return _call("search_flights", slices=slices, maxResults=5)

    def _follow_up(
        self, text: str, results: list[ChatMessage], available: set[str]
    ) -> ToolRequested | None:
        """After airport look-ups for a flight request, the flight search itself."""
        match = _FLIGHTS.search(text)
        if not match or any(r.name == "search_flights" for r in results):
            return None
        codes: dict[str, str] = {}
        for result in results:
            airports = result.data.get("airports") if result.name == "list_airports" else None
            if airports:
                # A city code (LON) covers every airport of the city; else the best match.
                city_code = next((a["cityCode"] for a in airports if a.get("cityCode")), "")
                codes[str(airports[0].get("city", "")).lower()] = city_code or airports[0].get(
                    "iataCode", ""
                )
        origin, destination = match.group("origin").strip(), match.group("place").strip()

        def code_of(place: str) -> str | None:
            if _IATA.match(place):
                return place.upper()
            return codes.get(place.lower()) or next(
                (c for city, c in codes.items() if place.lower() in city), None
            )

        there, back = code_of(origin), code_of(destination)
        if not there or not back or "search_flights" not in available:
            return None
        return self._flights(there, back, text)

    def _answer(self, results: list[ChatMessage]) -> str:
        parts = [_describe(result) for result in results]
        if any(_sandbox(result.data) for result in results):
            parts.append(
                "(These results come from the built-in sandbox: made-up offers for trying"
                " TripSage offline, not real prices or availability.)"
            )
        return "\n\n".join(p for p in parts if p)


def _soon() -> date:
    return datetime.now(UTC).date() + timedelta(days=28)


def _pieces(text: str) -> list[str]:
    # Streamed a few words at a time, as a model would.
    words = re.findall(r"\S+\s*", text)
    return ["".join(words[i : i + 4]) for i in range(0, len(words), 4)] or [text]


def _sandbox(data: dict[str, Any]) -> bool:
    source = data.get("source") or {}
    return isinstance(source, dict) and source.get("dataSource") == "DATA_SOURCE_SANDBOX"


def _money(value: Any) -> str:
    if not isinstance(value, dict) or not value.get("currencyCode"):
        return ""
    amount = int(value.get("units", 0) or 0) + int(value.get("nanos", 0) or 0) / 1e9
    return f"{amount:,.2f} {value['currencyCode']}"


def _describe(result: ChatMessage) -> str:
    data = result.data
    if result.failed and str(data.get("error", "")).startswith("the user rejected"):
        return "All right: I changed nothing."
    if result.failed:
        return f"I couldn't run {result.name.replace('_', ' ')}: {data.get('error', '')}"
    if result.name == "create_trip":
        trip = data.get("trip") or {}
        return f"Done: I created the trip {trip.get('title', '')!r} (id {trip.get('id', '')})."
    if result.name == "remember":
        return f"I'll remember that: {data.get('content', '')}."
    if result.name == "recall":
        memories = data.get("memories") or []
        if not memories:
            return "I don't remember anything about you yet."
        return "Here is what I remember about you:\n" + "\n".join(
            f"- {m.get('content')}" for m in memories
        )
    if result.name == "get_weather":
        lines = [f"Weather for {data.get('place', 'there')}:"]
        for day in (data.get("daily") or [])[:7]:
            low, high = day.get("minTemperatureCelsius"), day.get("maxTemperatureCelsius")
            lines.append(
                f"- {day.get('date')}: {day.get('description', '')}, "
                f"{round(low or 0)}–{round(high or 0)} °C"
            )
        return "\n".join(lines)
    if result.name == "search_places":
        places = (data.get("places") or [])[:8]
        if not places:
            return "I found no places for that."
        return "Places I found:\n" + "\n".join(
            f"- {p.get('name')}"
            + (f" — {p['address']}" if p.get("address") else "")
            + (f" (rated {p['rating']})" if p.get("rating") else "")
            for p in places
        )
    if result.name == "search_stays":
        stays = (data.get("accommodations") or [])[:6]
        if not stays:
            return "I found no stays for those dates."
        return "Stays I found:\n" + "\n".join(
            f"- {s.get('name')}: {_money(s.get('nightlyPrice'))} a night"
            + (f", {_money(s.get('totalPrice'))} in all" if s.get("totalPrice") else "")
            for s in stays
        )
    if result.name == "search_flights":
        offers = (data.get("offers") or [])[:5]
        if not offers:
            return "I found no flights for that day."
        return "Flights I found:\n" + "\n".join(
            f"- {o.get('ownerAirlineName') or o.get('ownerAirline')}: {_money(o.get('totalPrice'))}"
            for o in offers
        )
    if result.name == "list_airports":
        return ""  # only a step towards a flight search
    if result.name == "plan_trip":
        return _described_plan(data)
    return result.content


def _described_plan(data: dict[str, Any]) -> str:
    plan = data.get("plan") or {}
    lines = [f"{plan.get('title', 'Your plan')}: {plan.get('summary', '')}".strip()]
    for day in plan.get("days") or []:
        lines.append(f"\n{day.get('date')} — {day.get('title') or day.get('city', '')}")
        for item in day.get("items") or []:
            cost = _money(item.get("estimatedCost"))
            priced = f" ({cost})" if cost and not cost.startswith("0.00") else ""
            lines.append(f"- {item.get('startTime', '')} {item.get('title', '')}{priced}")
    lines.append(f"\nIn all about {_money(plan.get('estimatedCost'))}.")
    lines += [f"Note: {note}" for note in plan.get("notes") or []]
    if data.get("tripId"):
        lines.append(f"I saved it as a trip (id {data['tripId']}).")
    else:
        lines.append('Say "save it" and I will save it as a trip, once you approve.')
    return "\n".join(lines)
