"""Capacity meter and scan guard, hooked into every DynamoDB client's event system.

Every data call asks DynamoDB for ReturnConsumedCapacity=INDEXES and the meter
records, per (operation, index) and per attempt as it is sent (botocore's
`response-received` event, inside its retry loop): calls (every request that
went out, retries and failed ones included, as DynamoDB counts them), failed
calls (an error answer or none), retries (attempts after the first), read and
write capacity units, items returned (`Items`, `Item`, or BatchGetItem's and
TransactGetItems' `Responses`) and items evaluated (ScannedCount). Tests assert
on these counts; the /metrics endpoint and the admin dashboard read them.

Calls made inside `overhead()` (the usage flush writing its own figures) are
counted like any other, and also apart, so that the flush can tell its own
writes from new activity.

A Scan is allowed only inside `batch_job()`: anywhere else it is a request-path
bug, so it raises ScanNotAllowed (DYNAMODB_SCAN_GUARD="raise", the default) or
is logged ("log"), and is counted either way.
"""

import contextlib
import contextvars
import logging
import threading
from collections import defaultdict
from dataclasses import asdict, dataclass

from django.conf import settings

logger = logging.getLogger(__name__)

# Operations that accept ReturnConsumedCapacity (control-plane calls reject it).
DATA_OPERATIONS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
)
WRITE_OPERATIONS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
TABLE = "table"  # the index label for calls on the base table

_batch_job: contextvars.ContextVar[str | None] = contextvars.ContextVar("dynamo_batch_job", default=None)
_overhead: contextvars.ContextVar[bool] = contextvars.ContextVar("dynamo_overhead", default=False)


class ScanNotAllowed(RuntimeError):
    """A Scan was issued outside a batch job."""


@contextlib.contextmanager
def batch_job(name: str):
    """Mark the enclosed code as a batch job, the only place a Scan may run.

    Context variables do not follow work into plain threads: a job that scans
    from a thread pool submits `contextvars.copy_context().run`.
    """
    token = _batch_job.set(name)
    try:
        yield
    finally:
        _batch_job.reset(token)


def current_batch_job() -> str | None:
    return _batch_job.get()


@contextlib.contextmanager
def overhead():
    """Mark the enclosed calls as the meter's own bookkeeping (see `CapacityMeter.activity`)."""
    token = _overhead.set(True)
    try:
        yield
    finally:
        _overhead.reset(token)


@dataclass
class OperationStats:
    calls: int = 0  # requests sent: first attempts, retries and failed ones
    read_units: float = 0.0
    write_units: float = 0.0
    items: int = 0
    scanned: int = 0
    failed: int = 0  # answered with an error, or not at all
    retries: int = 0  # attempts after a call's first


class CapacityMeter:
    """Process-wide, thread-safe counters of DynamoDB calls and capacity."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stats: dict[tuple[str, str], OperationStats] = defaultdict(OperationStats)
        self._overhead_calls = 0
        self.unguarded_scans = 0

    def record(
        self,
        operation: str,
        index: str,
        *,
        read: float,
        write: float,
        items: int,
        scanned: int,
        failed: bool = False,
        retry: bool = False,
    ) -> None:
        with self._lock:
            stats = self._stats[(operation, index)]
            stats.calls += 1
            stats.read_units += read
            stats.write_units += write
            stats.items += items
            stats.scanned += scanned
            stats.failed += failed
            stats.retries += retry
            if _overhead.get():
                self._overhead_calls += 1

    def activity(self) -> int:
        """Calls sent so far, the meter's own bookkeeping (`overhead()`) excluded."""
        with self._lock:
            return sum(stats.calls for stats in self._stats.values()) - self._overhead_calls

    def record_unguarded_scan(self) -> None:
        with self._lock:
            self.unguarded_scans += 1

    def snapshot(self) -> dict[tuple[str, str], OperationStats]:
        with self._lock:
            return {key: OperationStats(**asdict(value)) for key, value in self._stats.items()}

    def reset(self) -> None:
        with self._lock:
            self._stats.clear()
            self._overhead_calls = 0
            self.unguarded_scans = 0

    def calls(self, operation: str | None = None, index: str | None = None) -> int:
        return sum(
            stats.calls
            for (op, idx), stats in self.snapshot().items()
            if (operation is None or op == operation) and (index is None or idx == index)
        )


meter = CapacityMeter()


def _request_index(params: dict) -> str:
    return params.get("IndexName") or TABLE


def _before_parameters(params, model, context, **kwargs):
    operation = model.name
    if operation not in DATA_OPERATIONS:
        return
    params["ReturnConsumedCapacity"] = "INDEXES"
    context["tra_index"] = _request_index(params)
    if operation == "Scan" and current_batch_job() is None:
        meter.record_unguarded_scan()
        message = f"Scan on {params.get('TableName')} outside a batch job (wrap batch code in batch_job())"
        if settings.DYNAMODB_SCAN_GUARD == "raise":
            raise ScanNotAllowed(message)
        logger.warning(message)


def _capacity_entries(parsed: dict) -> list[dict]:
    consumed = parsed.get("ConsumedCapacity")
    if consumed is None:
        return []
    return consumed if isinstance(consumed, list) else [consumed]


def _response_received(parsed_response, context, exception, event_name, **kwargs):
    """Once per attempt (botocore emits it inside its retry loop), answered or not."""
    operation = event_name.rsplit(".", 1)[-1]
    if operation not in DATA_OPERATIONS:
        return
    index = context.get("tra_index", TABLE)
    retry = context.get("retries", {}).get("attempt", 1) > 1
    if not isinstance(parsed_response, dict) or exception is not None or "Error" in parsed_response:
        meter.record(operation, index, read=0.0, write=0.0, items=0, scanned=0, failed=True, retry=retry)
        return
    items = _items(parsed_response)
    scanned = parsed_response.get("ScannedCount", items)
    read = write = 0.0
    for entry in _capacity_entries(parsed_response):
        entry_read, entry_write = _units(operation, entry)
        read += entry_read
        write += entry_write
    meter.record(operation, index, read=read, write=write, items=items, scanned=scanned, retry=retry)


def _items(parsed: dict) -> int:
    if "Count" in parsed:
        return parsed["Count"]
    if "Item" in parsed:
        return 1
    responses = parsed.get("Responses")
    if isinstance(responses, dict):  # BatchGetItem: table name -> items
        return sum(len(items) for items in responses.values())
    if isinstance(responses, list):  # TransactGetItems: one entry per requested item, empty when absent
        return sum(1 for entry in responses if entry.get("Item"))
    return len(parsed.get("Items", ()))


def _units(operation: str, entry: dict) -> tuple[float, float]:
    read = entry.get("ReadCapacityUnits")
    write = entry.get("WriteCapacityUnits")
    if read is None and write is None:
        # Servers that report only CapacityUnits: attribute them by operation kind.
        total = float(entry.get("CapacityUnits", 0.0))
        return (0.0, total) if operation in WRITE_OPERATIONS else (total, 0.0)
    return float(read or 0.0), float(write or 0.0)


def instrument(events) -> None:
    """Register the meter and the scan guard on a botocore/aiobotocore client's events."""
    events.register("provide-client-params.dynamodb", _before_parameters, unique_id="tra-meter-params")
    events.register("response-received.dynamodb", _response_received, unique_id="tra-meter-response")
