"""The admin dashboard: what TRA consumed and saved, per day, as server-rendered SVG.

No chart library and no CDN: a chart is a few dozen SVG rectangles. Data comes
from usage (daily figures in DynamoDB as the workers flushed them, one Query per
month; viewing writes nothing) plus the live capacity meter of this process; the
apps add charts and live panels (the LLM totals of all processes) through the
registry.
"""

from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

from tra.dynamo.metering import meter

from . import registry, usage
from .registry import Chart

PALETTE = ("#417690", "#e09f3e", "#79aec8", "#9e2a2b", "#335c67", "#8ab17d", "#c3a995", "#5c4d7d")
WIDTH, HEIGHT, MARGIN = 640, 220, 40
EMPTY_CHART = '<div class="usage-chart-empty"><strong>{}</strong><p class="help">No data yet.</p></div>'

CAPACITY_CHARTS = (
    Chart(title="DynamoDB read capacity (RCU) by index", prefix="ddb.rcu."),
    Chart(title="DynamoDB write capacity (WCU) by index", prefix="ddb.wcu."),
    Chart(title="DynamoDB calls by operation", prefix="ddb.calls."),
    Chart(title="DynamoDB failed calls by operation", prefix="ddb.failed."),
)


def bar_chart(*, title: str, labels: list[str], series: dict[str, list[float]]) -> str:
    """Grouped bars, one group per label (day), one colour per series, with a legend."""
    peak = max((value for values in series.values() for value in values), default=0) or 1
    plot_width, plot_height = WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN
    group = plot_width / max(len(labels), 1)
    bar = max(group / (len(series) + 1), 1)
    parts = [
        # A viewBox and width 100%: the chart scales to its column of the page.
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT + 20 * len(series)}" width="100%" '
        f'role="img" aria-label="{escape(title)}" class="usage-chart">',
        f'<text x="{MARGIN}" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
        f'<text x="4" y="{MARGIN + 4}" font-size="10">{peak:,.4g}</text>',
        f'<line x1="{MARGIN}" y1="{HEIGHT - MARGIN}" x2="{WIDTH - MARGIN}" y2="{HEIGHT - MARGIN}" stroke="#999"/>',
    ]
    for position, (name, values) in enumerate(series.items()):
        colour = PALETTE[position % len(PALETTE)]
        for slot, value in enumerate(values):
            height = plot_height * value / peak
            x = MARGIN + slot * group + position * bar
            parts.append(
                f'<rect x="{x:.1f}" y="{HEIGHT - MARGIN - height:.1f}" width="{bar:.1f}" height="{height:.1f}" '
                f'fill="{colour}"><title>{escape(name)} {escape(labels[slot])}: {value:,.6g}</title></rect>'
            )
        legend_y = HEIGHT + 14 * position
        parts.append(f'<rect x="{MARGIN}" y="{legend_y - 9}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{MARGIN + 14}" y="{legend_y}" font-size="11">{escape(name)}</text>')
    for slot, label in enumerate(labels):
        if slot % max(len(labels) // 7, 1) == 0:
            x = MARGIN + slot * group
            parts.append(f'<text x="{x:.1f}" y="{HEIGHT - MARGIN + 14}" font-size="10">{escape(label)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def charts(days: int = 14) -> list[str]:
    span, series = usage.daily_series(days=days)
    labels = [day.strftime("%m-%d") for day in span]
    rendered = []
    for chart in (*CAPACITY_CHARTS, *registry.charts()):
        if chart.figures:
            chosen = {label: series.get(metric, [0.0] * len(span)) for label, metric in chart.figures.items()}
        else:
            chosen = {
                name.removeprefix(chart.prefix): values
                for name, values in sorted(series.items())
                if name.startswith(chart.prefix)
            }
        if not chosen:
            continue
        if any(value for values in chosen.values() for value in values):
            rendered.append(bar_chart(title=chart.title, labels=labels, series=_scaled(chosen, chart.scale)))
        else:
            rendered.append(empty_chart(chart.title))
    return rendered


def empty_chart(title: str) -> str:
    """A chart with nothing to draw yet says so, instead of an empty frame."""
    return format_html(EMPTY_CHART, title)


def _scaled(series: dict[str, list[float]], scale: float) -> dict[str, list[float]]:
    return {name: [value * scale for value in values] for name, values in series.items()}


def dashboard(site, request):
    live = sorted(meter.snapshot().items())
    context = {
        **site.each_context(request),
        "title": "Usage and cost",
        "subtitle": None,
        "charts": charts(),
        "capacity": [{"operation": operation, "index": index, **vars(values)} for (operation, index), values in live],
        "panels": [
            {"title": panel.title, "body": render_to_string(panel.template, panel.context(), request)}
            for panel in registry.panels()
        ],
    }
    return TemplateResponse(request, "admin/tra/dashboard.html", context)
