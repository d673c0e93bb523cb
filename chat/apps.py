from django.apps import AppConfig

from tra.observability import registry
from tra.observability.registry import Chart, MetricFamily, UsageSource


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = "Chat"

    def ready(self):
        # At ready(): chat.services reaches Django's auth models, which load only once apps are ready.
        from chat.services import routing_totals

        registry.register_usage(UsageSource(prefix="routing.", read=routing_totals))
        registry.register_metrics(lambda: routing_families(routing_totals()))
        registry.register_chart(Chart(title="Chat routing: messages per tier", prefix="routing.tier."))


def routing_families(totals: dict[str, int]) -> list[MetricFamily]:
    """This process's routed messages per tier and per intent, for GET /metrics."""
    return [
        MetricFamily.labelled(totals, prefix="routing.tier.", name="tra_chat_messages_routed_total", label="tier"),
        MetricFamily.labelled(totals, prefix="routing.intent.", name="tra_chat_intents_total", label="intent"),
    ]
