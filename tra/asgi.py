"""ASGI entry point, with lifespan support Django's handler lacks, and request threads reused.

On `lifespan.startup` the long-lived AWS clients of this worker's event loop are
created (client creation blocks for ~100 ms, so not inside a request) and the
usage flush timer starts (tra.observability.usage); on `lifespan.shutdown` the
last usage figures are flushed and the clients closed. Run with
`uvicorn tra.asgi:application`.

Django's handler runs each request's sync code (middleware that touches the
database, authentication, the request signals) on a thread of the request's own:
a new one-thread executor per request, shut down after it by yet another thread.
Both threads are started from the event loop, and Thread.start() waits there until
the new thread runs, which on a loaded machine is the scheduler's time, per request.
`RequestThreads` keeps those executors and hands them to the next requests instead,
as a WSGI server's thread pool does: Django closes a request's database connection
when the request ends (request_finished), whatever thread served it. An executor
still running a request's code when the request ends (a cancelled request) is not
reused; it stops after that code, as Django's would.
"""

import asyncio
import collections
import contextlib
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import django
from asgiref.sync import ThreadSensitiveContext
from django.core.handlers.asgi import ASGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tra.settings.local")
django.setup(set_prefix=False)  # what django.core.asgi.get_asgi_application() does before its handler

# Executors kept between requests; more requests at once than this get executors of their own,
# which stop after their request, as Django's do.
IDLE_REQUEST_THREADS = 64


class _RequestThread(ThreadPoolExecutor):
    """One thread for one request at a time, counting the calls it has not finished."""

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="tra-request")
        self._lock = threading.Lock()
        self.unfinished = 0

    def submit(self, function, /, *args, **kwargs):
        with self._lock:
            self.unfinished += 1
        future = super().submit(function, *args, **kwargs)
        future.add_done_callback(self._finished)
        return future

    def _finished(self, _future) -> None:
        with self._lock:
            self.unfinished -= 1


class RequestThreads:
    """One-thread executors for requests' sync code, reused from request to request."""

    def __init__(self, keep: int = IDLE_REQUEST_THREADS) -> None:
        self.keep = keep
        self.idle: collections.deque[_RequestThread] = collections.deque()

    @contextlib.asynccontextmanager
    async def thread(self):
        """The enclosed code's thread-sensitive sync calls run on one thread (asgiref's contract)."""
        try:
            thread = self.idle.pop()
        except IndexError:
            thread = _RequestThread()
        try:
            async with ThreadSensitiveContext(executor=thread):
                yield
        finally:
            if thread.unfinished == 0 and len(self.idle) < self.keep:
                self.idle.append(thread)
            else:
                thread.shutdown(wait=False)  # its thread ends after what it is running

    def shutdown(self) -> None:
        while self.idle:
            self.idle.pop().shutdown(wait=False)


request_threads = RequestThreads()


class Handler(ASGIHandler):
    """Django's ASGI handler, each request on a reused request thread (Django: a new one)."""

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        async with request_threads.thread():
            await self.handle(scope, receive, send)


django_application = Handler()

from django.conf import settings  # noqa: E402

from llm import bedrock  # noqa: E402 - needs Django set up first
from tra.aws import clients  # noqa: E402
from tra.dynamo import executor  # noqa: E402
from tra.observability import usage  # noqa: E402

logger = logging.getLogger(__name__)


async def _lifespan(receive, send) -> None:
    flusher = None
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                await clients.warm("dynamodb")
                if settings.LLM_PROVIDER == "bedrock":
                    await bedrock.warm()
            except Exception as error:  # noqa: BLE001 - report, let the server decide
                logger.exception("start-up failed")
                await send({"type": "lifespan.startup.failed", "message": str(error)})
                return
            await executor.run_sync(usage.baseline)
            flusher = asyncio.create_task(usage.flush_periodically())
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if flusher is not None:
                flusher.cancel()
                await _final_flush()
            await clients.close()
            executor.shutdown()
            request_threads.shutdown()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _final_flush() -> None:
    await executor.run_sync(usage.flush_quietly)


async def application(scope, receive, send):
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
    else:
        await django_application(scope, receive, send)
