"""docs/benchmarks.md and its chart, from one run's Results; and the summary the command prints."""

from pathlib import Path

from tra.observability.dashboard import bar_chart

from . import local_server
from .endtoend import REQUESTS_PER_ENDPOINT as _REQUESTS

CHART = "benchmarks-reads.svg"


def _ratio(naive: float, design: float) -> str:
    if design <= 0:
        return "∞" if naive > 0 else "1×"
    value = naive / design
    return f"{value:,.0f}×" if value >= 10 else f"{value:,.1f}×"


def _size(items: int) -> str:
    return f"{items / 1000:,.0f}k" if items >= 1000 else str(items)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def write(results, path: Path) -> list[Path]:
    """The report at `path` and its chart beside it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(markdown(results))
    (path.parent / CHART).write_text(chart(results))
    return [path, path.parent / CHART]


def chart(results) -> str:
    labels, series = [], {}
    for row in results.reads:
        if row.pattern == "review queue by state":
            labels.append(f"{_size(row.items)} items")
        for who, figures in (("GSI Query", row.query), ("Scan + filter", row.scan)):
            series.setdefault(f"{who}: {row.pattern}", []).append(figures.rcu)
    return bar_chart(title="Read capacity units per request (lower is better)", labels=labels, series=series)


def summary_lines(results) -> list[str]:
    """The headline ratios, one line each (printed by the command, quoted in closing notes)."""
    lines = []
    for row in results.reads:
        lines.append(
            f"{row.pattern} at {row.items:,} items: Scan uses {_ratio(row.scan.rcu, row.query.rcu)} the RCU "
            f"({row.scan.rcu:,.1f} vs {row.query.rcu:,.1f}), evaluates "
            f"{_ratio(row.scan.evaluated, row.query.evaluated)} the items, takes "
            f"{_ratio(row.scan.seconds, row.query.seconds)} the time"
        )
    queue = [row for row in results.reads if row.pattern == "review queue by state"]
    first, last = queue[0], queue[-1]
    lines.append(
        f"review queue from {first.items:,} to {last.items:,} items: Query RCU {first.query.rcu:g} -> "
        f"{last.query.rcu:g}, Scan RCU {first.scan.rcu:,.1f} -> {last.scan.rcu:,.1f}"
    )
    link = results.links
    lines.append(
        f"linking {link.documents:,} documents: {link.single.calls:,} calls one by one vs {link.batched.calls} "
        f"batched ({_ratio(link.single.calls, link.batched.calls)} fewer), "
        f"{_ratio(link.single.seconds, link.batched.seconds)} faster"
    )
    pooled, per_call = results.clients.pooled, results.clients.per_call
    lines.append(
        f"AWS clients: per-call client opens {per_call.connections} TCP connections for {per_call.calls} calls vs "
        f"{pooled.connections} pooled ({_ratio(per_call.connections, pooled.connections)}), "
        f"{_ratio(per_call.ms_per_call, pooled.ms_per_call)} the time per call"
    )
    cache = results.llm_cache
    lines.append(
        f"LLM cache: {cache.uncached.bedrock_calls} Bedrock calls without the cache vs {cache.cached.bedrock_calls} "
        f"with it ({_ratio(cache.uncached.bedrock_calls, cache.cached.bedrock_calls)} fewer), "
        f"${cache.uncached.cost_usd:.4f} vs ${cache.cached.cost_usd:.4f}"
    )
    for label, route in results.routing.items():
        lines.append(
            f"routing ({label}): {route.no_llm_share:.1%} of {route.messages} messages need no LLM call; "
            f"tool intents routed free {route.tool_coverage:.1%} at {route.precision:.1%} precision, "
            f"{route.mean_ms:.2f} ms a message"
        )
    con = results.concurrency
    lines.append(
        f"concurrency: {con.requests} LLM-bound requests take {con.concurrent_ratio:.1f}× the Bedrock latency "
        f"on one ASGI worker vs {con.sequential_ratio:.1f}× one at a time "
        f"({_ratio(con.sequential_seconds, con.concurrent_seconds)} faster)"
    )
    lines += _endtoend_summary(results.endtoend)
    lines += local_server.summary_lines(results.local_server)
    return lines


def _endtoend_summary(e2e) -> list[str]:
    if e2e is None:
        return []
    lines = []
    sizes = sorted({row.items for row in e2e.endpoints})
    if sizes:
        first, last = sizes[0], sizes[-1]
        at = {(row.items, row.endpoint): row.measured for row in e2e.endpoints}
        flat = [
            endpoint
            for (items, endpoint), m in at.items()
            if items == first
            and (last, endpoint) in at
            and at[(last, endpoint)].calls_per_request == m.calls_per_request
        ]
        lines.append(
            f"end to end: {len(flat)} of {len(at) // len(sizes)} endpoints make the same DynamoDB calls per request "
            f"at {first:,} and {last:,} items; meter and proxy agreed on {e2e.agreements} of {e2e.checks} measurements"
        )
    if e2e.identical:
        waves = e2e.identical
        lines.append(
            f"{waves.requests} concurrent identical summaries: {_statuses(waves.first.statuses)}, "
            f"{waves.first_bedrock_calls} Bedrock call(s); second wave {_statuses(waves.second.statuses)}, "
            f"{waves.second_bedrock_calls} Bedrock calls, {waves.second.writes} DynamoDB writes; a cache hit costs "
            f"{e2e.cache_hit_ratio:.1f}× GET /api/health"
        )
    if e2e.distinct:
        d = e2e.distinct
        lines.append(f"{d.requests} distinct LLM-bound requests: {d.ratio:.1f}× the model latency (floor {d.floor}×)")
    for items, rows in e2e.priced.items():
        design, naive = sum(r.design_usd for r in rows), sum(r.naive_usd for r in rows)
        lines.append(
            f"request mix at {items:,} items: ${design:.6f} per 1,000 requests vs ${naive:.6f} naive "
            f"({_ratio(naive, design)})"
        )
    return lines


def markdown(results) -> str:
    o = results.options
    server = {
        "dynalite": "dynalite (node, installed by `make setup`): it computes consumed capacity as DynamoDB does "
        "(1 RCU per 4 KB read, eventually consistent reads at half), so the RCU columns are real",
        "moto": "moto (dynalite unavailable): it reports a constant capacity per call, so the RCU columns are NOT "
        "real; items evaluated and calls are",
    }[o.backend]
    out = [
        "# Benchmarks",
        "",
        "Generated by `python manage.py benchmark` (`make bench`); do not edit by hand.",
        f"Run {results.started:%Y-%m-%d %H:%M} UTC on {results.machine}.",
        f"DynamoDB server: {server}. Bedrock: the fake Bedrock server of the tests, on 127.0.0.1.",
        "Everything runs on throwaway local servers and a throwaway database. Counts repeat run to run;",
        "times are this machine's. Ratios are naive ÷ design: higher means the design saves more.",
        "",
        "## Summary",
        "",
        *[f"- {line}" for line in summary_lines(results)],
        "",
        "## 1. Listing by state and searching by title: GSI Query vs Scan with a filter",
        "",
        "The design: the review queue is one Query of `by_status` (a page of 25), a title search one Query of",
        "`title_search_by_owner` (its rows the index's projection). The baseline scans the whole table with a",
        "filter and sorts.",
        "The table holds realistic demo data (assessments with questions, events, reviews, links, documents",
        "with chunks), grown to each size in turn.",
        "",
        "| Items in table | Pattern | RCU Query | RCU Scan | RCU ratio | Evaluated Query | Evaluated Scan "
        "| Returned | Time Query | Time Scan | Time ratio |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in results.reads:
        out.append(
            f"| {row.items:,} | {row.pattern} | {row.query.rcu:g} | {row.scan.rcu:,.1f} | "
            f"{_ratio(row.scan.rcu, row.query.rcu)} | {row.query.evaluated:,} | {row.scan.evaluated:,} | "
            f"{row.query.returned} | {_ms(row.query.seconds)} | {_ms(row.scan.seconds)} | "
            f"{_ratio(row.scan.seconds, row.query.seconds)} |"
        )
    out += ["", f"![Read capacity per request]({CHART})", ""]
    link = results.links
    out += [
        f"## 2. Linking {link.documents:,} documents to an assessment",
        "",
        f"On {link.backend or 'the benchmark server'}. Each batch of 25 links is one TransactWriteItems with its "
        "audit event and the assessment's evidence version (2 write units an item: a transaction's price).",
        "",
        "| | API calls | Calls by operation | Time | |",
        "|---|---:|---|---:|---:|",
        f"| Batched (design) | {link.batched.calls} | {_operations(link.batched.calls_by_operation)} | "
        f"{_ms(link.batched.seconds)} | |",
        f"| One UpdateItem each | {link.single.calls:,} | {_operations(link.single.calls_by_operation)} | "
        f"{_ms(link.single.seconds)} | {_ratio(link.single.calls, link.batched.calls)} the calls, "
        f"{_ratio(link.single.seconds, link.batched.seconds)} the time |",
        "",
    ]
    pooled, per_call = results.clients.pooled, results.clients.per_call
    out += [
        f"## 3. AWS clients: pooled vs a new session and client per call ({pooled.calls} GetItem calls, "
        f"{results.clients.concurrency} at a time)",
        "",
        "| | Time per call | TCP connections | Clients created |",
        "|---|---:|---:|---:|",
        f"| Pooled (design) | {pooled.ms_per_call:.2f} ms | {pooled.connections} | {pooled.clients_created} |",
        f"| Session + client per call | {per_call.ms_per_call:.2f} ms | {per_call.connections} | "
        f"{per_call.clients_created} |",
        f"| Ratio | {_ratio(per_call.ms_per_call, pooled.ms_per_call)} | "
        f"{_ratio(per_call.connections, pooled.connections)} | "
        f"{_ratio(per_call.clients_created, pooled.clients_created)} |",
        "",
    ]
    cache = results.llm_cache
    out += [
        f"## 4. LLM response cache: {cache.cached.requests:,} summary requests, {cache.unique} unique, "
        f"{cache.wave} at a time",
        "",
        "| | Bedrock calls | Estimated cost | Cache hits | Coalesced (waited on an identical call in flight) |",
        "|---|---:|---:|---:|---:|",
        f"| With the cache (design) | {cache.cached.bedrock_calls} | ${cache.cached.cost_usd:.4f} | "
        f"{cache.cached.hits} | {cache.cached.coalesced} |",
        f"| Without | {cache.uncached.bedrock_calls} | ${cache.uncached.cost_usd:.4f} | - | - |",
        f"| Ratio | {_ratio(cache.uncached.bedrock_calls, cache.cached.bedrock_calls)} | "
        f"{_ratio(cache.uncached.cost_usd, cache.cached.cost_usd)} | | |",
        "",
        "Dollars are the LLM layer's estimate from `LLM_PRICES` for the model's token counts.",
        "",
    ]
    out += [
        "## 5. Chat routing on messages the classifier was never trained on",
        "",
        "`tests/chat/corpus/heldout.jsonl`: templates, vendor and document names written apart from the "
        "training ones. `independent.jsonl` (the development set): written by hand without seeing the training "
        "data, then read for error analysis (INDEPENDENT.md). `fresh.jsonl` (the validation set): written by hand "
        "by an author who saw nothing of the project; its aggregates chose between router configurations, its lines "
        "are never read (FRESH.md). `unseen.jsonl`: written by hand by an author who "
        "saw no training data, no other set and not the router, never read for development (UNSEEN.md lists "
        "each time it was measured): the figure on messages never seen. Targets: precision >= 99% and "
        "tool-intent coverage >= 85% on the "
        "held-out split; >= 98% and >= 80% on messages never seen.",
        "",
    ]
    for label, route in results.routing.items():
        out += [
            f"### The {label} ({route.messages} messages)",
            "",
            "| Tier | Messages routed | Precision | Share of all messages |",
            "|---|---:|---:|---:|",
        ]
        for tier, figures in route.tiers.items():
            share = figures.routed / route.messages
            out.append(f"| {tier} | {figures.routed} | {figures.precision:.1%} | {share:.1%} |")
        out += [
            f"| llm (passed on) | {route.messages - route.fast_routed} | - | {1 - route.no_llm_share:.1%} |",
            "",
            f"{route.no_llm_share:.1%} of messages need no LLM call; the free tiers route "
            f"{route.tool_routed}/{route.tool_messages} ({route.tool_coverage:.1%}) of tool-intent messages at "
            f"{route.precision:.1%} precision, in {route.mean_ms:.2f} ms a message on average.",
            "",
        ]
    con = results.concurrency
    out += [
        f"## 6. Concurrency: {con.requests} LLM-bound API requests, Bedrock latency L = {con.latency:.2f} s",
        "",
        "| | Wall time | Wall time / L |",
        "|---|---:|---:|",
        f"| One ASGI worker, requests together (design) | {_ms(con.concurrent_seconds)} | {con.concurrent_ratio:.1f} |",
        f"| Synchronous worker, one request at a time | {_ms(con.sequential_seconds)} | {con.sequential_ratio:.1f} |",
        f"| Ratio | {_ratio(con.sequential_seconds, con.concurrent_seconds)} | |",
        "",
        "What remains above 1× in the design's row is per-request work that cannot overlap here: Python",
        "CPU (one core per worker) and the local moto server, which serves one request at a time (its",
        "transactions are not thread-safe); against DynamoDB those calls overlap as the Bedrock waits do.",
        "",
        f"Statuses: {sorted(set(con.statuses))}.",
        "",
    ]
    out += _endtoend(results)
    out += local_server.markdown_lines(results.local_server, 8)
    return "\n".join(out)


def _statuses(statuses) -> str:
    return ", ".join(f"{count}× {status}" for status, count in sorted(statuses.items()))


def _endtoend(results) -> list[str]:
    e2e = results.endtoend
    if e2e is None:
        return []
    server = {"dynalite": "dynalite (real read units; these endpoints only read)", "moto": "moto (constant units)"}
    out = [
        "## 7. End to end: through uvicorn over TCP, a counting proxy before DynamoDB",
        "",
        "The application is served by uvicorn (lifespan on) on 127.0.0.1; clients send real HTTP (aiohttp).",
        "A counting proxy before the DynamoDB server counts every request per operation at the endpoint;",
        "read and write units are the application's meter's, which agreed with the proxy's call counts on "
        f"{e2e.agreements} of {e2e.checks} measurements. Bedrock is the fake server.",
        "",
        f"### Per endpoint, per request ({_REQUESTS} requests each), at each table size: {server[e2e.read_backend]}",
        "",
        "| Items in table | Endpoint | DynamoDB calls | Calls by operation | RCU | WCU | Statuses |",
        "|---:|---|---:|---|---:|---:|---|",
    ]
    for row in e2e.endpoints:
        m = row.measured
        calls = {operation: count / m.requests for operation, count in m.calls.items()}
        out.append(
            f"| {row.items:,} | `{row.endpoint}` | {m.calls_per_request:g} | "
            f"{', '.join(f'{op} {n:g}' for op, n in sorted(calls.items()))} | {m.rcu_per_request:g} | "
            f"{m.wcu_per_request:g} | {_statuses(m.statuses)} |"
        )
    out += [""]
    if e2e.identical:
        waves = e2e.identical
        out += [
            f"### {waves.requests} concurrent identical summary requests (one user, default settings; "
            f"{e2e.llm_backend}, a fresh server)",
            "",
            "| Wave | Statuses | Bedrock calls | DynamoDB calls | DynamoDB writes |",
            "|---|---|---:|---:|---:|",
            f"| First | {_statuses(waves.first.statuses)} | {waves.first_bedrock_calls} | "
            f"{sum(waves.first.calls.values())} | {waves.first.writes} |",
            f"| Second (all answers known) | {_statuses(waves.second.statuses)} | {waves.second_bedrock_calls} | "
            f"{sum(waves.second.calls.values())} | {waves.second.writes} |",
            "",
            f"A cache-hit summary takes {e2e.cache_hit_ms:.1f} ms against {e2e.health_ms:.1f} ms for "
            f"`GET /api/health` ({e2e.cache_hit_ratio:.1f}×), medians of 30 round trips one at a time over TCP.",
            "",
        ]
    if e2e.distinct:
        d = e2e.distinct
        out += [
            f"### {d.requests} concurrent distinct LLM-bound requests, model latency L = {d.latency:.2f} s",
            "",
            f"Wall time {_ms(d.seconds)} = {d.ratio:.1f} L, against the floor ceil(N / pool) = "
            f"ceil({d.requests} / {d.pool}) = {d.floor} L (`LLM_MAX_CONCURRENCY` = {d.pool} calls in flight). "
            f"Bedrock calls: {d.bedrock_calls}. Statuses: {_statuses(d.statuses)}.",
            "What lies above the floor is per-request work that cannot overlap here: Python CPU in one process",
            "(the clients, the server and the fake Bedrock share its GIL) on this machine's cores, and the local",
            f"DynamoDB server ({e2e.llm_backend}; devtools/benchmark/endtoend.py, `llm_backend()`, says why not moto).",
            "",
        ]
    for items, rows in e2e.priced.items():
        design = sum(row.design_usd for row in rows)
        naive = sum(row.naive_usd for row in rows)
        out += [
            f"### A request mix priced per 1,000 requests at {items:,} items (DynamoDB on-demand, us-east-1)",
            "",
            "Design: the units measured above at $0.125 per million read and $0.625 per million write request",
            "units. Naive: every list a Scan of the table (the Scan's units from section 1), the detail and its",
            "events one GetItem per item of the collection (0.5 RCU each), summaries without a cache (one",
            "Bedrock call each, the price from section 4).",
            "",
            "| Endpoint | Requests | Design $ | Naive $ |",
            "|---|---:|---:|---:|",
            *[
                f"| `{row.endpoint}` | {row.per_thousand} | {row.design_usd:.6f} | {row.naive_usd:.6f} |"
                for row in rows
            ],
            f"| Total | 1,000 | {design:.6f} | {naive:.6f} ({_ratio(naive, design)}) |",
            "",
        ]
    return out


def _operations(by_operation: dict[str, int]) -> str:
    return ", ".join(f"{name} {count:,}" for name, count in sorted(by_operation.items()))
