"""Tool schemas come from the contract: fields in their JSON names, enums by name, the
.proto comments as descriptions, output-only fields left out."""

from __future__ import annotations

from tripsage.assistant.v1 import assistant_service_pb2 as assistant_pb
from tripsage.travel.v1 import travel_service_pb2 as travel_pb
from tripsage_core.proto_docs import comment
from tripsage_core.proto_schema import message_schema


def test_comments_are_read_from_the_contract() -> None:
    assert comment("tripsage.travel.v1.GetWeatherRequest.place") == (
        "A place name to geocode (or set location)."
    )
    assert comment("tripsage.travel.v1.TravelService.GetWeather")
    assert comment("tripsage.nothing.Here") == ""


def test_a_request_becomes_a_json_schema() -> None:
    schema = message_schema(travel_pb.SearchFlightsRequest.DESCRIPTOR)
    properties = schema["properties"]
    slices = properties["slices"]
    assert slices["type"] == "array"
    assert "departureDate" in slices["items"]["properties"]
    assert "IATA" in slices["items"]["properties"]["origin"]["description"]
    cabin = properties["cabinClass"]
    assert cabin["type"] == "string"
    assert "CABIN_CLASS_ECONOMY" in cabin["enum"]
    assert not any(name.endswith("UNSPECIFIED") for name in cabin["enum"])
    assert properties["maxPrice"]["properties"]["currencyCode"]["type"] == "string"


def test_output_only_fields_are_left_out() -> None:
    schema = message_schema(assistant_pb.Memory.DESCRIPTOR)
    assert set(schema["properties"]) == {"content", "category"}
