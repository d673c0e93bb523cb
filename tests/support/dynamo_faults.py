"""Fault injection on the real botocore DynamoDB client, counting every attempt.

`DynamoFaults.attach(client)` registers a `before-send` handler on a botocore client
(PynamoDB's shared one: `tra.dynamo.connection.botocore_client()`). botocore emits
`before-send` inside its retry loop, after the request is serialized and signed,
where it would go on the wire; a response returned there replaces the server's
answer. botocore then parses it and its retry handler decides exactly as it would
for a real DynamoDB error: throttling codes and 5xx are retried with backoff,
`TransactionCanceledException` is not. Requests with no fault pending go on to
the real (moto) server.

    faults = DynamoFaults().attach(botocore_client())
    faults.throttle("GetItem", times=2)                  # the next 2 GetItem attempts get 400 throttling
    faults.throttle("TransactWriteItems")                # every attempt, until faults.clear()
    faults.cancel_transactions(times=1)                  # TransactionCanceledException [TransactionConflict, None...]
    faults.leave_unprocessed(after=1)                    # BatchWriteItem: first call through, then all unprocessed
    faults.attempts["GetItem"], faults.injected["throttle"]

Every fault injected is also added to the session-wide `INJECTED` counter, which
tests/reliability prints as a summary line.
"""

import itertools
import json
import threading
from collections import Counter
from dataclasses import dataclass

from botocore.awsrequest import AWSResponse

INJECTED: Counter = Counter()  # fault kind -> faults injected over the whole test session
_ids = itertools.count()


class _Raw:
    """The `raw` of an AWSResponse: botocore reads the body through `stream()`."""

    def __init__(self, body: bytes):
        self._body = body

    def stream(self, **kwargs):
        yield self._body


def response(url: str, status: int, payload: dict) -> AWSResponse:
    body = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/x-amz-json-1.0",
        "Content-Length": str(len(body)),
        "x-amzn-RequestId": f"fault-{next(_ids)}",
    }
    return AWSResponse(url, status, headers, _Raw(body))


def error(url: str, status: int, code: str, message: str, **extra) -> AWSResponse:
    return response(url, status, {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message, **extra})


@dataclass
class _Fault:
    kind: str
    operation: str
    remaining: int | None  # None: until cleared
    skip: int  # let this many matching calls through first
    code: str = ""
    status: int = 400


class DynamoFaults:
    def __init__(self) -> None:
        self.attempts: Counter = Counter()  # operation -> attempts botocore sent (faulted or not)
        self.injected: Counter = Counter()  # fault kind -> faults injected by this injector
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._unique_id = f"tra-test-faults-{id(self)}"

    def attach(self, client) -> "DynamoFaults":
        client.meta.events.register("before-send.dynamodb", self._before_send, unique_id=self._unique_id)
        return self

    def detach(self, client) -> None:
        client.meta.events.unregister("before-send.dynamodb", unique_id=self._unique_id)

    # --- faults ----------------------------------------------------------------------
    def throttle(
        self,
        operation: str,
        *,
        times: int | None = None,
        code: str = "ProvisionedThroughputExceededException",
        after: int = 0,
    ) -> None:
        """`after`: let that many calls of `operation` through first."""
        self._add(_Fault("throttle", operation, times, after, code=code, status=400))

    def fail(self, operation: str, *, times: int | None = None) -> None:
        """500 InternalServerError (botocore retries 5xx)."""
        self._add(_Fault("internal_error", operation, times, 0, code="InternalServerError", status=500))

    def cancel_transactions(self, *, times: int | None = None, reason: str = "TransactionConflict") -> None:
        """TransactWriteItems cancelled with `reason` on the first item, as DynamoDB does when
        another transaction is writing that item at the same moment."""
        self._add(_Fault("transaction_conflict", "TransactWriteItems", times, 0, code=reason))

    def leave_unprocessed(self, *, times: int | None = None, after: int = 0) -> None:
        """BatchWriteItem answers 200 with every request in UnprocessedItems (nothing written)."""
        self._add(_Fault("unprocessed_items", "BatchWriteItem", times, after))

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def _add(self, fault: _Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    # --- the hook ----------------------------------------------------------------------
    def _before_send(self, request, **kwargs):
        target = request.headers.get("X-Amz-Target", b"")
        target = target.decode() if isinstance(target, bytes) else target
        operation = target.rsplit(".", 1)[-1]
        with self._lock:
            self.attempts[operation] += 1
            fault = next((f for f in self._faults if f.operation == operation), None)
            if fault is None:
                return None
            if fault.skip > 0:
                fault.skip -= 1
                return None
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
            self.injected[fault.kind] += 1
            INJECTED[f"dynamodb {fault.kind}"] += 1
        body = json.loads(request.body or b"{}")
        if fault.kind == "unprocessed_items":
            return response(request.url, 200, {"UnprocessedItems": body["RequestItems"]})
        if fault.kind == "transaction_conflict":
            reasons = [{"Code": "None"} for _ in body["TransactItems"]]
            reasons[0] = {"Code": fault.code, "Message": "Transaction is ongoing for the item"}
            codes = ", ".join(reason["Code"] for reason in reasons)
            return error(
                request.url,
                400,
                "TransactionCanceledException",
                f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
                CancellationReasons=reasons,
            )
        return error(request.url, fault.status, fault.code, f"injected {fault.kind}")
