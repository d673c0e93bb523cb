"""GET /metrics: TRA's counters in the Prometheus text format.

DynamoDB capacity is this worker's (tra.dynamo.metering), labelled by operation
and index: calls count every request sent (retries and failed ones included),
failed and retries count those apart; the apps' figures come from the sources they register
(registry.register_metrics): the LLM counters are shared by every worker,
chat routing counts are this worker's. Prometheus sums per-worker counters
over the workers it scrapes. Open unless METRICS_TOKEN is set, then a bearer
token is required; closed (403) while it is unset under METRICS_REQUIRE_TOKEN
(production settings, where system check tra.W001 warns about it).
"""

import hmac

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core import checks
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
            ("failed", "tra_dynamodb_failed_calls_total"),
            ("retries", "tra_dynamodb_retries_total"),
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


def check_metrics_token(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """System check tra.W001: under METRICS_REQUIRE_TOKEN (production), METRICS_TOKEN must be set."""
    if settings.METRICS_REQUIRE_TOKEN and not settings.METRICS_TOKEN:
        return [
            checks.Warning(
                "METRICS_TOKEN is not set: /metrics answers 403 to every scraper.",
                hint="Set METRICS_TOKEN and configure the scraper with it as a bearer token.",
                id="tra.W001",
            )
        ]
    return []


def has_metrics_token(request) -> bool:
    """Whether the request carries `Authorization: Bearer <METRICS_TOKEN>` (False while it is unset)."""
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if not token or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header.removeprefix("Bearer ").strip().encode(), token.encode())


async def metrics_view(request):
    if settings.METRICS_TOKEN:
        if not has_metrics_token(request):
            return HttpResponse("metrics need the METRICS_TOKEN bearer token\n", status=401, content_type=CONTENT_TYPE)
    elif settings.METRICS_REQUIRE_TOKEN:
        return HttpResponse("metrics are closed until METRICS_TOKEN is set\n", status=403, content_type=CONTENT_TYPE)
    body = await sync_to_async(render, thread_sensitive=False)()
    return HttpResponse(body, content_type=CONTENT_TYPE)
