"""Fixtures for the LLM layer.

- `llm_cache` (autouse): the `llm` cache under a key prefix of the test's own, emptied
  afterwards: cached answers and counters never leak between tests. It keeps the
  configured backend, so `REDIS_URL=... pytest tests/llm` runs everything on Redis.
- `retry_delays` (autouse): botocore's retry backoff is recorded and made instant:
  tests count retries, they do not wait for them.
- `fake_bedrock`: a FakeBedrock server with LLM_PROVIDER=bedrock pointed at it.
- `corpus`: a few evidence passages with one clear answer per question.
- `redis_url`: a reachable Redis (skipped, or failed under TRA_REQUIRE_SERVICES=1).
"""

import os
import socket
import uuid

import pytest
from botocore.retries import standard
from django.core.cache import caches
from django_redis.cache import RedisCache

from devtools.fake_bedrock import FakeBedrock
from llm.retrieval import Candidate
from tests.conftest import skip_or_fail


@pytest.fixture(autouse=True)
def llm_cache(settings):
    prefix = f"tra-llm-test-{uuid.uuid4().hex[:12]}"
    configured = settings.CACHES["llm"]
    if "django_redis" in configured["BACKEND"]:
        llm = {**configured, "KEY_PREFIX": prefix}
    else:
        # Room for the 200-request tests: the default 300 entries would cull counters.
        llm = {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": prefix,
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    settings.CACHES = {**settings.CACHES, "llm": llm}
    yield caches["llm"]
    cache = caches["llm"]
    if isinstance(cache, RedisCache):
        cache.delete_pattern("*")  # this prefix only; clear() would FLUSHDB a shared database
    else:
        cache.clear()


@pytest.fixture(autouse=True)
def retry_delays(monkeypatch):
    delays: list[float] = []
    original = standard.ExponentialBackoff.delay_amount

    def recorded(self, context):
        delays.append(original(self, context))
        return 0

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", recorded)
    return delays


@pytest.fixture
def fake_bedrock(settings, aws_clients):
    with FakeBedrock() as fake:
        settings.BEDROCK_ENDPOINT_URL = fake.endpoint_url  # resets the client registry
        settings.LLM_PROVIDER = "bedrock"
        settings.BEDROCK_KB_ID = ""
        yield fake


@pytest.fixture
def corpus() -> list[Candidate]:
    return [
        Candidate(
            document_id="soc2",
            chunk=0,
            filename="soc2-report.pdf",
            text=(
                "Acme Cloud engaged an independent auditor for its SOC 2 Type II examination. "
                "The audit period ran from January to December 2024. "
                "No exceptions were noted in the operating effectiveness of the controls."
            ),
        ),
        Candidate(
            document_id="soc2",
            chunk=1,
            filename="soc2-report.pdf",
            text=(
                "Customer data is encrypted at rest with AES-256 and keys are rotated every 90 days. "
                "Data in transit is protected with TLS 1.2 or higher."
            ),
        ),
        Candidate(
            document_id="policy",
            chunk=0,
            filename="security-policy.docx",
            text=(
                "Employees complete security awareness training when hired and every year after. "
                "Access reviews for production systems happen quarterly."
            ),
        ),
        Candidate(
            document_id="policy",
            chunk=1,
            filename="security-policy.docx",
            text=(
                "Backups are taken daily, kept for 35 days, and restores are tested twice a year. "
                "The disaster recovery plan targets a recovery time of four hours."
            ),
        ),
    ]


@pytest.fixture
def redis_url() -> str:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        skip_or_fail("no Redis server on 127.0.0.1:6379")
    return os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
