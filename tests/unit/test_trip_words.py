"""The trips service's domain words are StrEnums whose values are the API's and SQL's words."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest

from services.trips.items import BookingStatus, ItemKind
from services.trips.model import TripStatus, Visibility
from services.trips.sharing import CollaboratorRole
from services.trips.store import TransferOutcome
from tripsage.trips.v1 import trip_service_pb2 as pb

MIGRATIONS = Path(__file__).parents[2] / "services" / "trips" / "migrations"


@pytest.mark.parametrize(
    ("words", "enum", "prefix"),
    [
        (TripStatus, pb.TripStatus, "TRIP_STATUS_"),
        (Visibility, pb.TripVisibility, "TRIP_VISIBILITY_"),
        (CollaboratorRole, pb.CollaboratorRole, "COLLABORATOR_ROLE_"),
        (ItemKind, pb.ItineraryItemKind, "ITINERARY_ITEM_KIND_"),
        (BookingStatus, pb.BookingStatus, "BOOKING_STATUS_"),
    ],
)
def test_each_word_is_one_of_the_apis_values(words: type[StrEnum], enum: Any, prefix: str) -> None:
    names = {n.removeprefix(prefix).lower() for n in enum.DESCRIPTOR.values_by_name}
    assert set(words) == names - {"unspecified"}


@pytest.mark.parametrize(
    ("words", "column"),
    [(CollaboratorRole, "role"), (ItemKind, "kind"), (BookingStatus, "booking_status")],
)
def test_each_word_is_one_the_database_accepts(words: type[StrEnum], column: str) -> None:
    sql = "\n".join(p.read_text() for p in sorted(MIGRATIONS.glob("*.sql")))
    allowed = re.search(rf"CHECK \({column} IN \(([^)]*)\)\)", sql)
    assert allowed is not None
    assert set(words) == set(re.findall(r"'([^']+)'", allowed.group(1)))


def test_transfer_outcomes_are_the_functions_answers() -> None:
    sql = (MIGRATIONS / "0002_items_invitations_activity.sql").read_text()
    assert set(TransferOutcome) == set(re.findall(r"RETURN '([a-z_]+)'", sql))
