"""Section 6: N concurrent LLM-bound API requests on one ASGI worker, against a synchronous baseline.

N owners' documents are summarised through the real API
(`POST /api/documents/{id}/summary?refresh=true`, so every request makes its
Bedrock call) while the fake Bedrock server takes `latency` seconds per call.
The design: the N requests arrive together at the ASGI application, which
serves them in one event loop (as one uvicorn worker does) - each request awaits
its call without holding a thread. The baseline is a synchronous worker, which
serves one request at a time: the same requests, one after another. The figure
is wall time / latency: about 1 when the worker overlaps the waits, N when not.
"""

import asyncio
import json
import time
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import AsyncClient
from django.test.utils import override_settings

from devtools import demo
from tra.aws import clients
from tra.http.auth import token_create


@dataclass
class ConcurrencyResult:
    requests: int
    latency: float
    concurrent_seconds: float
    sequential_seconds: float
    statuses: list[int]

    @property
    def concurrent_ratio(self) -> float:
        return self.concurrent_seconds / self.latency

    @property
    def sequential_ratio(self) -> float:
        return self.sequential_seconds / self.latency


def _token() -> str:
    user, _ = get_user_model().objects.get_or_create(username="benchmark-concurrency")
    return token_create(user=user, name="benchmark")[1]


async def _scenario(requests: int) -> tuple[float, float, list[int]]:
    token = await sync_to_async(_token)()
    headers = {"Authorization": f"Bearer {token}"}
    client = AsyncClient()
    documents = []
    for n in range(requests):
        text = f"{demo.VENDORS[n % len(demo.VENDORS)]} policy {n}.\n\n" + "\n\n".join(a for _q, a in demo.CONTROLS)
        upload = SimpleUploadedFile(f"policy-{n}.txt", text.encode(), content_type="text/plain")
        response = await client.post("/api/documents", data={"file": upload}, headers=headers)
        if response.status_code != 201:
            raise RuntimeError(f"upload failed: {response.status_code} {response.content[:200]!r}")
        documents.append(json.loads(response.content)["id"])

    async def summarize(document_id: str) -> int:
        response = await client.post(f"/api/documents/{document_id}/summary?refresh=true", headers=headers)
        return response.status_code

    started = time.perf_counter()
    statuses = await asyncio.gather(*(summarize(document_id) for document_id in documents))
    concurrent = time.perf_counter() - started
    started = time.perf_counter()
    for document_id in documents:
        statuses.append(await summarize(document_id))
    sequential = time.perf_counter() - started
    await clients.close()
    return concurrent, sequential, list(statuses)


def run(bedrock, requests: int = 16, latency: float = 0.25, *, progress=print) -> ConcurrencyResult:
    progress(f"concurrency: {requests} summary requests, Bedrock answering in {latency:.2f} s each")
    bedrock.latency = latency
    try:
        with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):  # the in-process client's host
            concurrent, sequential, statuses = asyncio.run(_scenario(requests))
    finally:
        bedrock.latency = 0.0
    return ConcurrencyResult(requests, latency, concurrent, sequential, statuses)
