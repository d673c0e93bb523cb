"""Opaque, signed pagination cursors.

A cursor is DynamoDB's LastEvaluatedKey, signed with SECRET_KEY and bound to the
listing it came from (`scope`, e.g. "assessments.mine:<owner>"), so a client can
neither forge a position nor replay one listing's cursor on another.
"""

from django.core import signing

from tra.errors import InvalidCursor

_SALT = "tra.cursor"


def encode_cursor(last_evaluated_key: dict | None, *, scope: str) -> str | None:
    if not last_evaluated_key:
        return None
    return signing.dumps({"s": scope, "k": last_evaluated_key}, salt=_SALT, compress=True)


def decode_cursor(cursor: str | None, *, scope: str) -> dict | None:
    if not cursor:
        return None
    try:
        payload = signing.loads(cursor, salt=_SALT)
    except signing.BadSignature as error:
        raise InvalidCursor("cursor is invalid or was tampered with", extra={"field": "cursor"}) from error
    if not isinstance(payload, dict) or payload.get("s") != scope or not isinstance(payload.get("k"), dict):
        raise InvalidCursor("cursor does not belong to this listing", extra={"field": "cursor"})
    return payload["k"]
