"""The ASGI application under uvicorn over TCP, in a thread of the test process.

The thread shares the test's settings, database, fake servers and capacity meter, so a test
drives the real server path (HTTP parsing, the lifespan, the thread pools) and still counts.
"""

import contextlib
import threading
import time
from collections.abc import Iterator

import uvicorn

from devtools.local_dynamo.server import free_port

START_SECONDS = 60  # a liveness guard for a loaded machine, not a budget: uvicorn starts in well under a second


@contextlib.contextmanager
def uvicorn_in_thread() -> Iterator[str]:
    """Serve tra.asgi.application (lifespan on) on a free port of 127.0.0.1; yields the API's base URL."""
    from tra.asgi import application  # after Django is set up (pytest-django has done it by now)

    config = uvicorn.Config(
        application, host="127.0.0.1", port=free_port(), lifespan="on", log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_SECONDS
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{config.port}/api"
    finally:
        server.should_exit = True
        thread.join(timeout=START_SECONDS)
        assert not thread.is_alive()
