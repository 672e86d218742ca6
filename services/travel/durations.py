"""ISO-8601 durations ("PT2H26M", "P1DT3H") and "165s" (Google) to seconds."""

from __future__ import annotations

import re

from google.protobuf import duration_pb2

_ISO = re.compile(
    r"^P(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def iso_seconds(text: str | None) -> int:
    match = _ISO.match(text or "")
    if not match:
        return 0
    parts = {k: float(v) for k, v in match.groupdict().items() if v}
    return int(
        parts.get("days", 0) * 86400
        + parts.get("hours", 0) * 3600
        + parts.get("minutes", 0) * 60
        + parts.get("seconds", 0)
    )


def google_seconds(text: str | None) -> int:
    try:
        return int(float((text or "0s").rstrip("s")))
    except ValueError:
        return 0


def duration(seconds: int | float) -> duration_pb2.Duration:
    return duration_pb2.Duration(seconds=int(seconds))
