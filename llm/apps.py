from django.apps import AppConfig

from llm import metrics
from tra.observability import registry
from tra.observability.registry import Chart, Panel, UsageSource

CHARTS = (
    Chart(
        title="LLM: model calls vs answers from the cache",
        figures={
            "Bedrock calls": "llm.bedrock_calls",
            "offline (extractive) calls": "llm.offline_calls",
            "cache hits": "llm.hits",
            "coalesced waits": "llm.coalesced",
        },
    ),
    Chart(
        title="LLM: estimated dollars spent vs saved",
        figures={"spent": "llm.cost_micro_usd", "saved": "llm.saved_cost_micro_usd"},
        scale=1e-6,
    ),
)


class LlmConfig(AppConfig):
    name = "llm"
    verbose_name = "LLM"

    def ready(self):
        registry.register_usage(UsageSource(prefix="llm.", read=metrics.usage_totals, shared=True))
        registry.register_metrics(metrics.prometheus_families)
        for chart in CHARTS:
            registry.register_chart(chart)
        registry.register_panel(
            Panel(
                title="LLM totals (all workers)",
                template="admin/llm/dashboard_totals.html",
                context=lambda: {"llm": metrics.stats()},
            )
        )
