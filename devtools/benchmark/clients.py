"""Section 3: AWS clients, pooled against a new session and client per call.

The design is tra.aws.clients: one aioboto3 client per service and event loop,
its connection pool reused by every request. The naive baseline opens an
aioboto3 Session and client for each call and closes it afterwards. Both make
the same GetItem calls, `concurrency` at a time, through a counting TCP proxy in
front of the local DynamoDB server, which tells how many connections each opened.
"""

import asyncio
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import aioboto3
from aiobotocore.config import AioConfig
from django.conf import settings
from django.test.utils import override_settings

from devtools.tcp_proxy import CountingProxy
from tra.aws import clients
from tra.dynamo.config import client_config_kwargs, credentials_for


@dataclass
class ClientFigures:
    calls: int
    seconds: float
    connections: int
    clients_created: int

    @property
    def ms_per_call(self) -> float:
        return self.seconds / self.calls * 1000


@dataclass
class ClientResult:
    concurrency: int
    pooled: ClientFigures
    per_call: ClientFigures


def _key() -> dict:
    return {"pk": {"S": "BENCHMARK#client"}, "sk": {"S": "#META"}}


async def _calls(total: int, concurrency: int, call) -> float:
    gate = asyncio.Semaphore(concurrency)

    async def one():
        async with gate:
            await call()

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(total)))
    return time.perf_counter() - started


async def _pooled(total: int, concurrency: int) -> ClientFigures:
    created = clients.created

    async def call():
        client = await clients.get("dynamodb")
        await client.get_item(TableName=settings.TRA_TABLE_NAME, Key=_key())

    seconds = await _calls(total, concurrency, call)
    figures = ClientFigures(total, seconds, 0, clients.created - created)
    await clients.close()
    return figures


async def _per_call(total: int, concurrency: int) -> ClientFigures:
    endpoint = settings.DYNAMODB_ENDPOINT_URL
    created = 0

    async def call():
        nonlocal created
        session = aioboto3.Session()
        async with session.client(
            "dynamodb",
            region_name=settings.AWS_REGION,
            endpoint_url=endpoint,
            # Creating a client blocks the event loop (~100 ms of CPU); ten at once on a busy machine would
            # starve the connects and time them out: the baseline measures time, not the timeout.
            config=AioConfig(**{**client_config_kwargs(), "connect_timeout": 60}),
            **credentials_for(endpoint),
        ) as client:
            created += 1
            await client.get_item(TableName=settings.TRA_TABLE_NAME, Key=_key())

    seconds = await _calls(total, concurrency, call)
    return ClientFigures(total, seconds, 0, created)


def _through_proxy(measure, total: int, concurrency: int) -> ClientFigures:
    upstream = urlsplit(settings.DYNAMODB_ENDPOINT_URL)
    with (
        CountingProxy(upstream.hostname, upstream.port) as proxy,
        override_settings(DYNAMODB_ENDPOINT_URL=proxy.endpoint_url),
    ):
        figures = asyncio.run(measure(total, concurrency))
        figures.connections = proxy.connections
    return figures


def run(calls: int = 400, concurrency: int = 10, *, progress=print) -> ClientResult:
    progress(f"clients: {calls} GetItem calls, {concurrency} at a time, pooled and per call")
    pooled = _through_proxy(_pooled, calls, concurrency)
    per_call = _through_proxy(_per_call, calls, concurrency)
    return ClientResult(concurrency, pooled, per_call)
