"""The one place that reads the process environment (12-factor settings).

Every setting TRA reads from the environment goes through these helpers, so a
missing or malformed value fails at start-up with the variable's name.
"""

import os

from django.core.exceptions import ImproperlyConfigured


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from error


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from error


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {raw!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [part.strip() for part in raw.split(",") if part.strip()]


RATE_UNITS = {"second": 1, "minute": 60, "hour": 3600}


def parse_rate(value: str) -> tuple[int, int] | None:
    """A rate as (requests, window seconds): "60/minute" -> (60, 60); None for "", "0" or "0/<unit>"
    (no limit). Units: second, minute, hour (a plural is accepted). ValueError otherwise."""
    text = value.strip().lower()
    if text in ("", "0"):
        return None
    count, _, unit = text.partition("/")
    seconds = RATE_UNITS.get(unit.strip().removesuffix("s"))
    if not count.strip().isdigit() or seconds is None:
        raise ValueError(f"a rate is N/second, N/minute or N/hour, got {value!r}")
    return (int(count), seconds) if int(count) > 0 else None


def env_rate(name: str, default: str) -> str:
    """A rate such as "60/minute" (see parse_rate), checked at start-up."""
    raw = os.environ.get(name)
    value = default if raw is None else raw
    try:
        parse_rate(value)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name}: {error}") from error
    return value.strip()


def env_required(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise ImproperlyConfigured(f"{name} must be set in production")
    return value
