"""GET /metrics: TRA's counters in the Prometheus text format.

DynamoDB capacity is this worker's (tra.dynamo.metering), labelled by operation
and index; the apps' figures come from the sources they register
(registry.register_metrics): the LLM counters are shared by every worker,
chat routing counts are this worker's. Prometheus sums per-worker counters
over the workers it scrapes. Open unless METRICS_TOKEN is set, then a bearer
token is required.
"""

import hmac

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpResponse

from tra.dynamo.metering import meter

from . import registry
from .registry import MetricFamily, Sample

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _dynamodb_families() -> list[MetricFamily]:
    snapshot = sorted(meter.snapshot().items())
    families = [
        MetricFamily(
            metric,
            "counter",
            tuple(
                Sample(getattr(stats, field), (("operation", operation), ("index", index)))
                for (operation, index), stats in snapshot
            ),
        )
        for field, metric in (
            ("calls", "tra_dynamodb_calls_total"),
            ("read_units", "tra_dynamodb_read_capacity_units_total"),
            ("write_units", "tra_dynamodb_write_capacity_units_total"),
            ("items", "tra_dynamodb_items_returned_total"),
            ("scanned", "tra_dynamodb_items_evaluated_total"),
        )
    ]
    families.append(MetricFamily("tra_dynamodb_unguarded_scans_total", "counter", (Sample(meter.unguarded_scans),)))
    return families


def render() -> str:
    families = _dynamodb_families()
    for source in registry.metrics_sources():
        families += source()
    lines = []
    for family in families:
        lines.append(f"# TYPE {family.name} {family.kind}")
        for sample in family.samples:
            labels = ",".join(f'{name}="{_escape(value)}"' for name, value in sample.labels)
            lines.append(f"{family.name}{{{labels}}} {sample.value}" if labels else f"{family.name} {sample.value}")
    return "\n".join(lines) + "\n"


async def metrics_view(request):
    token = settings.METRICS_TOKEN
    if token:
        supplied = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(supplied, token):
            return HttpResponse("metrics need the METRICS_TOKEN bearer token\n", status=401, content_type=CONTENT_TYPE)
    body = await sync_to_async(render, thread_sensitive=False)()
    return HttpResponse(body, content_type=CONTENT_TYPE)
