"""GET /metrics: TRA's counters in the Prometheus text format.

LLM counters are shared by every worker (llm.metrics, in the cache); DynamoDB
capacity is this worker's (tra.dynamo.metering), labelled by operation and
index, and so are chat routing counts (chat.services), labelled by tier and
intent: Prometheus sums them over the workers it scrapes. Open unless
METRICS_TOKEN is set, then a bearer token is required.
"""

import hmac

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpResponse

from tra.dynamo.metering import meter

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render() -> str:
    from llm.metrics import stats

    lines = []
    llm = stats()
    for name, value in sorted(llm.items()):
        metric = f"tra_llm_{name}"
        lines += [f"# TYPE {metric} {'gauge' if name == 'hit_ratio' else 'counter'}", f"{metric} {value}"]
    snapshot = sorted(meter.snapshot().items())
    for field, metric in (
        ("calls", "tra_dynamodb_calls_total"),
        ("read_units", "tra_dynamodb_read_capacity_units_total"),
        ("write_units", "tra_dynamodb_write_capacity_units_total"),
        ("items", "tra_dynamodb_items_returned_total"),
        ("scanned", "tra_dynamodb_items_evaluated_total"),
    ):
        lines.append(f"# TYPE {metric} counter")
        for (operation, index), stats_ in snapshot:
            labels = f'operation="{_escape(operation)}",index="{_escape(index)}"'
            lines.append(f"{metric}{{{labels}}} {getattr(stats_, field)}")
    from chat.services import routing_totals

    routed = sorted(routing_totals().items())
    for kind, metric in (("tier", "tra_chat_messages_routed_total"), ("intent", "tra_chat_intents_total")):
        lines.append(f"# TYPE {metric} counter")
        for name, value in routed:
            if name.startswith(f"routing.{kind}."):
                lines.append(f'{metric}{{{kind}="{_escape(name.removeprefix(f"routing.{kind}."))}"}} {value}')
    lines += [
        "# TYPE tra_dynamodb_unguarded_scans_total counter",
        f"tra_dynamodb_unguarded_scans_total {meter.unguarded_scans}",
    ]
    return "\n".join(lines) + "\n"


async def metrics_view(request):
    token = settings.METRICS_TOKEN
    if token:
        supplied = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(supplied, token):
            return HttpResponse("metrics need the METRICS_TOKEN bearer token\n", status=401, content_type=CONTENT_TYPE)
    body = await sync_to_async(render, thread_sensitive=False)()
    return HttpResponse(body, content_type=CONTENT_TYPE)
