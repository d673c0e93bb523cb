"""Fixtures for the fault-injection and concurrency tests.

- `backoff` (autouse): AWS_MAX_ATTEMPTS at its production default (4) and botocore's
  retry backoff recorded but not slept (tests count retries, they do not wait for
  them); the batch writer's UnprocessedItems backoff made tiny.
- `faults`: a DynamoFaults injector on PynamoDB's shared botocore client.
- `llm_cache_isolated` (autouse): the `llm` cache emptied around each test.

The session ends with a summary: how many faults were injected, by kind, and how
many concurrent HTTP operations ran against the uvicorn server.
"""

from collections import Counter

import pytest
from botocore.retries import standard
from django.core.cache import caches

from tests.support.dynamo_faults import INJECTED, DynamoFaults
from tra.dynamo.connection import botocore_client

MAX_ATTEMPTS = 4  # AWS_MAX_ATTEMPTS's production default
REPORT: Counter = Counter()  # figures for the summary line (concurrent operations run)


@pytest.fixture(autouse=True)
def backoff(settings, monkeypatch):
    settings.AWS_MAX_ATTEMPTS = MAX_ATTEMPTS  # rebuilds the PynamoDB connection and the aioboto3 clients
    delays: list[float] = []
    original = standard.ExponentialBackoff.delay_amount

    def recorded(self, context):
        delays.append(original(self, context))
        return 0

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", recorded)
    monkeypatch.setattr("tra.dynamo.writes.BACKOFF_BASE_SECONDS", 0.001)
    return delays


@pytest.fixture(autouse=True)
def llm_cache_isolated():
    caches["llm"].clear()
    yield
    caches["llm"].clear()


@pytest.fixture
def faults(dynamo_table, backoff):
    injector = DynamoFaults().attach(botocore_client())
    yield injector
    injector.clear()


def pytest_terminal_summary(terminalreporter):
    if INJECTED:
        kinds = ", ".join(f"{kind}: {count}" for kind, count in sorted(INJECTED.items()))
        terminalreporter.write_line(f"reliability: {sum(INJECTED.values())} faults injected ({kinds})")
    if REPORT:
        figures = ", ".join(f"{count} {what}" for what, count in sorted(REPORT.items()))
        terminalreporter.write_line(f"reliability: {figures} against uvicorn")
