"""What the apps lend the platform's observability, registered in their AppConfig.ready().

tra.observability imports no domain app. An app that counts something registers:

- a UsageSource: named figures that `usage.flush()` writes to the daily usage table;
- a metrics source: a callable returning the MetricFamily values GET /metrics prints;
- Charts and Panels: what the admin dashboard draws from the daily figures, and shows live.

Apps register once per process, while Django loads them (before any request);
afterwards the lists are only read.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class UsageSource:
    """Figures named `<prefix><what>` (e.g. `routing.tier.llm`) for the daily usage table.

    shared=False: this process's counts since it started; each flush ADDs what is new
    since its last one, so several workers never double count.
    shared=True: totals already summed over every process (in a shared cache); a flush
    SETs today's total, and a day's figure is its increase over the day before.
    """

    prefix: str
    read: Callable[[], Mapping[str, float]]
    shared: bool = False


@dataclass(frozen=True)
class Sample:
    value: float
    labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class MetricFamily:
    """One Prometheus metric: its name, its type and one sample per label set."""

    name: str
    kind: Literal["counter", "gauge"]
    samples: tuple[Sample, ...]

    @classmethod
    def labelled(cls, figures: Mapping[str, float], *, prefix: str, name: str, label: str) -> "MetricFamily":
        """A counter with a sample per figure named `<prefix><value>`, labelled `<label>="<value>"`."""
        samples = tuple(
            Sample(value, ((label, figure.removeprefix(prefix)),))
            for figure, value in sorted(figures.items())
            if figure.startswith(prefix)
        )
        return cls(name, "counter", samples)


MetricsSource = Callable[[], list[MetricFamily]]


@dataclass(frozen=True)
class Chart:
    """A bar chart of daily figures on the dashboard, one bar group per day.

    Either every figure under `prefix`, one series each named by the rest of its name, drawn
    only when there is one; or the `figures` named (legend label -> figure name), always drawn.
    """

    title: str
    prefix: str = ""
    figures: Mapping[str, str] = field(default_factory=dict)
    scale: float = 1.0  # 1e-6 shows micro-dollars as dollars


@dataclass(frozen=True)
class Panel:
    """A box on the dashboard: `template` rendered with what `context()` returns at each view."""

    title: str
    template: str
    context: Callable[[], Mapping[str, Any]]


_usage_sources: list[UsageSource] = []
_metrics_sources: list[MetricsSource] = []
_charts: list[Chart] = []
_panels: list[Panel] = []


def register_usage(source: UsageSource) -> None:
    _usage_sources.append(source)


def register_metrics(source: MetricsSource) -> None:
    _metrics_sources.append(source)


def register_chart(chart: Chart) -> None:
    _charts.append(chart)


def register_panel(panel: Panel) -> None:
    _panels.append(panel)


def usage_sources() -> tuple[UsageSource, ...]:
    return tuple(_usage_sources)


def metrics_sources() -> tuple[MetricsSource, ...]:
    return tuple(_metrics_sources)


def charts() -> tuple[Chart, ...]:
    return tuple(_charts)


def panels() -> tuple[Panel, ...]:
    return tuple(_panels)
