"""Multi-item writes: transactions and batches, with their failure modes made explicit.

- `transaction()` runs a TransactWriteItems (all or nothing) on the shared
  connection and turns a failed condition into `ConditionFailed`, naming which
  items' conditions failed, so services can answer 409 or 404 precisely. A
  transaction DynamoDB cancelled for a `TransactionConflict` (another write on
  one of its items at that moment) applied nothing, so it is sent again, up to
  TRANSACTION_ATTEMPTS times with jittered backoff: if the other writer won, the
  retry's own conditions fail (a real 409); if the clash persists it is a
  `TransactionConflict` (503 with Retry-After). botocore does not retry these.
  A transaction given a `witness` (a freshly keyed item it puts) is idempotent: when
  its conditions fail, or its outcome is unknown after botocore's retries, and the
  table holds the witness as written, an earlier attempt of this very transaction
  committed (all or nothing), and it answers as a success (tra/dynamo/idempotency.py).
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

from tra.errors import Conflict, ServiceUnavailable

from .connection import botocore_client, table_connection
from .idempotency import held_after_failure, outcome_unknown
from .models import TableModel

BATCH_WRITE_LIMIT = 25  # BatchWriteItem takes at most 25 put/delete requests
TRANSACTION_LIMIT = 100  # TransactWriteItems takes at most 100 actions
BATCH_ATTEMPTS = 8
# Sends of a transaction cancelled by TransactionConflict, the first included. Several writers meet on
# one item by design (concurrent link batches all ADD to their assessment's evidence version, turns of
# one chat ADD to its session): six sends with jittered backoff (at most ~1.5 s of waiting) let a burst
# of them through one after another instead of answering 503.
TRANSACTION_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 0.05
BACKOFF_CAP_SECONDS = 2.0


class TransactionConflict(ServiceUnavailable):
    """Another transaction was writing the same item at the same moment (DynamoDB cancels one)."""


class ConditionFailed(Conflict):
    """A transaction was cancelled because the condition on item(s) `positions` failed: a
    concurrent change got there first. Services turn it into a precise 409 or 404; one that
    reaches the API unhandled is still a 409, never a 500."""

    def __init__(self, positions: list[int]):
        super().__init__(
            f"a concurrent change got there first (condition failed on transaction item(s) {positions}); "
            "reload and retry",
            extra={"positions": positions},
        )
        self.positions = positions


@contextlib.contextmanager
def transaction(*, witness: TableModel | None = None) -> Iterator[TransactWrite]:
    """`with transaction() as write: write.save(a); write.save(b)` commits on exit.

    `witness`: an item the block puts under a fresh key (an audit event, a message); when
    the commit fails its conditions or ends with its outcome unknown and the table holds the
    witness as written, an earlier attempt committed: success, not an error."""
    writer = TransactWrite(connection=table_connection().connection)
    yield writer  # an exception in the block propagates from here: nothing is sent
    for attempt in range(TRANSACTION_ATTEMPTS):
        try:
            writer._commit()  # what TransactWrite.__exit__ does; it keeps no state between sends
            return
        except TransactWriteError as error:
            if witness is not None and _committed_before(writer, error, witness):
                return
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


def _committed_before(writer: TransactWrite, error: TransactWriteError, witness: TableModel) -> bool:
    """After a failed send: did an earlier attempt of this transaction commit? Then finish as
    the commit would have (local versions one up)."""
    reasons = [reason.code for reason in error.cancellation_reasons or [] if reason is not None]
    maybe_applied = "ConditionalCheckFailed" in reasons or (not reasons and outcome_unknown(error))
    if not (maybe_applied and held_after_failure(witness)):
        return False
    for model in writer._models_for_version_attribute_update:
        model.update_local_version_attribute()
    return True


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
        sent = len(pending)
        for attempt in range(BATCH_ATTEMPTS):
            calls += 1
            response = client.batch_write_item(RequestItems={table: pending})
            pending = response.get("UnprocessedItems", {}).get(table, [])
            if not pending:
                break
            time.sleep(random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)))
        if pending:
            written = start + sent - len(pending)
            raise ServiceUnavailable(
                f"DynamoDB did not accept {len(pending)} of {len(requests)} writes after {BATCH_ATTEMPTS} attempts; "
                f"{written} were written and are safe to send again",
                retry_after=2,
                extra={"written": written, "total": len(requests)},
            )
    return calls
