"""`manage.py benchmark` at a small scale: every section runs, the report is written, and the
counts that make the design's case come out as the design says."""

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from devtools import benchmark
from devtools.benchmark import report
from devtools.local_dynamo.server import dynalite_script
from tests.conftest import skip_or_fail


@pytest.mark.dynalite
def test_benchmark_measures_what_it_claims_and_writes_the_report(transactional_db, tmp_path):
    if not dynalite_script(settings.BASE_DIR).exists():
        skip_or_fail("dynalite is not installed (make setup runs npm ci)")
    options = benchmark.Options(
        sizes=[300, 1200],
        link_documents=60,
        client_calls=30,
        llm_requests=60,
        concurrent_requests=3,
        latency=0.05,
        identical_summaries=12,
        distinct_requests=8,
        distinct_latency=0.05,
        own_database=False,  # the test database is already a throwaway one
        local_server_sizes=[],  # DynamoDB Local's section: tests/devtools/test_local_server_benchmark.py
    )
    results = benchmark.run(options, progress=lambda line: None)

    queue = [row for row in results.reads if row.pattern == "review queue by state"]
    assert queue[0].query.rcu == queue[-1].query.rcu > 0  # a page of the index, whatever the table's size
    assert queue[-1].scan.rcu > 3 * queue[0].scan.rcu  # the Scan reads the whole table
    assert queue[-1].scan.evaluated == queue[-1].items
    assert all(row.query.calls == 1 for row in results.reads)  # one Query: the search rows are projected

    links = results.links
    assert links.single.calls_by_operation == {"UpdateItem": 60}
    assert links.batched.calls_by_operation["TransactWriteItems"] == 3  # 60 links, 25 a call (+ event, version)
    assert links.batched.links == 60

    clients = results.clients
    assert clients.pooled.clients_created == 1 and clients.pooled.connections <= clients.concurrency
    assert clients.per_call.clients_created == 30 and clients.per_call.connections >= 30  # one (or more) a call

    cache = results.llm_cache
    assert cache.uncached.bedrock_calls == 60
    assert cache.cached.bedrock_calls == cache.unique == 18
    assert cache.cached.hits + cache.cached.coalesced == 60 - 18

    assert set(results.routing) == {"held-out split", "development set", "validation set", "unseen set"}
    for route in results.routing.values():  # the figures are the chat tests' (tests/chat/test_routing*.py)
        assert route.messages >= 500 and route.fast_routed > 0 and 0 < route.tool_coverage <= 1
    assert set(results.concurrency.statuses) == {200}

    e2e = results.endtoend
    assert e2e.checks > 0 and e2e.agreements == e2e.checks  # the meter matches the proxy at the endpoint
    by_size = {}
    for row in e2e.endpoints:
        assert set(row.measured.statuses) == {200}, (row.endpoint, row.measured.statuses)
        by_size.setdefault(row.endpoint, {})[row.items] = row.measured
    assert len(by_size) == 8 and all(len(sizes) == 2 for sizes in by_size.values())
    for endpoint, sizes in by_size.items():
        small, large = sizes.values()
        assert small.calls_per_request == large.calls_per_request, endpoint  # flat, whatever the table holds
    detail = by_size["GET /api/assessments/{id}"]
    assert {m.calls_per_request for m in detail.values()} == {4}  # #META + links, events, questions, reviews
    for measured in by_size["GET /api/assessments?q=acme+review&state=approved"].values():
        assert dict(measured.calls) == {"Query": 5}  # one Query a request, no BatchGetItem
    waves = e2e.identical
    assert waves.first_bedrock_calls == 1 and waves.second_bedrock_calls == 0
    assert e2e.distinct.bedrock_calls == 8 and e2e.distinct.statuses == {200: 8}
    assert e2e.priced and all(row.naive_usd > row.design_usd for rows in e2e.priced.values() for row in rows)

    written = report.write(results, tmp_path / "benchmarks.md")
    text = written[0].read_text()
    for heading in ("# Benchmarks", "## 1.", "## 2.", "## 3.", "## 4.", "## 5.", "## 6.", "## 7."):
        assert heading in text
    assert "- review queue from " in text  # the summary
    assert written[1].read_text().startswith("<svg")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [(["--sizes=abc"], "--sizes"), (["--sizes=50"], "at least 100"), (["--llm-requests=0"], "--llm-requests")],
)
def test_bad_arguments_are_refused_before_anything_runs(arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("benchmark", *arguments)
