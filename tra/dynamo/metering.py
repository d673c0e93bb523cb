"""Capacity meter and scan guard, hooked into every DynamoDB client's event system.

Every data call asks DynamoDB for ReturnConsumedCapacity=INDEXES and the meter
records, per (operation, index): calls, read and write capacity units, items
returned and items evaluated (ScannedCount). Tests assert on these counts; the
/metrics endpoint and the admin dashboard read them.

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


@dataclass
class OperationStats:
    calls: int = 0
    read_units: float = 0.0
    write_units: float = 0.0
    items: int = 0
    scanned: int = 0


class CapacityMeter:
    """Process-wide, thread-safe counters of DynamoDB calls and capacity."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stats: dict[tuple[str, str], OperationStats] = defaultdict(OperationStats)
        self.unguarded_scans = 0

    def record(self, operation: str, index: str, *, read: float, write: float, items: int, scanned: int) -> None:
        with self._lock:
            stats = self._stats[(operation, index)]
            stats.calls += 1
            stats.read_units += read
            stats.write_units += write
            stats.items += items
            stats.scanned += scanned

    def record_unguarded_scan(self) -> None:
        with self._lock:
            self.unguarded_scans += 1

    def snapshot(self) -> dict[tuple[str, str], OperationStats]:
        with self._lock:
            return {key: OperationStats(**asdict(value)) for key, value in self._stats.items()}

    def reset(self) -> None:
        with self._lock:
            self._stats.clear()
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


def _after_call(http_response, parsed, model, context, **kwargs):
    operation = model.name
    if operation not in DATA_OPERATIONS or not isinstance(parsed, dict) or "Error" in parsed:
        return
    items = parsed.get("Count")
    if items is None:
        items = 1 if parsed.get("Item") else len(parsed.get("Items", ()))
    scanned = parsed.get("ScannedCount", items)
    index = context.get("tra_index", TABLE)
    entries = _capacity_entries(parsed)
    if not entries:
        meter.record(operation, index, read=0.0, write=0.0, items=items, scanned=scanned)
        return
    for entry in entries:
        read, write = _units(operation, entry)
        meter.record(operation, index, read=read, write=write, items=items, scanned=scanned)


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
    events.register("after-call.dynamodb", _after_call, unique_id="tra-meter-after-call")
