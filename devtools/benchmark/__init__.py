"""`python manage.py benchmark`: the design against the naive one it replaces, in one run.

    run(options) -> Results         every section, on throwaway local servers
    report.markdown(results)        docs/benchmarks.md, with its chart (report.chart)

Sections (each module's docstring says what is compared and how):
    reads        GSI Query vs Scan-with-filter at growing table sizes (RCU, items evaluated, time)
    links        linking 1,000 documents: BatchWriteItem vs one UpdateItem each
    clients      pooled aioboto3 client vs a new session and client per call (time, TCP connections)
    llm_cache    replayed summary workload with and without the response cache (calls, dollars)
    routing      chat messages routed by the free tiers, and their precision
    concurrency  N LLM-bound API requests on one ASGI worker vs one at a time
    endtoend     through uvicorn over TCP, a counting proxy before DynamoDB: per-endpoint calls and units
                 at each size, identical and distinct concurrent summaries, a request mix priced in dollars
    local_server `make run`'s DynamoDB Local at growing sizes: restart to ready, memory, put/get latency,
                 and `runlocal` restarted to healthy at the largest size (skipped without Java)

The naive baselines live here only. Counts (RCU, calls, connections, items) are
exact for a given server and repeat run to run; times are one machine's and vary.
"""

import contextlib
import logging
import os
import platform
from dataclasses import dataclass, field
from datetime import UTC, datetime

from . import clients, concurrency, endtoend, links, llm_cache, local_server, reads, routing
from .environment import dynamodb_server, isolated


@dataclass
class Options:
    sizes: list[int] = field(default_factory=lambda: [1_000, 10_000, 100_000])
    backend: str = "dynalite"
    link_documents: int = 1_000
    client_calls: int = 400
    llm_requests: int = 1_000
    concurrent_requests: int = 16
    latency: float = 1.0  # a short Bedrock call; summaries often take several seconds
    identical_summaries: int = 100
    distinct_requests: int = 200
    distinct_latency: float = 0.25  # Bedrock seconds per call in the distinct burst (its floor is N / pool)
    own_database: bool = True  # a throwaway Django database (False: the current one, e.g. the tests')
    local_server_sizes: list[int] = field(default_factory=lambda: [1_000, 100_000])  # [] skips the section
    local_server_calls: int = 200


@dataclass
class Results:
    options: Options
    started: datetime
    machine: str
    reads: list
    links: object
    clients: object
    llm_cache: object
    routing: object
    concurrency: object
    endtoend: object
    local_server: object = None


@contextlib.contextmanager
def _quiet(*names: str):
    """Keep per-call log lines (one per Bedrock call) out of the benchmark's output."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def run(options: Options, *, progress=print) -> Results:
    started = datetime.now(UTC)
    machine = f"{platform.machine()}, {os.cpu_count()} CPU(s), Python {platform.python_version()}"
    with _quiet("llm"), isolated(own_database=options.own_database) as environment:
        e2e = endtoend.EndToEndResult(read_backend=options.backend)

        def endpoints_at(items: int) -> None:
            with endtoend.Server() as server:
                endtoend.endpoints(server, e2e, items, progress=progress)

        with dynamodb_server(options.backend):
            read_rows = reads.run(options.sizes, progress=progress, at_each_size=endpoints_at)
        # Links are transactions now: on a fresh server that does not deep-copy its table per transaction
        # (DynamoDB Local when installed; endtoend.llm_backend says why moto does not fit).
        with dynamodb_server(endtoend.llm_backend()):
            link_result = links.run(options.link_documents, progress=progress)
            link_result.backend = endtoend.llm_backend()
        client_result = clients.run(options.client_calls, progress=progress)
        cache_result = llm_cache.run(environment.bedrock, options.llm_requests, progress=progress)
        routing_result = routing.run(progress=progress)
        concurrency_result = concurrency.run(
            environment.bedrock, options.concurrent_requests, options.latency, progress=progress
        )
        e2e.llm_backend = endtoend.llm_backend()  # a fresh server: moto slows as earlier sections fill it
        with dynamodb_server(e2e.llm_backend), endtoend.Server() as server:
            endtoend.summaries(
                server,
                environment.bedrock,
                e2e,
                identical=options.identical_summaries,
                distinct=options.distinct_requests,
                latency=options.distinct_latency,
                progress=progress,
            )
    local_result = local_server.run(options.local_server_sizes, calls=options.local_server_calls, progress=progress)
    per_call = cache_result.uncached.cost_usd / max(cache_result.uncached.bedrock_calls, 1)
    for row in read_rows:
        if row.pattern == "review queue by state" and row.items in e2e.collection_items:
            e2e.priced[row.items] = endtoend.price(
                e2e,
                items=row.items,
                scan_rcu=row.scan.rcu,
                collection_items=e2e.collection_items[row.items],
                bedrock_usd_per_call=per_call,
            )
    return Results(
        options=options,
        started=started,
        machine=machine,
        reads=read_rows,
        links=link_result,
        clients=client_result,
        llm_cache=cache_result,
        routing=routing_result,
        concurrency=concurrency_result,
        endtoend=e2e,
        local_server=local_result,
    )
