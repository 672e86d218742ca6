"""datetime <-> google.protobuf.Timestamp."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_timestamp(value: datetime) -> Timestamp:
    """The instant `value` names (a naive datetime is local time, as astimezone reads it).
    Exact integer arithmetic on the difference from the epoch: Timestamp.FromDatetime
    builds a time tuple and calls calendar.timegm, several times the cost, on every time
    of every message."""
    if value.tzinfo is None:
        value = value.astimezone(UTC)
    delta = value - _EPOCH
    return Timestamp(seconds=delta.days * 86_400 + delta.seconds, nanos=delta.microseconds * 1000)
