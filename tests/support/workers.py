"""Worker processes released together, for tests that prove a count is shared across processes.

Each worker is `python -m <module> <args...>` run from the project root: it prints "ready" once set
up, waits for a line on stdin, does its work and prints its result as JSON on its last line.
`release_together` starts them all, waits until every one is ready, releases them at once and
returns their results in order.
"""

import json
import subprocess
import sys

from django.conf import settings


def release_together(commands: list[list[str]], environment: dict[str, str], timeout: float = 60) -> list:
    """Run `python -m <command...>` for each command; their JSON results, in order."""
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", *command],
            cwd=settings.BASE_DIR,
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for command in commands
    ]
    try:
        for worker in workers:
            assert worker.stdout.readline().strip() == "ready", worker.stderr.read()
        for worker in workers:
            worker.stdin.write("go\n")
            worker.stdin.flush()
        outputs = [worker.communicate(timeout=timeout) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    assert [worker.returncode for worker in workers] == [0] * len(workers), [stderr for _, stderr in outputs]
    return [json.loads(stdout.strip().splitlines()[-1]) for stdout, _ in outputs]
