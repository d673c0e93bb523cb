"""Counting TCP proxies on 127.0.0.1.

- CountingProxy: how many connections does a client really open?
- DynamoDBCountingProxy: which DynamoDB calls reach the endpoint, per operation, and how
  many were answered with an error: the count a bill is made of, to check the app's own
  meter against (tests/tra/test_usage_metering.py, the benchmark's end-to-end section).
"""

import contextlib
import socket
import socketserver
import threading
from collections import Counter


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    # socketserver's default backlog is 5: a burst of new connections on a busy machine would
    # have SYNs dropped and the clients' connect timeouts fire (a client per call opens many).
    request_queue_size = 128


class CountingProxy:
    def __init__(self, upstream_host: str, upstream_port: int):
        self.upstream = (upstream_host, upstream_port)
        self.connections = 0  # accepted over the proxy's life
        self.open = 0
        self.max_open = 0  # the most connections open at once
        self._lock = threading.Lock()
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                with proxy._lock:
                    proxy.connections += 1
                    proxy.open += 1
                    proxy.max_open = max(proxy.max_open, proxy.open)
                try:
                    upstream = socket.create_connection(proxy.upstream)
                    pump = threading.Thread(target=proxy.backward, args=(upstream, self.request), daemon=True)
                    pump.start()
                    proxy.forward(self.request, upstream)
                    pump.join()
                finally:
                    with proxy._lock:
                        proxy.open -= 1

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def forward(self, client: socket.socket, upstream: socket.socket) -> None:
        """Client to upstream until either side closes (subclasses may interfere: tests/support/fault_proxy.py)."""
        _pipe(client, upstream)

    def backward(self, upstream: socket.socket, client: socket.socket) -> None:
        """Upstream to client until either side closes."""
        _pipe(upstream, client)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "CountingProxy":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.shutdown()
        self.server.server_close()


def _pipe(source: socket.socket, target: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            target.sendall(data)
    for sock in (source, target):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


_TARGET = b"x-amz-target:"
_FAULT_BODY = b'{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"injected by the proxy"}'
_FAULT_RESPONSE = (
    b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/x-amz-json-1.0\r\n"
    b"Content-Length: %d\r\nx-amzn-RequestId: proxy-fault\r\n\r\n%s" % (len(_FAULT_BODY), _FAULT_BODY)
)


class DynamoDBCountingProxy(CountingProxy):
    """Counts the DynamoDB requests that reach the endpoint (per `X-Amz-Target` operation) and
    those answered with an HTTP error; `fail_next(operation, times)` answers that many of the
    next requests of `operation` with a 500 itself, a server fault the client retries.

    Requests and responses are read as HTTP/1.1 messages with a Content-Length, as botocore
    sends them and the local servers answer; one request at a time per connection.
    """

    def __init__(self, upstream_host: str, upstream_port: int):
        super().__init__(upstream_host, upstream_port)
        self.requests: Counter = Counter()  # operation -> requests received
        self.errors: Counter = Counter()  # operation -> requests answered with a status >= 400
        self._faults: Counter = Counter()  # operation -> requests still to answer with a 500
        self._pending: dict[int, list[str]] = {}  # upstream socket -> operations awaiting an answer

    def fail_next(self, operation: str, times: int = 1) -> None:
        with self._lock:
            self._faults[operation] += times

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.errors.clear()

    def forward(self, client: socket.socket, upstream: socket.socket) -> None:
        reader = _MessageReader(client)
        with contextlib.suppress(OSError):
            while (message := reader.next()) is not None:
                head, body = message
                operation = _operation(head)
                with self._lock:
                    self.requests[operation] += 1
                    fault = self._faults[operation] > 0
                    if fault:
                        self._faults[operation] -= 1
                        self.errors[operation] += 1
                    else:
                        self._pending.setdefault(id(upstream), []).append(operation)
                if fault:
                    client.sendall(_FAULT_RESPONSE)
                else:
                    upstream.sendall(head + body)
        for sock in (client, upstream):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def backward(self, upstream: socket.socket, client: socket.socket) -> None:
        reader = _MessageReader(upstream)
        with contextlib.suppress(OSError):
            while (message := reader.next()) is not None:
                head, body = message
                status = int(head.split(b" ", 2)[1])
                with self._lock:
                    pending = self._pending.get(id(upstream)) or ["?"]
                    operation = pending.pop(0)
                    if status >= 400:
                        self.errors[operation] += 1
                client.sendall(head + body)
        with self._lock:
            self._pending.pop(id(upstream), None)
        for sock in (upstream, client):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _MessageReader:
    """Whole HTTP/1.1 messages (head, body) from a socket, bodies by Content-Length."""

    def __init__(self, sock: socket.socket):
        self._sock = sock
        self._buffer = b""

    def next(self) -> tuple[bytes, bytes] | None:
        while (end := self._buffer.find(b"\r\n\r\n")) < 0:
            if not self._fill():
                return None
        head, self._buffer = self._buffer[: end + 4], self._buffer[end + 4 :]
        length = _content_length(head)
        while len(self._buffer) < length:
            if not self._fill():
                return None
        body, self._buffer = self._buffer[:length], self._buffer[length:]
        return head, body

    def _fill(self) -> bool:
        data = self._sock.recv(65536)
        self._buffer += data
        return bool(data)


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return 0


def _operation(head: bytes) -> str:
    for line in head.split(b"\r\n")[1:]:
        if line.lower().startswith(_TARGET):
            return line[len(_TARGET) :].strip().decode().rsplit(".", 1)[-1]
    return "?"
