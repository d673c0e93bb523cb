"""Multi-item writes: transactions and batches, with their failure modes made explicit.

- `transaction()` runs a TransactWriteItems (all or nothing) on the shared
  connection and turns a failed condition into `ConditionFailed`, naming which
  items' conditions failed, so services can answer 409 or 404 precisely. A
  transaction DynamoDB cancelled for a `TransactionConflict` (another write on
  one of its items at that moment) applied nothing, so it is sent again, up to
  TRANSACTION_ATTEMPTS times with jittered backoff: if the other writer won, the
  retry's own conditions fail (a real 409); if the clash persists it is a
  `TransactionConflict` (503 with Retry-After). botocore does not retry these.
- `batch_write()` sends BatchWriteItem calls of at most 25 requests (DynamoDB's
  limit), retrying UnprocessedItems with exponential backoff and jitter; if
  some remain after the last attempt it raises ServiceUnavailable saying how
  many were written: nothing is dropped silently. Batch writes cannot carry
  conditions, so only items whose overwrite is harmless go through here
  (new items with fresh ids, adjacency items, deletions).
"""

import contextlib
import random
import time
from collections.abc import Iterator, Sequence

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from tra.errors import ServiceUnavailable

from .connection import botocore_client, table_connection
from .models import TableModel

BATCH_WRITE_LIMIT = 25  # BatchWriteItem takes at most 25 put/delete requests
TRANSACTION_LIMIT = 100  # TransactWriteItems takes at most 100 actions
BATCH_ATTEMPTS = 8
TRANSACTION_ATTEMPTS = 3  # sends of a transaction cancelled by TransactionConflict, the first included
BACKOFF_BASE_SECONDS = 0.05
BACKOFF_CAP_SECONDS = 2.0


class TransactionConflict(ServiceUnavailable):
    """Another transaction was writing the same item at the same moment (DynamoDB cancels one)."""


class ConditionFailed(Exception):
    """A transaction was cancelled because the condition on item(s) `positions` failed."""

    def __init__(self, positions: list[int]):
        super().__init__(f"condition failed on transaction item(s) {positions}")
        self.positions = positions


@contextlib.contextmanager
def transaction() -> Iterator[TransactWrite]:
    """`with transaction() as write: write.save(a); write.save(b)` commits on exit."""
    writer = TransactWrite(connection=table_connection().connection)
    yield writer  # an exception in the block propagates from here: nothing is sent
    for attempt in range(TRANSACTION_ATTEMPTS):
        try:
            writer._commit()  # what TransactWrite.__exit__ does; it keeps no state between sends
            return
        except TransactWriteError as error:
            reasons = list(error.cancellation_reasons or [])
            failed = [
                i for i, reason in enumerate(reasons) if reason is not None and reason.code == "ConditionalCheckFailed"
            ]
            if failed:
                raise ConditionFailed(failed) from error
            if not any(reason is not None and reason.code == "TransactionConflict" for reason in reasons):
                raise
            if attempt == TRANSACTION_ATTEMPTS - 1:
                raise TransactionConflict(
                    f"a concurrent change kept touching the same items ({TRANSACTION_ATTEMPTS} attempts); retry",
                    retry_after=1,
                ) from error
        time.sleep(random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)))


def batch_write(*, puts: Sequence[TableModel] = (), deletes: Sequence[TableModel] = ()) -> int:
    """Write `puts` and delete `deletes` in BatchWriteItem calls; returns the number of calls."""
    for item in puts:
        # A new versioned item starts at version 1, as Model.save() would make it.
        version = item._version_attribute_name
        if version and getattr(item, version) is None:
            setattr(item, version, 1)
    requests = [{"PutRequest": {"Item": item.serialize()}} for item in puts]
    for item in deletes:
        requests.append({"DeleteRequest": {"Key": {"pk": {"S": item.pk}, "sk": {"S": item.sk}}}})
    client = botocore_client()
    table = table_connection().table_name
    calls = 0
    for start in range(0, len(requests), BATCH_WRITE_LIMIT):
        pending = requests[start : start + BATCH_WRITE_LIMIT]
        for attempt in range(BATCH_ATTEMPTS):
            calls += 1
            response = client.batch_write_item(RequestItems={table: pending})
            pending = response.get("UnprocessedItems", {}).get(table, [])
            if not pending:
                break
            time.sleep(random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)))
        if pending:
            written = start + BATCH_WRITE_LIMIT - len(pending)
            raise ServiceUnavailable(
                f"DynamoDB did not accept {len(pending)} of {len(requests)} writes after {BATCH_ATTEMPTS} attempts; "
                f"{written} were written and are safe to send again",
                retry_after=2,
                extra={"written": written, "total": len(requests)},
            )
    return calls
