"""Daily usage figures for the admin dashboard, kept in DynamoDB (models.UsageCounter).

Two kinds of figure (registry.UsageSource), written so that several worker
processes never double count:

- Per-process counts, such as DynamoDB capacity (tra.dynamo.metering.meter:
  `ddb.rcu.<index>`, `ddb.wcu.<index>`, `ddb.calls.<operation>`) and what apps
  register as such (chat's routing tiers and intents): each process ADDs what it
  counted since its last flush.
- Shared totals, registered with shared=True (the LLM counters, kept in the cache
  by every process): a flush SETs today's running totals, the same value whichever
  process writes it (only when it changed); a day's figure is that day's total minus
  the previous day's.

`flush()` runs every USAGE_FLUSH_SECONDS from the ASGI lifespan, once more at
its shutdown, and at the end of every operator command run from the command
line (tra.commands.OperatorCommand); viewing the dashboard only reads what was flushed.
A flush writes nothing when nothing happened since the last one: its own
UpdateItems (made under metering.overhead()) are counted, and added with the
next flush that has something new, but are not themselves news, so an idle
worker makes no DynamoDB call at all. `daily_series()` reads one month per Query (T15).
"""

import asyncio
import logging
import threading
from datetime import date, timedelta

from django.conf import settings

from tra.dynamo.clock import utc_now
from tra.dynamo.executor import run_sync
from tra.dynamo.metering import meter, overhead

from . import registry
from .models import UsageCounter
from .registry import UsageSource

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_flushed: dict[str, float] = {}  # per-process totals already added to DynamoDB by this process
_totals_written: dict[str, float] = {}  # shared totals this process last SET
_activity_flushed = [0]  # meter.activity() at this process's last flush that wrote


def _capacity_totals() -> dict[str, float]:
    totals: dict[str, float] = {}
    for (operation, index), stats in meter.snapshot().items():
        for metric, value in (
            (f"ddb.rcu.{index}", stats.read_units),
            (f"ddb.wcu.{index}", stats.write_units),
            (f"ddb.calls.{operation}", stats.calls),
            (f"ddb.failed.{operation}", stats.failed),
        ):
            totals[metric] = totals.get(metric, 0) + value
    return totals


CAPACITY = UsageSource(prefix="ddb.", read=_capacity_totals)


def _sources() -> list[UsageSource]:
    return [CAPACITY, *registry.usage_sources()]


def flush(*, day: date | None = None) -> int:
    """Write this process's new per-process figures and the shared totals that changed; returns items written.

    Nothing is written when the only news is this process's previous flush writes.
    """
    day = day or utc_now().date()
    sources = _sources()
    with _lock:
        activity = meter.activity()
        totals: dict[str, float] = {}
        shared: dict[str, float] = {}
        for source in sources:
            if source.shared:
                shared |= {metric: total for metric, total in source.read().items() if total}
            else:
                totals |= source.read()
        deltas = {name: value - _flushed.get(name, 0) for name, value in totals.items()}
        deltas = {name: round(value, 3) for name, value in deltas.items() if value > 0}
        changed = {metric: total for metric, total in shared.items() if _totals_written.get(metric) != total}
        counted = any(not name.startswith(CAPACITY.prefix) for name in deltas)  # an app's figures moved
        if activity == _activity_flushed[0] and not counted and not changed:
            return 0
        written = 0
        with overhead():
            for metric, delta in deltas.items():
                UsageCounter.add(day, metric, delta)
                _flushed[metric] = totals[metric]
                written += 1
            for metric, total in changed.items():
                UsageCounter.set_total(day, metric, total)
                _totals_written[metric] = total
                written += 1
        _activity_flushed[0] = activity
    return written


def baseline() -> None:
    """At a process's start: take the shared totals as they are (another process wrote them), so
    that this process writes them only once they change, and an idle process writes nothing."""
    try:
        with _lock:
            for source in _sources():
                if source.shared:
                    _totals_written.update({metric: total for metric, total in source.read().items() if total})
    except Exception:  # noqa: BLE001 - without a baseline the first flush writes the totals: harmless
        logger.warning("usage baseline failed", exc_info=True)


def flush_quietly() -> None:
    """`flush()` where a failure must not end the process (a timer, an exit): logged, not raised."""
    try:
        flush()
    except Exception:  # noqa: BLE001 - a dashboard figure must never take the worker down
        logger.warning("usage flush failed", exc_info=True)


def forget() -> None:
    """Forget what this process flushed (tests that reset the meter start over)."""
    with _lock:
        _flushed.clear()
        _totals_written.clear()
        _activity_flushed[0] = 0


def daily_series(*, days: int = 14, today: date | None = None) -> tuple[list[date], dict[str, list[float]]]:
    """Per-day figures for the last `days` days: per-process figures as added, shared totals as daily increases."""
    today = today or utc_now().date()
    first = today - timedelta(days=days - 1)
    span = [first + timedelta(days=n) for n in range(days)]
    raw: dict[str, dict[date, float]] = {}
    month = date(first.year, first.month, 1) - timedelta(days=1)  # the month before: shared totals' baselines
    months = []
    while month <= today:
        months.append(date(month.year, month.month, 1))
        month = (date(month.year, month.month, 28) + timedelta(days=4)).replace(day=1)
    for start in months:
        for item in UsageCounter.query(UsageCounter.month_pk(start)):
            raw.setdefault(item.metric, {})[item.day] = float(item.value)

    shared = tuple(source.prefix for source in _sources() if source.shared)
    series: dict[str, list[float]] = {}
    for metric, values in raw.items():
        if metric.startswith(shared):
            series[metric] = _increases(values, span)
        else:
            series[metric] = [values.get(day, 0.0) for day in span]
    return span, series


def _increases(totals: dict[date, float], span: list[date]) -> list[float]:
    result = []
    for day in span:
        earlier = [value for when, value in totals.items() if when < day]
        previous = max(earlier) if earlier else 0.0
        current = totals.get(day)
        result.append(max(current - previous, 0.0) if current is not None else 0.0)
    return result


async def flush_periodically() -> None:
    """The lifespan task: flush every USAGE_FLUSH_SECONDS until cancelled."""
    while True:
        await asyncio.sleep(settings.USAGE_FLUSH_SECONDS)
        await run_sync(flush_quietly)
