"""Daily usage figures for the admin dashboard, kept in DynamoDB (llm.models.UsageCounter).

Two kinds of figure, written so that several worker processes never double count:

- DynamoDB capacity and chat routing are counted per process
  (tra.dynamo.metering.meter, chat.services.routing_totals): each process ADDs
  what it counted since its last flush (`ddb.rcu.<index>`, `ddb.wcu.<index>`,
  `ddb.calls.<operation>`, `routing.tier.<tier>`, `routing.intent.<intent>`).
- LLM counters are already shared across processes (llm.metrics, in the cache):
  a flush SETs today's running totals (`llm.<counter>`), the same value whichever
  process writes it; a day's figure is that day's total minus the previous day's.

`flush()` runs every USAGE_FLUSH_SECONDS from the ASGI lifespan and at the end of
management commands; `daily_series()` reads one month per Query (T15).
"""

import asyncio
import logging
import threading
from datetime import date, timedelta

from django.conf import settings

from tra.dynamo.metering import meter
from tra.dynamo.models import utc_now

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_flushed: dict[str, float] = {}  # meter totals already added to DynamoDB by this process


def _capacity_totals() -> dict[str, float]:
    totals: dict[str, float] = {}
    for (operation, index), stats in meter.snapshot().items():
        for metric, value in (
            (f"ddb.rcu.{index}", stats.read_units),
            (f"ddb.wcu.{index}", stats.write_units),
            (f"ddb.calls.{operation}", stats.calls),
        ):
            totals[metric] = totals.get(metric, 0) + value
    return totals


def _routing_totals() -> dict[str, int]:
    from chat.services import routing_totals

    return routing_totals()


def _llm_totals() -> dict[str, int]:
    from llm.metrics import COUNTERS, stats

    current = stats()
    return {f"llm.{name}": int(current.get(name, 0)) for name in COUNTERS}


def flush(*, day: date | None = None) -> int:
    """Write this process's new capacity figures and the LLM totals; returns items written."""
    from llm.models import UsageCounter

    day = day or utc_now().date()
    with _lock:
        totals = _capacity_totals() | _routing_totals()
        deltas = {name: value - _flushed.get(name, 0) for name, value in totals.items()}
        deltas = {name: round(value, 3) for name, value in deltas.items() if value > 0}
        written = 0
        for metric, delta in deltas.items():
            UsageCounter.add(day, metric, delta)
            _flushed[metric] = totals[metric]
            written += 1
    for metric, total in _llm_totals().items():
        if total:
            UsageCounter.set_total(day, metric, total)
            written += 1
    return written


def daily_series(*, days: int = 14, today: date | None = None) -> tuple[list[date], dict[str, list[float]]]:
    """Per-day figures for the last `days` days: capacity as added, LLM counters as daily increases."""
    from llm.models import UsageCounter

    today = today or utc_now().date()
    first = today - timedelta(days=days - 1)
    span = [first + timedelta(days=n) for n in range(days)]
    raw: dict[str, dict[date, float]] = {}
    month = date(first.year, first.month, 1) - timedelta(days=1)  # the month before: LLM baselines
    months = []
    while month <= today:
        months.append(date(month.year, month.month, 1))
        month = (date(month.year, month.month, 28) + timedelta(days=4)).replace(day=1)
    for start in months:
        for item in UsageCounter.query(UsageCounter.month_pk(start)):
            raw.setdefault(item.metric, {})[item.day] = float(item.value)

    series: dict[str, list[float]] = {}
    for metric, values in raw.items():
        if metric.startswith("llm."):
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
    from tra.dynamo.executor import run_sync

    while True:
        await asyncio.sleep(settings.USAGE_FLUSH_SECONDS)
        try:
            await run_sync(flush)
        except Exception:  # noqa: BLE001 - a dashboard figure must never take the worker down
            logger.warning("usage flush failed", exc_info=True)
