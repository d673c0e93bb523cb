"""A counting TCP proxy on 127.0.0.1: how many connections does a client really open?"""

import contextlib
import socket
import socketserver
import threading


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
                    pump = threading.Thread(target=_pipe, args=(upstream, self.request), daemon=True)
                    pump.start()
                    proxy.forward(self.request, upstream)
                    pump.join()
                finally:
                    with proxy._lock:
                        proxy.open -= 1

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def forward(self, client: socket.socket, upstream: socket.socket) -> None:
        """Client to upstream until either side closes (subclasses may interfere: tests/support/fault_proxy.py)."""
        _pipe(client, upstream)

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
