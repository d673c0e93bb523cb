"""Local development: the embedded defaults `make run` uses."""

from .base import *  # noqa: F403
from .environment import env_bool

DEBUG = env_bool("DJANGO_DEBUG", True)
# Development tools (runlocal, dynamo_local, seed_demo, benchmark); production never installs them.
INSTALLED_APPS = [*INSTALLED_APPS, "devtools"]
