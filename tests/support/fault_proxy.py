"""A TCP proxy on 127.0.0.1 that can stall or drop the requests going through it.

Put it in front of a real server (the moto DynamoDB server) and point a client at
`endpoint_url`. Modes, switched at any time by the test:

    proxy.mode = "pass"    # forward both ways (the default)
    proxy.mode = "stall"   # swallow each request and never answer: the client's read timeout fires
    proxy.mode = "drop"    # close the connection as soon as a request arrives: no response at all

`requests` counts the HTTP requests seen (a chunk from the client starting with an
HTTP method), `faults` those stalled or dropped. Nothing reaches the upstream
server while a request is stalled or dropped, so a write sent then is never applied.

`proxy.answer_late("TransactWriteItems", "PutItem", times=1)` is the other way round:
the next matching request reaches the server and is applied, but its answer is
withheld until the client gives up (its read timeout) and closes the connection, so
botocore sends the write again. The proxy holds every later request until the server
has answered the withheld one, so the retry is applied after the original, as it
would be by DynamoDB (moto, ignoring ClientRequestToken, applies it again). `late`
counts the answers withheld.
"""

import contextlib
import socket
import threading

from devtools.tcp_proxy import CountingProxy, _operation
from tests.support.dynamo_faults import INJECTED

APPLIED_WAIT_SECONDS = 60  # a bound for a hung server, never reached by a working one

_METHODS = (b"GET ", b"POST ", b"PUT ", b"PATCH ", b"DELETE ", b"HEAD ")


class FaultProxy(CountingProxy):
    def __init__(self, upstream_host: str, upstream_port: int):
        super().__init__(upstream_host, upstream_port)
        self.mode = "pass"
        self.requests = 0
        self.faults = 0
        self.late = 0
        self._late_operations: set[str] = set()
        self._late_left = 0
        self._withheld: set[socket.socket] = set()  # upstream sockets whose answer the client never gets
        self._unanswered = threading.Condition(self._lock)
        self._waiting = 0  # withheld requests the server has not answered yet

    def answer_late(self, *operations: str, times: int = 1) -> None:
        with self._lock:
            self._late_operations = set(operations)
            self._late_left = times

    def forward(self, client: socket.socket, upstream: socket.socket) -> None:
        stalled = False
        with contextlib.suppress(OSError):
            while data := client.recv(65536):
                if data.startswith(_METHODS):
                    with self._lock:
                        # The previous withheld write is applied before anything else goes on.
                        self._unanswered.wait_for(lambda: self._waiting == 0, timeout=APPLIED_WAIT_SECONDS)
                        self.requests += 1
                        mode = self.mode
                        if mode != "pass":
                            self.faults += 1
                            INJECTED[f"dynamodb {'read timeout' if mode == 'stall' else 'dropped connection'}"] += 1
                        elif self._late_left and _operation(data.split(b"\r\n\r\n", 1)[0]) in self._late_operations:
                            self._late_left -= 1
                            self.late += 1
                            self._waiting += 1
                            self._withheld.add(upstream)
                            INJECTED["dynamodb write applied, answered after the read timeout"] += 1
                    if mode == "drop":
                        break
                    stalled = mode == "stall"
                if not stalled:
                    upstream.sendall(data)
        # The client closed, or the request is dropped (a stalled client closes after its read
        # timeout): close both sides, which also ends the upstream-to-client pump.
        for sock in (client, upstream):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def backward(self, upstream: socket.socket, client: socket.socket) -> None:
        withheld = False
        with contextlib.suppress(OSError):
            while data := upstream.recv(65536):
                with self._lock:
                    if upstream in self._withheld:
                        self._withheld.discard(upstream)
                        self._waiting -= 1
                        self._unanswered.notify_all()
                        withheld = True  # applied and answered: the answer is dropped, the client times out
                if not withheld:
                    client.sendall(data)
        for sock in (upstream, client):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
