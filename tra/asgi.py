"""ASGI entry point, with lifespan support Django's handler lacks.

On `lifespan.startup` the long-lived AWS clients of this worker's event loop are
created (client creation blocks for ~100 ms, so not inside a request) and the
usage flush timer starts (tra.observability.usage); on `lifespan.shutdown` the
last usage figures are flushed and the clients closed. Run with
`uvicorn tra.asgi:application`.
"""

import asyncio
import logging
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tra.settings.local")
django_application = get_asgi_application()

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
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _final_flush() -> None:
    await executor.run_sync(usage.flush_quietly)


async def application(scope, receive, send):
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
    else:
        await django_application(scope, receive, send)
