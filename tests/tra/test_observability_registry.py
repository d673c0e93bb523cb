"""The observability registry: what the apps lend the platform's usage table, /metrics and dashboard."""

from tra.observability import registry
from tra.observability.registry import MetricFamily, Sample


def test_a_labelled_family_keeps_its_prefix_figures_sorted_by_label():
    figures = {"routing.tier.llm": 2, "routing.intent.help": 5, "routing.tier.regex": 3}
    family = MetricFamily.labelled(figures, prefix="routing.tier.", name="tra_routed_total", label="tier")
    assert family == MetricFamily(
        "tra_routed_total", "counter", (Sample(2, (("tier", "llm"),)), Sample(3, (("tier", "regex"),)))
    )


def test_the_llm_and_chat_apps_register_their_figures_once_loaded():
    sources = {source.prefix: source.shared for source in registry.usage_sources()}
    assert sources == {"routing.": False, "llm.": True}
    titles = [chart.title for chart in registry.charts()]
    assert "Chat routing: messages per tier" in titles and "LLM: estimated dollars spent vs saved" in titles
    assert [panel.title for panel in registry.panels()] == ["LLM totals (all workers)"]
    names = {family.name for source in registry.metrics_sources() for family in source()}
    assert {"tra_llm_hits", "tra_llm_hit_ratio", "tra_chat_messages_routed_total", "tra_chat_intents_total"} <= names
