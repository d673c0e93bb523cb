"""A meter you can bill from, and reads that never write.

The meter is checked against a count taken at the DynamoDB endpoint: a proxy in front of
the tests' server counts every request per operation and every error answer
(devtools.tcp_proxy.DynamoDBCountingProxy), and injects server faults the client retries.
"""

import re
from collections import Counter

import pytest
from django.core.management.base import CommandError
from django.test import Client
from pynamodb.exceptions import PutError

from assessments.models import Assessment
from devtools.tcp_proxy import DynamoDBCountingProxy
from tests.conftest import point_dynamodb_at
from tests.support import factories
from tests.support.api import make_user
from tra.commands import OperatorCommand
from tra.dynamo.clock import utc_now
from tra.dynamo.metering import WRITE_OPERATIONS, meter
from tra.observability import usage
from tra.observability.models import UsageCounter

pytestmark = [pytest.mark.usefixtures("dynamo_table")]


@pytest.fixture(autouse=True)
def fresh_counters(monkeypatch):
    # Every per-process figure starts at zero: the meter, and what apps count (chat's routing tiers,
    # which earlier tests in this process moved).
    monkeypatch.setattr("chat.services._routing_counts", Counter())
    usage.forget()
    meter.reset()
    yield
    usage.forget()


@pytest.fixture
def proxy(dynamodb_server):
    with DynamoDBCountingProxy("127.0.0.1", dynamodb_server.port) as counting:
        point_dynamodb_at(counting.endpoint_url)
        try:
            yield counting
        finally:
            point_dynamodb_at(dynamodb_server.endpoint_url)


def metered(field: str = "calls") -> Counter:
    counts: Counter = Counter()
    for (operation, _index), stats in meter.snapshot().items():
        counts[operation] += getattr(stats, field)
    return +counts


def flushed(metric_prefix: str) -> Counter:
    today = utc_now().date()
    counts: Counter = Counter()
    for item in UsageCounter.query(UsageCounter.month_pk(today)):
        if item.day == today and item.metric.startswith(metric_prefix):
            counts[item.metric.removeprefix(metric_prefix)] += int(item.value)
    return +counts


def scraped(page: str, family: str) -> Counter:
    counts: Counter = Counter()
    for operation, value in re.findall(rf'^{family}{{operation="(\w+)",index="\w+"}} (\S+)$', page, re.M):
        counts[operation] += int(float(value))
    return +counts


def writes() -> int:
    return sum(count for operation, count in metered().items() if operation in WRITE_OPERATIONS)


def recorded_run() -> None:
    """Writes, reads, a BatchGetItem, a failed conditional write and a retried server fault."""
    first = factories.assessment(title="Acme hosting")
    second = factories.assessment(title="Globex payroll")
    Assessment.get(*Assessment.key(first.assessment_id))
    list(Assessment.query(Assessment.key(second.assessment_id)[0]))
    assert len(list(Assessment.batch_get([Assessment.key(first.assessment_id), Assessment.key(second.assessment_id)])))
    with pytest.raises(PutError):
        first.save(condition=Assessment.pk.does_not_exist())  # ConditionalCheckFailed: billed, failed


@pytest.mark.django_db
def test_the_meter_flushed_figures_dashboard_and_metrics_agree_with_the_endpoint(proxy):
    recorded_run()
    proxy.fail_next("GetItem")  # a 500 the client retries: two requests reach the endpoint
    Assessment.get(*Assessment.key(factories.assessment().assessment_id))

    assert metered() == proxy.requests
    assert metered("failed") == proxy.errors == Counter({"PutItem": 1, "GetItem": 1})
    assert metered("retries") == Counter({"GetItem": 1})
    assert metered("items")["BatchGetItem"] == 2  # its answer's `Responses`

    before_flush = Counter(proxy.requests)
    usage.flush()
    assert flushed("ddb.calls.") == before_flush
    assert flushed("ddb.failed.") == Counter({"PutItem": 1, "GetItem": 1})

    staff = Client()
    staff.force_login(make_user("sam", staff=True))
    before_view = Counter(proxy.requests)  # the live table is drawn before the charts' Queries
    page = staff.get("/admin/dashboard/").content.decode()
    assert "DynamoDB failed calls by operation" in page
    rows = re.findall(r"<tr><td>(\w+)</td><td>\w+</td><td>(\d+)</td><td>(\d+)</td>", page)
    on_page: Counter = Counter()
    failed_on_page: Counter = Counter()
    for operation, calls, failed in rows:
        on_page[operation] += int(calls)
        failed_on_page[operation] += int(failed)
    metrics = Client().get("/metrics").content.decode()

    assert +on_page == before_view and +failed_on_page == proxy.errors
    assert scraped(metrics, "tra_dynamodb_calls_total") == proxy.requests  # the dashboard's Query included
    assert scraped(metrics, "tra_dynamodb_failed_calls_total") == proxy.errors
    assert scraped(metrics, "tra_dynamodb_retries_total") == Counter({"GetItem": 1})


@pytest.mark.django_db
def test_viewing_the_dashboard_writes_nothing():
    factories.assessment()
    usage.flush()
    staff = Client()
    staff.force_login(make_user("sam", staff=True))
    before = writes()
    for _ in range(3):
        assert staff.get("/admin/dashboard/").status_code == 200
    assert writes() == before
    assert metered()["Query"] >= 3  # it did read the flushed figures


def test_an_idle_worker_makes_no_call_and_its_own_writes_are_counted_with_the_next_news():
    today = utc_now().date()
    factories.assessment()
    assert usage.flush() > 0
    after_first = sum(metered().values())
    for _ in range(3):  # timer ticks with nothing new: not even a read
        assert usage.flush() == 0
    assert sum(metered().values()) == after_first

    factories.assessment()
    update_items = metered()["UpdateItem"]  # the first flush's own writes
    assert usage.flush() > 0
    assert usage.flush() == 0
    assert float(UsageCounter.get(*UsageCounter.key(today, "ddb.calls.UpdateItem")).value) == update_items


def test_shared_totals_are_written_once_per_change_and_not_at_all_by_a_process_that_saw_them_start():
    from llm import metrics

    metrics.add_sync(bedrock_calls=2)
    usage.baseline()  # a worker starting now: the totals are someone else's news
    assert usage.flush() == 0
    metrics.add_sync(bedrock_calls=1)
    assert usage.flush() == 1
    assert usage.flush() == 0


class _BatchCommand(OperatorCommand):
    def add_arguments(self, parser):
        parser.add_argument("--fail", action="store_true")

    def handle(self, *args, fail, **options):
        factories.assessment()
        if fail:
            raise CommandError("stopped half way")


def test_a_batch_command_run_from_the_command_line_flushes_at_exit_even_when_it_fails():
    _BatchCommand().run_from_argv(["manage.py", "batch"])
    assert flushed("ddb.calls.")["PutItem"] == metered()["PutItem"] >= 2  # assessment + its title words
    puts = metered()["PutItem"]
    with pytest.raises(SystemExit):
        _BatchCommand().run_from_argv(["manage.py", "batch", "--fail"])
    assert flushed("ddb.calls.")["PutItem"] == puts + (metered()["PutItem"] - puts)
