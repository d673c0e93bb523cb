"""Section 7: end to end, through the ASGI server (uvicorn) over TCP.

The application (tra.asgi.application, lifespan on) is served by uvicorn on
127.0.0.1 in a thread of this process; clients are aiohttp sessions sending real
HTTP. A counting proxy (devtools.tcp_proxy.DynamoDBCountingProxy) sits before
the DynamoDB server and counts every request per operation at the endpoint; the
application's own meter (tra.dynamo.metering, shared with this process) gives
the read and write units and is checked against the proxy's count on every
measurement. Bedrock is the tests' fake server.

- Per main endpoint, DynamoDB calls and read/write units per request, at each
  table size of the read section (dynalite: it computes capacity as DynamoDB
  does; these endpoints are read-only, so dynalite's lack of transactions does
  not matter). Flat means the cost does not grow with the table.
- 100 concurrent identical summary requests (one user, default settings):
  statuses, Bedrock calls, DynamoDB calls; then a second wave (moto).
- N concurrent distinct LLM-bound requests (summaries of N documents by a few
  users): wall time / model latency against the floor ceil(N / LLM_MAX_CONCURRENCY).
  The summary sections run on a fresh DynamoDB server of their own, DynamoDB Local
  when Java and npm's jar are installed (`llm_backend()` says why not moto).
- A cache-hit summary's round trip as a ratio to GET /api/health's.
- A request mix priced in dollars per 1,000 requests against the naive design
  (every list a Scan of the table, no cache, one GetItem per item).
"""

import asyncio
import contextlib
import math
import shutil
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from unittest import mock
from urllib.parse import urlsplit

import aiohttp
import uvicorn
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test.utils import override_settings

from assessments.models import ASSESSMENT, Assessment
from devtools import demo
from devtools.local_dynamo.server import dynamodb_local_jar, free_port
from devtools.tcp_proxy import DynamoDBCountingProxy
from tra.aws import clients
from tra.dynamo.connection import botocore_client, reset_connection
from tra.dynamo.metering import DATA_OPERATIONS, WRITE_OPERATIONS, meter
from tra.http.auth import token_create
from tra.observability import usage

# DynamoDB on-demand, us-east-1 (since November 2024): dollars per million request units.
READ_PRICE = 0.125
WRITE_PRICE = 0.625
REQUESTS_PER_ENDPOINT = 5


@dataclass
class Measured:
    """One or more requests' DynamoDB work, as the proxy counted it and the meter priced it."""

    requests: int = 0
    calls: Counter = field(default_factory=Counter)  # operation -> calls at the endpoint (proxy)
    read_units: float = 0.0
    write_units: float = 0.0
    statuses: Counter = field(default_factory=Counter)
    meter_agrees: bool = True

    @property
    def calls_per_request(self) -> float:
        return sum(self.calls.values()) / max(self.requests, 1)

    @property
    def rcu_per_request(self) -> float:
        return self.read_units / max(self.requests, 1)

    @property
    def wcu_per_request(self) -> float:
        return self.write_units / max(self.requests, 1)

    @property
    def writes(self) -> int:
        return sum(count for operation, count in self.calls.items() if operation in WRITE_OPERATIONS)


@dataclass
class EndpointRow:
    items: int
    endpoint: str
    measured: Measured


@dataclass
class Waves:
    requests: int
    first: Measured
    first_bedrock_calls: int
    second: Measured
    second_bedrock_calls: int


@dataclass
class Distinct:
    requests: int
    latency: float
    pool: int
    seconds: float
    statuses: Counter
    bedrock_calls: int

    @property
    def ratio(self) -> float:
        return self.seconds / self.latency

    @property
    def floor(self) -> int:
        return math.ceil(self.requests / self.pool)


@dataclass
class EndToEndResult:
    endpoints: list = field(default_factory=list)  # EndpointRow at each table size
    read_backend: str = ""
    identical: Waves | None = None
    distinct: Distinct | None = None
    cache_hit_ms: float = 0.0
    health_ms: float = 0.0
    collection_items: dict = field(default_factory=dict)  # table size -> items of the detail's collection
    llm_backend: str = "moto"  # the DynamoDB server of the summary sections (llm_backend())
    priced: dict = field(default_factory=dict)  # table size -> [PricedRow]
    checks: int = 0  # measurements where meter and proxy were compared
    agreements: int = 0

    @property
    def cache_hit_ratio(self) -> float:
        return self.cache_hit_ms / self.health_ms if self.health_ms else 0.0


class Server:
    """uvicorn serving tra.asgi.application in a thread, every DynamoDB client behind a counting proxy."""

    def __init__(self) -> None:
        self._stack = contextlib.ExitStack()
        self.proxy: DynamoDBCountingProxy | None = None
        self.url = ""

    def __enter__(self) -> "Server":
        from tra.asgi import application  # importing it builds Django's ASGI handler: only when serving

        upstream = urlsplit(settings.DYNAMODB_ENDPOINT_URL)
        self.proxy = self._stack.enter_context(DynamoDBCountingProxy(upstream.hostname, upstream.port))
        self._stack.enter_context(
            override_settings(
                DYNAMODB_ENDPOINT_URL=self.proxy.endpoint_url,
                USAGE_FLUSH_SECONDS=3600,  # no flush in the middle of a measurement
                ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "127.0.0.1"],
            )
        )
        # The worker's usage flush at shutdown would add its counters to the table being measured.
        self._stack.enter_context(mock.patch.object(usage, "flush_quietly", lambda: None))
        reset_connection()
        clients.reset()
        config = uvicorn.Config(
            application, host="127.0.0.1", port=free_port(), lifespan="on", log_level="warning", access_log=False
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="benchmark-uvicorn", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{config.port}"
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)
        self._stack.close()
        reset_connection()
        clients.reset()

    @contextlib.contextmanager
    def measured(self, result: EndToEndResult, requests: int):
        """Count what the enclosed requests cost at the endpoint and on the meter (nothing else runs)."""
        self.proxy.reset()
        before = meter.snapshot()
        measured = Measured(requests=requests)
        yield measured
        time.sleep(0.05)  # the proxy's response pump counts an answer just after the client has it
        after = meter.snapshot()
        metered: Counter = Counter()
        for key, stats in after.items():
            old = before.get(key)
            metered[key[0]] += stats.calls - (old.calls if old else 0)
            measured.read_units += stats.read_units - (old.read_units if old else 0.0)
            measured.write_units += stats.write_units - (old.write_units if old else 0.0)
        measured.calls = Counter(self.proxy.requests)
        billed = Counter({op: n for op, n in measured.calls.items() if op in DATA_OPERATIONS})  # not DescribeTable
        measured.meter_agrees = +metered == billed
        result.checks += 1
        result.agreements += measured.meter_agrees


def _token(username: str) -> str:
    """An API token for `username` (demo.seed's owners and reviewer exist; others are created)."""
    user, _ = get_user_model().objects.get_or_create(username=username)
    return token_create(user=user, name="benchmark-e2e")[1]


def _collection_size(assessment_id: str) -> int:
    """Items in the assessment's collection: what a design without the detail Query would GetItem one by one."""
    response = botocore_client().query(
        TableName=settings.TRA_TABLE_NAME,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": Assessment.key(assessment_id)[0]}},
        Select="COUNT",
    )
    return response["Count"]


async def _send(session, method: str, url: str, token: str, **kwargs) -> tuple[int, dict | None]:
    async with session.request(method, url, headers={"Authorization": f"Bearer {token}"}, **kwargs) as response:
        body = await response.json() if response.content_type == "application/json" else None
        return response.status, body


def _run(coroutine_function, *args):
    async def main():
        connector = aiohttp.TCPConnector(limit=300)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=300)) as session:
            return await coroutine_function(session, *args)

    return asyncio.run(main())


# --- per endpoint, at each table size (read-only) ----------------------------------------------


def endpoints(server: Server, result: EndToEndResult, items: int, *, progress=print) -> None:
    progress(f"end to end: main endpoints through uvicorn at {items:,} items")
    # The owner of the newest assessment: demo data spreads assessments over five owners at random,
    # and a small table can leave any one of them with none.
    newest = next(iter(Assessment.by_type.query(ASSESSMENT, scan_index_forward=False, limit=1)))
    owner = _token(get_user_model().objects.get(pk=int(newest.owner_id)).get_username())
    reviewer = _token("reviewer")

    async def first_ids(session):
        _, mine = await _send(session, "GET", f"{server.url}/api/assessments?limit=1", owner)
        return mine["items"][0]["id"]

    assessment_id = _run(first_ids)
    result.collection_items[items] = _collection_size(assessment_id)
    api = f"{server.url}/api"
    paths = [
        ("GET /api/health", f"{api}/health", owner),
        ("GET /api/assessments (mine, page of 25)", f"{api}/assessments?limit=25", owner),
        ("GET /api/assessments?q=review", f"{api}/assessments?limit=25&q=review", owner),
        (
            "GET /api/assessments?q=acme+review&state=approved",
            f"{api}/assessments?limit=25&q=acme+review&state=approved",
            owner,
        ),
        ("GET /api/assessments/{id}", f"{api}/assessments/{assessment_id}", owner),
        ("GET /api/assessments/{id}/events", f"{api}/assessments/{assessment_id}/events?limit=20", owner),
        ("GET /api/assessments/review-queue", f"{api}/assessments/review-queue?limit=25", reviewer),
        ("GET /api/documents", f"{api}/documents?limit=25", owner),
    ]

    async def sequentially(session, url, token):
        statuses = Counter()
        for _ in range(REQUESTS_PER_ENDPOINT):
            status, _ = await _send(session, "GET", url, token)
            statuses[status] += 1
        return statuses

    for name, url, token in paths:
        _run(sequentially, url, token)  # warm: the token's first use, the pools
        with server.measured(result, REQUESTS_PER_ENDPOINT) as measured:
            measured.statuses = _run(sequentially, url, token)
        result.endpoints.append(EndpointRow(items, name, measured))


# --- LLM-bound requests (uploads and summaries write: DynamoDB Local, else moto) ------------------


def llm_backend() -> str:
    """The server for the summary sections: DynamoDB Local if installed, else moto.

    Both implement what uploads and summaries use (transactions included; dynalite has none). moto
    answers one request at a time, and its answer time grows with the table: every Query sorts every
    item of the table before picking the partition's, and every TransactWriteItems deep-copies the
    whole table first. Measured with 200 distinct summaries at L = 0.25 s (docs/benchmarks.md's
    burst; a 2-core machine under other load): fresh moto 32 L, moto holding 4,600 demo items 93 L,
    after the benchmark's earlier sections 128-134 L with read timeouts; DynamoDB Local 22-24 L fresh
    and 26 L with the same 4,600 items. What stays above the floor there is Python CPU in this one
    process (client, server and fake Bedrock share its GIL)."""
    if shutil.which("java") and dynamodb_local_jar(settings.BASE_DIR) is not None:
        return "dynamodb-local"
    return "moto"


async def _upload(session, api: str, token: str, name: str, text: str) -> str:
    form = aiohttp.FormData()
    form.add_field("file", text.encode(), filename=name, content_type="text/plain")
    status, body = await _send(session, "POST", f"{api}/documents", token, data=form)
    if status != 201:
        raise RuntimeError(f"upload failed: {status} {body}")
    return body["id"]


def _policy(n: int) -> str:
    """A text no other section uploads (the LLM cache would already know its summary)."""
    vendor = demo.VENDORS[n % len(demo.VENDORS)]
    return f"{vendor} end-to-end policy {n}.\n\n" + "\n\n".join(a for _q, a in demo.CONTROLS)


def summaries(server: Server, bedrock, result: EndToEndResult, *, identical: int, distinct: int, latency: float,
              progress=print) -> None:  # fmt: skip
    api = f"{server.url}/api"
    owner = _token("benchmark-summaries")
    progress(f"end to end: {identical} concurrent identical summaries, twice")
    document_id = _run(_upload, api, owner, "identical.txt", _policy(0))

    async def wave(session):
        url = f"{api}/documents/{document_id}/summary"
        answers = await asyncio.gather(*(_send(session, "POST", url, owner) for _ in range(identical)))
        return Counter(status for status, _ in answers)

    calls = bedrock.converse_calls
    with server.measured(result, identical) as first:
        first.statuses = _run(wave)
    first_calls, calls = bedrock.converse_calls - calls, bedrock.converse_calls
    with server.measured(result, identical) as second:
        second.statuses = _run(wave)
    result.identical = Waves(identical, first, first_calls, second, bedrock.converse_calls - calls)

    progress("end to end: cache-hit summary and GET /api/health, one at a time")

    async def timed(session, url, method, token, runs=30):
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            await _send(session, method, url, token)
            timings.append(time.perf_counter() - started)
        return statistics.median(timings) * 1000

    result.cache_hit_ms = _run(timed, f"{api}/documents/{document_id}/summary", "POST", owner)
    result.health_ms = _run(timed, f"{api}/health", "GET", owner)

    # Distinct documents, each a model call; spread over users so the per-user rate limit is not the subject.
    per_user = 50
    users = [_token(f"benchmark-llm-{n}") for n in range(math.ceil(distinct / per_user))]
    progress(f"end to end: {distinct} concurrent distinct summaries, Bedrock answering in {latency:.2f} s")

    async def uploads(session):
        return [
            (users[n // per_user], await _upload(session, api, users[n // per_user], f"d{n}.txt", _policy(n + 1)))
            for n in range(distinct)
        ]

    documents = _run(uploads)

    async def burst(session):
        answers = await asyncio.gather(
            *(_send(session, "POST", f"{api}/documents/{d}/summary?refresh=true", token) for token, d in documents)
        )
        return Counter(status for status, _ in answers)

    bedrock.latency = latency
    calls = bedrock.converse_calls
    try:
        started = time.perf_counter()
        statuses = _run(burst)
        seconds = time.perf_counter() - started
    finally:
        bedrock.latency = 0.0
    result.distinct = Distinct(
        distinct, latency, settings.LLM_MAX_CONCURRENCY, seconds, statuses, bedrock.converse_calls - calls
    )


# --- pricing -------------------------------------------------------------------------------------

# A day's requests, per 1,000: what the API mostly serves (documented in docs/benchmarks.md).
MIX = (
    ("GET /api/assessments (mine, page of 25)", 300),
    ("GET /api/assessments?q=review", 100),
    ("GET /api/assessments/{id}", 250),
    ("GET /api/assessments/review-queue", 100),
    ("GET /api/documents", 100),
    ("GET /api/assessments/{id}/events", 50),
    ("POST /api/documents/{id}/summary (cache hit)", 100),
)


@dataclass
class PricedRow:
    endpoint: str
    per_thousand: int
    design_usd: float
    naive_usd: float


def price(result: EndToEndResult, *, items: int, scan_rcu: float, collection_items: int,
          bedrock_usd_per_call: float) -> list[PricedRow]:  # fmt: skip
    """Dollars for each endpoint's share of 1,000 requests at `items` items, design and naive:
    naive lists Scan the table (`scan_rcu`, measured in the read section), naive detail reads one
    item per GetItem (0.5 RCU each), naive summaries have no cache (a Bedrock call each)."""
    rows = {row.endpoint: row.measured for row in result.endpoints if row.items == items}
    cache_hit = result.identical.second if result.identical else None
    priced = []
    for endpoint, count in MIX:
        measured = cache_hit if endpoint.startswith("POST") else rows.get(endpoint)
        if measured is None:
            continue
        design = count * (measured.rcu_per_request * READ_PRICE + measured.wcu_per_request * WRITE_PRICE) / 1e6
        if endpoint.startswith("POST"):
            naive = count * bedrock_usd_per_call
        elif endpoint == "GET /api/assessments/{id}" or endpoint.endswith("/events"):
            naive = count * collection_items * 0.5 * READ_PRICE / 1e6
        else:
            naive = count * scan_rcu * READ_PRICE / 1e6
        priced.append(PricedRow(endpoint, count, design, naive))
    return priced
