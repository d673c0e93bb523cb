"""A TCP proxy on 127.0.0.1 that can stall or drop the requests going through it.

Put it in front of a real server (the moto DynamoDB server) and point a client at
`endpoint_url`. Modes, switched at any time by the test:

    proxy.mode = "pass"    # forward both ways (the default)
    proxy.mode = "stall"   # swallow each request and never answer: the client's read timeout fires
    proxy.mode = "drop"    # close the connection as soon as a request arrives: no response at all

`requests` counts the HTTP requests seen (a chunk from the client starting with an
HTTP method), `faults` those stalled or dropped. Nothing reaches the upstream
server while a request is stalled or dropped, so a write sent then is never applied.
"""

import contextlib
import socket

from devtools.tcp_proxy import CountingProxy
from tests.support.dynamo_faults import INJECTED

_METHODS = (b"GET ", b"POST ", b"PUT ", b"PATCH ", b"DELETE ", b"HEAD ")


class FaultProxy(CountingProxy):
    def __init__(self, upstream_host: str, upstream_port: int):
        super().__init__(upstream_host, upstream_port)
        self.mode = "pass"
        self.requests = 0
        self.faults = 0

    def forward(self, client: socket.socket, upstream: socket.socket) -> None:
        stalled = False
        with contextlib.suppress(OSError):
            while data := client.recv(65536):
                if data.startswith(_METHODS):
                    with self._lock:
                        self.requests += 1
                        mode = self.mode
                        if mode != "pass":
                            self.faults += 1
                            INJECTED[f"dynamodb {'read timeout' if mode == 'stall' else 'dropped connection'}"] += 1
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
