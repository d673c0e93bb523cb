"""Time as the table stores it: the current UTC time, and timestamps as sortable key parts."""

from datetime import UTC, datetime

from pynamodb.attributes import UTCDateTimeAttribute

_TIMESTAMP = UTCDateTimeAttribute()


def utc_now() -> datetime:
    return datetime.now(UTC)


def timestamp_key(moment: datetime) -> str:
    """A datetime as the fixed-width string DynamoDB stores, so keys sort by time."""
    return _TIMESTAMP.serialize(moment)
