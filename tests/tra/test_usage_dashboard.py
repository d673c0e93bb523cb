"""Daily usage figures (DynamoDB capacity, LLM counters) and the admin dashboard that draws them."""

from datetime import timedelta

import pytest
from django.core.cache import caches
from django.test import Client

from llm import metrics
from tests.support import factories
from tests.support.api import make_user
from tra.dynamo.clock import utc_now
from tra.dynamo.metering import meter
from tra.observability import usage
from tra.observability.models import UsageCounter

pytestmark = [pytest.mark.usefixtures("dynamo_table")]


@pytest.fixture(autouse=True)
def fresh_counters():
    caches["llm"].clear()
    usage.forget()
    meter.reset()
    yield
    caches["llm"].clear()
    usage.forget()


def value(day, metric) -> float:
    return float(UsageCounter.get(*UsageCounter.key(day, metric)).value)


def test_a_flush_adds_only_what_the_meter_recorded_since_the_last_flush():
    today = utc_now().date()
    factories.assessment()
    usage.flush(day=today)
    first = value(today, "ddb.calls.PutItem")
    assert first >= 1
    meter_puts = meter.calls("PutItem")
    usage.flush(day=today)  # nothing new since the first flush (its own UpdateItems aside)
    assert value(today, "ddb.calls.PutItem") == first
    factories.assessment()
    usage.flush(day=today)
    assert value(today, "ddb.calls.PutItem") == first + (meter.calls("PutItem") - meter_puts)


def test_llm_figures_are_daily_increases_of_the_shared_totals():
    today = utc_now().date()
    yesterday = today - timedelta(days=1)
    metrics.add_sync(bedrock_calls=3, hits=5, cost_micro_usd=2_000)
    usage.flush(day=yesterday)
    metrics.add_sync(bedrock_calls=1, hits=10, cost_micro_usd=500)
    usage.flush(day=today)
    usage.flush(day=today)  # a second worker writing the same totals changes nothing

    span, series = usage.daily_series(days=2, today=today)
    assert span == [yesterday, today]
    assert series["llm.bedrock_calls"] == [3, 1]
    assert series["llm.hits"] == [5, 10]
    assert series["llm.cost_micro_usd"] == [2_000, 500]


@pytest.mark.django_db
def test_the_dashboard_draws_the_charts_and_is_on_the_index():
    from assessments.models import Assessment

    Assessment.get(*Assessment.key(factories.assessment().assessment_id))
    metrics.add_sync(bedrock_calls=2, hits=8, cost_micro_usd=1_000, saved_cost_micro_usd=4_000)
    usage.flush()  # the dashboard shows what the workers flushed
    client = Client()
    client.force_login(make_user("sam", staff=True))
    assert "/admin/dashboard/" in client.get("/admin/").content.decode()
    page = client.get("/admin/dashboard/").content.decode()
    assert page.count("<svg") >= 4
    assert "DynamoDB read capacity (RCU) by index" in page
    assert "LLM: model calls vs answers from the cache" in page
    assert 'width="100%"' in page and 'width="640"' not in page  # the charts scale to the page's width
    assert 'id="capacity"' in page and "PutItem" in page
    assert meter.calls("Scan") == 0


def test_a_chart_escapes_its_labels():
    from tra.observability.dashboard import bar_chart

    svg = bar_chart(title="<b>x</b>", labels=["d1"], series={"<script>": [1.0]})
    assert "<script>" not in svg and "&lt;script&gt;" in svg


@pytest.mark.django_db
def test_empty_llm_panels_say_no_data_yet_and_offline_calls_count():
    import asyncio

    from llm.providers import ExtractiveProvider

    client = Client()
    client.force_login(make_user("sam", staff=True))
    usage.flush()
    page = client.get("/admin/dashboard/").content.decode()
    assert page.count("No data yet") >= 3  # the two LLM charts and the totals panel, before any LLM work
    assert "LLM: model calls vs answers from the cache" in page

    before = metrics.stats()["offline_calls"]
    asyncio.run(ExtractiveProvider().summarize(text="Data is encrypted at rest. Backups are tested every quarter."))
    assert metrics.stats()["offline_calls"] == before + 1
    page = client.get("/admin/dashboard/").content.decode()
    assert 'id="llm-totals" style' in page and "Offline (extractive) calls</th><td>1<" in page
