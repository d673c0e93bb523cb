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
        own_database=False,  # the test database is already a throwaway one
    )
    results = benchmark.run(options, progress=lambda line: None)

    queue = [row for row in results.reads if row.pattern == "review queue by state"]
    assert queue[0].query.rcu == queue[-1].query.rcu > 0  # a page of the index, whatever the table's size
    assert queue[-1].scan.rcu > 3 * queue[0].scan.rcu  # the Scan reads the whole table
    assert queue[-1].scan.evaluated == queue[-1].items
    assert all(row.query.calls <= 2 for row in results.reads)  # Query (+ BatchGetItem for the search)

    links = results.links
    assert links.single.calls_by_operation == {"UpdateItem": 60}
    assert links.batched.calls_by_operation["BatchWriteItem"] == 3  # 60 links, 25 a call
    assert links.batched.links == 60

    clients = results.clients
    assert clients.pooled.clients_created == 1 and clients.pooled.connections <= clients.concurrency
    assert clients.per_call.clients_created == 30 and clients.per_call.connections >= 30  # one (or more) a call

    cache = results.llm_cache
    assert cache.uncached.bedrock_calls == 60
    assert cache.cached.bedrock_calls == cache.unique == 18
    assert cache.cached.hits + cache.cached.coalesced == 60 - 18

    assert results.routing.precision >= 0.98
    assert set(results.concurrency.statuses) == {200}

    written = report.write(results, tmp_path / "benchmarks.md")
    text = written[0].read_text()
    for heading in ("# Benchmarks", "## 1.", "## 2.", "## 3.", "## 4.", "## 5.", "## 6."):
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
