"""Local development: the embedded defaults `make run` uses.

DynamoDB is never AWS here: the endpoint is DYNAMODB_ENDPOINT_URL when set, else
the one a running `make run` recorded in `.local/dynamodb.json`, else `make run`'s
fixed default port on 127.0.0.1 (nothing answers there until `make run` starts;
devtools' system check says so before a command runs).
"""

import json
import os

from .base import *  # noqa: F403
from .environment import env_bool, env_str

DEBUG = env_bool("DJANGO_DEBUG", True)
# Development tools (runlocal, dynamo_local, seed_demo, benchmark); production never installs them.
INSTALLED_APPS = [*INSTALLED_APPS, "devtools"]  # noqa: F405


def _recorded_endpoint() -> str | None:
    """The DynamoDB URL a running `make run` recorded (None when it is not running)."""
    try:
        recorded = json.loads(LOCAL_DYNAMODB_ENDPOINT_FILE.read_text())  # noqa: F405
        os.kill(int(recorded["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return recorded.get("endpoint_url")


# Commands that use DynamoDB (tra/commands.py) stop at once with a clear error when nothing answers there.
LOCAL_DYNAMODB_REQUIRED = True
DYNAMODB_ENDPOINT_URL = (
    env_str("DYNAMODB_ENDPOINT_URL") or _recorded_endpoint() or f"http://127.0.0.1:{LOCAL_DYNAMODB_PORT}"  # noqa: F405
)
