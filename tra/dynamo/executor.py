"""Run sync PynamoDB/botocore calls from async code without blocking the event loop.

A dedicated, bounded thread pool sized to the HTTP connection pool: more threads
than connections would only queue inside urllib3. The caller's context variables
(the batch-job marker, request ids) travel with the call.
"""

import asyncio
import contextvars
import functools
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings

_pool: ThreadPoolExecutor | None = None


def pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        size = settings.DYNAMODB_THREAD_POOL_SIZE or settings.AWS_MAX_POOL_CONNECTIONS
        _pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="tra-dynamo")
    return _pool


async def run_sync(function, /, *args, **kwargs):
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    return await loop.run_in_executor(pool(), functools.partial(context.run, function, *args, **kwargs))


def shutdown() -> None:
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None
