"""Coordinates (google.type.LatLng) every service accepts: WGS84 degrees in range."""

from __future__ import annotations

from tripsage_core.errors import FieldErrors


def check_lat_lng(
    latitude: float | None, longitude: float | None, field: str, errors: FieldErrors
) -> None:
    """`field.latitude` within -90..90 and `field.longitude` within -180..180 (None: unset)."""
    if latitude is not None and not -90 <= latitude <= 90:
        errors.add(f"{field}.latitude", "must be between -90 and 90")
    if longitude is not None and not -180 <= longitude <= 180:
        errors.add(f"{field}.longitude", "must be between -180 and 180")
