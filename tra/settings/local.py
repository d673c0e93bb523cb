"""Local development: the embedded defaults `make run` uses."""

from .base import *  # noqa: F403
from .environment import env_bool

DEBUG = env_bool("DJANGO_DEBUG", True)
