"""Writes that a retry cannot turn into a false failure or a double effect.

botocore retries a write whose answer did not arrive (a read timeout, a dropped
connection), and the first attempt may have been applied. DynamoDB honours the
`ClientRequestToken` botocore reuses across the retries of one TransactWriteItems,
but single-item writes carry no token and the local servers (moto) apply a retried
transaction again. So a retry of an applied write fails its own condition (the item
already exists; the version moved on) or, unconditioned, applies twice.

The rule here: every write is conditioned so that a replay cannot apply twice, and a
write whose condition fails (or whose outcome is unknown after the retries) asks the
table whether it already holds *this* write, and then answers as a success:

- `holds(item)` is true when the table holds `item` exactly as this process wrote it:
  every attribute equal, the version the write produced included. Items carry fresh
  ids and microsecond timestamps, so a concurrent writer's item is never equal.
- `save(item, condition=...)`: `item.save()` that answers success when the condition
  failed because of its own earlier attempt.
- `tra.dynamo.writes.transaction(witness=item)`: a transaction is all or nothing, so
  one freshly keyed item it puts (its audit event, a chat message) proves it committed.

Counters are exact because their writes are conditioned on a per-writer token
(tra/observability/models.py, UsageCounter.add) or ride in a transaction with a
witness (a chat turn's message_count).
"""

import logging
from decimal import Decimal

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.constants import ITEM
from pynamodb.exceptions import PutError, PynamoDBException
from pynamodb.expressions.condition import Condition

from .connection import table_connection
from .models import TableModel

logger = logging.getLogger(__name__)

CONDITION_FAILED = "ConditionalCheckFailedException"


def _written(item: TableModel) -> dict:
    """The item's attributes as a save of it stores them (its version attribute one up)."""
    raw = item.serialize()
    version = item._version_attribute_name
    if version:
        attribute = item.get_attributes()[version]
        raw[attribute.attr_name] = {"N": str((getattr(item, version) or 0) + 1)}
    return raw


def _normal(value):
    """DynamoDB JSON compared by value: numbers as numbers ("1.0" is stored as "1"), sets as sets."""
    if isinstance(value, dict):
        if len(value) == 1:
            (kind, inner), *_ = value.items()
            if kind == "N":
                return Decimal(inner)
            if kind == "NS":
                return frozenset(Decimal(number) for number in inner)
            if kind in ("SS", "BS"):
                return frozenset(inner)
            if kind == "L":
                return [_normal(element) for element in inner]
            if kind == "M":
                return {name: _normal(element) for name, element in inner.items()}
            if kind in ("S", "B", "BOOL", "NULL"):
                return (kind, inner)
        return {name: _normal(element) for name, element in value.items()}
    return value


def holds(item: TableModel, *, written: bool = False) -> bool:
    """Does the table hold `item` as this process wrote (or is writing) it?

    `written=True`: the local item already carries the version its write produced
    (after a successful commit); by default the version is one up from the local one,
    as PynamoDB writes it. A strongly consistent GetItem of the item's key.
    """
    data = table_connection().get_item(item.pk, item.sk, consistent_read=True)
    stored = (data or {}).get(ITEM)
    if not stored:
        return False
    return _normal(stored) == _normal(item.serialize() if written else _written(item))


def held_after_failure(item: TableModel) -> bool:
    """`holds(item)` after a write of it failed; False when the table cannot be asked either
    (the caller then reports its original error, outcome unknown)."""
    try:
        return holds(item)
    except (PynamoDBException, BotoCoreError, ClientError):
        logger.warning("could not check whether %s/%s was written", item.pk, item.sk, exc_info=True)
        return False


def response_code(error: PynamoDBException) -> str | None:
    """DynamoDB's error code behind a PynamoDB error (PynamoDB's own `cause_response_code` raises
    AttributeError when the cause is a transport error such as a read timeout: its `response` is None)."""
    response = getattr(getattr(error, "cause", None), "response", None) or {}
    return response.get("Error", {}).get("Code")


def outcome_unknown(error: PynamoDBException) -> bool:
    """A write error after which the write may still have been applied: its condition failed
    (perhaps on its own earlier attempt) or the transport failed (no answer was read)."""
    return response_code(error) == CONDITION_FAILED or isinstance(error.cause, BotoCoreError)


def save(item: TableModel, *, condition: Condition | None = None) -> None:
    """`item.save(condition=...)`, answering success when a retry finds its own write applied.

    Raises the PutError otherwise: a condition that failed because of another writer
    (the caller turns it into a 409) or a fault (a 503).
    """
    try:
        item.save(condition=condition)
    except PutError as error:
        if outcome_unknown(error) and held_after_failure(item):
            item.update_local_version_attribute()  # what a successful save() does
            return
        raise
