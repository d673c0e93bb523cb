"""Long-lived aioboto3 clients, one per (event loop, service).

aiobotocore clients hold an aiohttp connection pool bound to the event loop that
created them, so the registry keys clients by the running loop, creates them
lazily (once, under a per-loop lock), drops entries whose loop has closed, and
closes them explicitly: the ASGI lifespan wrapper (tra/asgi.py) opens them at
start-up and closes them at shutdown; a management command closes them at the
end of its single `async_to_sync` scope.

Creating a client costs ~100 ms of blocking work (loading the service model), so
`warm()` runs at start-up rather than inside the first request.

Bedrock clients read with BEDROCK_READ_TIMEOUT_SECONDS (a model takes seconds to
answer; DynamoDB keeps the short AWS_READ_TIMEOUT_SECONDS), and a Converse call
whose answer timed out is not retried: the model may have run, and been billed.
Throttling, 5xx and connection errors are still retried by botocore.
"""

import asyncio
import contextlib
from dataclasses import dataclass

import aioboto3
from aiobotocore.config import AioConfig
from botocore.exceptions import ReadTimeoutError
from django.conf import settings
from django.core.signals import setting_changed

from tra.dynamo import metering
from tra.dynamo.config import client_config_kwargs, credentials_for

_BEDROCK = frozenset({"bedrock-runtime", "bedrock-agent-runtime"})


def _config(service: str) -> AioConfig:
    kwargs = client_config_kwargs()
    if service in _BEDROCK:
        kwargs["read_timeout"] = settings.BEDROCK_READ_TIMEOUT_SECONDS
    return AioConfig(**kwargs)


def _no_retry_after_read_timeout(caught_exception=None, **kwargs):
    """First `needs-retry` handler of Converse: botocore would retry a read timeout, but the request
    reached the model. Raising the timeout ends botocore's retry loop with it."""
    if isinstance(caught_exception, ReadTimeoutError):
        raise caught_exception


def _endpoint_and_region(service: str) -> tuple[str | None, str]:
    if service == "dynamodb":
        return settings.DYNAMODB_ENDPOINT_URL, settings.AWS_REGION
    if service in _BEDROCK:
        return settings.BEDROCK_ENDPOINT_URL, settings.BEDROCK_REGION
    if service == "s3":
        return settings.AWS_S3_ENDPOINT_URL, settings.AWS_S3_REGION_NAME or settings.AWS_REGION
    return None, settings.AWS_REGION


@dataclass
class _Entry:
    loop: asyncio.AbstractEventLoop
    context: contextlib.AbstractAsyncContextManager
    client: object


class ClientRegistry:
    def __init__(self) -> None:
        self._session = aioboto3.Session()
        self._entries: dict[tuple[int, str], _Entry] = {}
        self._locks: dict[tuple[int, str], asyncio.Lock] = {}
        self._retired: list[_Entry] = []  # dropped by reset(), closed by their loop's close()
        self.created = 0  # clients created over the registry's life (tests assert on it)

    async def get(self, service: str):
        loop = asyncio.get_running_loop()
        key = (id(loop), service)
        entry = self._entries.get(key)
        if entry is not None and entry.loop is loop:
            return entry.client
        self._prune()
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            entry = self._entries.get(key)
            if entry is None or entry.loop is not loop:
                entry = await self._create(loop, service)
                self._entries[key] = entry
        return entry.client

    async def _create(self, loop, service: str) -> _Entry:
        endpoint, region = _endpoint_and_region(service)
        context = self._session.client(
            service,
            region_name=region,
            endpoint_url=endpoint,
            config=_config(service),
            **credentials_for(endpoint),
        )
        client = await context.__aenter__()
        if service == "dynamodb":
            metering.instrument(client.meta.events)
        if service == "bedrock-runtime":
            client.meta.events.register_first("needs-retry.bedrock-runtime.Converse", _no_retry_after_read_timeout)
        self.created += 1
        return _Entry(loop=loop, context=context, client=client)

    async def warm(self, *services: str) -> None:
        for service in services:
            await self.get(service)

    async def close(self) -> None:
        """Close the clients of the running loop."""
        loop = asyncio.get_running_loop()
        closing = [entry for entry in self._retired if entry.loop is loop]
        self._retired = [entry for entry in self._retired if entry.loop is not loop and not entry.loop.is_closed()]
        for key in [key for key, entry in self._entries.items() if entry.loop is loop]:
            closing.append(self._entries.pop(key))
            self._locks.pop(key, None)
        for entry in closing:
            await entry.context.__aexit__(None, None, None)

    def _prune(self) -> None:
        for key in [key for key, entry in self._entries.items() if entry.loop.is_closed()]:
            # A closed loop cannot run the async close; its sockets went with it.
            del self._entries[key]
            self._locks.pop(key, None)

    def reset(self) -> None:
        """Stop handing out the current clients (their settings changed); close() still closes them."""
        self._retired.extend(self._entries.values())
        self._entries.clear()
        self._locks.clear()


clients = ClientRegistry()


def _on_setting_changed(setting, **kwargs):
    if setting.startswith(("AWS_", "DYNAMODB_", "BEDROCK_")):
        clients.reset()


setting_changed.connect(_on_setting_changed)
