"""One worker process for test_cache_across_processes: asks for a summary through the shared cache.

    python -m tests.llm.flight_worker <llm cache key prefix> <text>

Environment: DJANGO_SETTINGS_MODULE, REDIS_URL, LLM_PROVIDER=bedrock, BEDROCK_ENDPOINT_URL.
Prints "ready" once set up (client created), waits for a line on stdin, then prints
the summary as JSON: the test releases both workers at once.
"""

import asyncio
import dataclasses
import json
import sys

import django


def main(prefix: str, text: str) -> None:
    django.setup()
    from django.conf import settings

    settings.CACHES = {**settings.CACHES, "llm": {**settings.CACHES["llm"], "KEY_PREFIX": prefix}}

    from llm import bedrock, services
    from tra.aws import clients

    async def run() -> None:
        await bedrock.warm()
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        summary = await services.summarize_text(text=text)
        print(json.dumps(dataclasses.asdict(summary)), flush=True)
        await clients.close()

    asyncio.run(run())


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
