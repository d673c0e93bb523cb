"""Per-request overhead of the main API paths (issue 16, item 8), through uvicorn over TCP.

A thread hop (a task handed to a thread pool and awaited) costs a context switch each way and,
under load, a wait for a thread. Counted here: every submission to a thread pool made from the
server's event-loop thread while one request is served. Django's ASGI handler makes two of its
own (the request_started signal's sync receivers, and closing the response, which fires
request_finished: both tend the request's database connection); authentication makes one (the
token, its user and their permissions); the view's DynamoDB work one. The middleware makes none
(tra/http/middleware.py); before it, Django's middleware made 13 more.
"""

import asyncio
import concurrent.futures
import threading
import time
from collections import Counter

import aiohttp
import pytest
from asgiref.sync import SyncToAsync, sync_to_async
from django.core.signals import request_finished

from tests.support.api import upload_document
from tests.support.served import uvicorn_in_thread

pytestmark = [pytest.mark.usefixtures("dynamo_table", "aws_clients")]

HOPS_PER_REQUEST = 4  # handler 2 + auth 1 + DynamoDB 1
SERVER_THREAD = "uvicorn"  # tests/support/served.py names its thread so
SETTLE_SECONDS = 60  # a liveness guard for a loaded machine, not a budget: the close follows at once


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


class HopCounter:
    """Counts thread-pool submissions and sync_to_async calls made from the server's thread."""

    def __init__(self, monkeypatch) -> None:
        self.submits = 0
        self.thread_starts = 0
        self.started: list[str] = []
        self.sync_to_async: Counter = Counter()
        submit, call = concurrent.futures.ThreadPoolExecutor.submit, SyncToAsync.__call__
        counter = self

        def counting_submit(executor, function, /, *args, **kwargs):
            if threading.current_thread().name == SERVER_THREAD:
                counter.submits += 1
            return submit(executor, function, *args, **kwargs)

        async def counting_call(adapter, *args, **kwargs):
            if threading.current_thread().name == SERVER_THREAD:
                counter.sync_to_async[getattr(adapter.func, "__qualname__", repr(adapter.func))] += 1
            return await call(adapter, *args, **kwargs)

        start = threading.Thread.start

        def counting_start(thread):
            # The DynamoDB pool grows to its size on demand (once per process, not per request).
            if threading.current_thread().name == SERVER_THREAD and not thread.name.startswith("tra-dynamo"):
                counter.thread_starts += 1
                counter.started.append(thread.name)
            return start(thread)

        monkeypatch.setattr(concurrent.futures.ThreadPoolExecutor, "submit", counting_submit)
        monkeypatch.setattr(SyncToAsync, "__call__", counting_call)
        monkeypatch.setattr(threading.Thread, "start", counting_start)

    async def served(self) -> None:
        """Until the server has closed the response (its last hop, made after the client has the answer)
        and the request has ended."""
        from tra.asgi import request_threads

        deadline = time.monotonic() + SETTLE_SECONDS
        # Closed, and its request thread handed back (requests here come one at a time).
        while not (self.sync_to_async["HttpResponseBase.close"] and request_threads.idle):
            assert time.monotonic() < deadline, "the server never closed the response"
            await asyncio.sleep(0.005)

    def reset(self) -> None:
        self.submits = 0
        self.thread_starts = 0
        self.started.clear()
        self.sync_to_async.clear()


async def _prepared(owner) -> tuple[str, str]:
    """An assessment, and a document whose summary is stored (the next request is a cache hit)."""
    assessment = await owner.post("/assessments", {"title": "Acme Cloud"})
    assert assessment.status == 201, assessment.body
    document = await upload_document(owner, b"Access policy.\n\nMFA is enforced for all administrators.")
    assert document.status == 201, document.body
    summary = await owner.post(f"/documents/{document.body['id']}/summary")
    assert summary.status == 200, summary.body
    return assessment.body["id"], document.body["id"]


async def test_each_main_api_request_makes_at_most_four_thread_hops(users, monkeypatch):
    owner = users["owner"]
    assessment_id, document_id = await _prepared(owner)
    token = owner._headers["Authorization"]
    paths = [
        ("GET", "/health"),
        ("GET", "/assessments?limit=25"),
        ("GET", f"/assessments/{assessment_id}"),
        ("POST", f"/documents/{document_id}/summary"),
        ("GET", "/documents?limit=25"),
    ]
    counter = HopCounter(monkeypatch)
    with uvicorn_in_thread() as api:
        async with aiohttp.ClientSession(headers={"Authorization": token}) as session:
            for method, path in paths:
                counter.reset()
                async with session.request(method, api + path) as response:  # warm: pools, first use
                    assert response.status == 200, (path, await response.text())
                await counter.served()
                counter.reset()
                async with session.request(method, api + path) as response:
                    assert response.status == 200, (path, await response.text())
                    await response.read()
                    headers = response.headers
                await counter.served()
                assert counter.submits <= HOPS_PER_REQUEST, (path, counter.submits, dict(counter.sync_to_async))
                assert sum(counter.sync_to_async.values()) <= HOPS_PER_REQUEST - 1, (path, counter.sync_to_async)
                assert not [name for name in counter.sync_to_async if "Middleware" in name], counter.sync_to_async
                assert counter.thread_starts == 0, (
                    path,
                    counter.started,
                )  # the request thread is reused (Django: 2 new threads)
                # What the middleware is for is still done, on the loop.
                assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"
                assert headers["Referrer-Policy"] == "same-origin" and headers["Content-Length"]


async def test_a_reused_request_threads_database_work_is_closed_by_its_own_request(users, monkeypatch):
    """Django's request_finished (close_old_connections) runs on the thread that did the request's
    database work, reused or not, so no connection outlives its request there (in-memory SQLite, the
    tests' database, ignores close(); a file or PostgreSQL connection is closed)."""
    from tra.asgi import request_threads
    from tra.http import auth

    queried, finished = [], []
    token_caller = auth._token_caller

    def recording_token_caller(token):
        queried.append(threading.get_ident())
        return token_caller(token)

    def record_finished(**_kwargs):
        finished.append(threading.get_ident())

    monkeypatch.setattr(auth, "_token_caller", recording_token_caller)
    request_finished.connect(record_finished)
    try:
        with uvicorn_in_thread() as api:
            async with aiohttp.ClientSession(headers={"Authorization": users["owner"]._headers["Authorization"]}) as s:
                for _ in range(4):
                    async with s.get(f"{api}/documents?limit=5") as response:
                        assert response.status == 200, await response.text()
            deadline = time.monotonic() + SETTLE_SECONDS
            idle = set()
            # The last request closes just after the client has its answer, then hands its thread back.
            while len(finished) < 4 or not set(queried) <= idle:
                assert time.monotonic() < deadline, "a request never finished"
                await asyncio.sleep(0.005)
                idle = {thread.submit(threading.get_ident).result() for thread in list(request_threads.idle)}
    finally:
        request_finished.disconnect(record_finished)
    assert finished == queried  # each request's close on the thread of its query
    assert len(set(queried)) < 4  # threads reused (kept for the next requests: the loop above)


async def test_a_request_thread_still_busy_when_its_request_ends_is_not_reused():
    """A cancelled request can leave its sync code running: that thread stops after it instead."""
    from tra.asgi import RequestThreads

    threads = RequestThreads(keep=4)
    started, release = threading.Event(), threading.Event()

    def busy() -> None:
        started.set()
        release.wait()

    async with threads.thread():
        first = await sync_to_async(threading.get_ident)()
    async with threads.thread():
        assert await sync_to_async(threading.get_ident)() == first  # reused
        assert not threads.idle  # taken by this request
        task = asyncio.ensure_future(sync_to_async(busy)())  # still running when the request ends
        await asyncio.to_thread(started.wait)
    assert not threads.idle  # not handed to the next request
    async with threads.thread():
        assert await sync_to_async(threading.get_ident)() != first  # the next request gets a new thread
    release.set()
    await task
    assert len(threads.idle) == 1  # the new one, kept
