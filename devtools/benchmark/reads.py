"""Section 1: listing by state and searching by title, GSI Query against Scan-with-filter.

The design: the reviewer queue is one Query of `by_status` (`status_key =
ASMT#submitted`, a page of 25) and a title search one Query of
`title_search_by_owner`, its rows the index's projection - the application's own
selectors. The naive baseline, here only: Scan the whole table with a filter
(there is no other way to find "every submitted assessment" or "titles with
'review'" without an index), then sort and cut the page. Both run on the same
table, grown through realistic demo data (devtools/demo.py) to each size in turn.
"""

import functools
import statistics
import time
from dataclasses import dataclass

from assessments import selectors
from devtools import demo
from tra.dynamo.connection import botocore_client
from tra.dynamo.metering import batch_job, meter
from tra.http.auth import Actor

PAGE = 25
STATE = "submitted"
SEARCH_WORD = "review"  # in every demo title ("Acme Cloud hosting review 12"): a full first page


@dataclass
class ReadFigures:
    rcu: float
    evaluated: int  # items the server read (ScannedCount)
    returned: int
    calls: int
    seconds: float  # median of the runs


@dataclass
class ReadRow:
    items: int  # items in the table
    pattern: str  # "review queue by state" | "title search"
    query: ReadFigures
    scan: ReadFigures


def _reviewer() -> Actor:
    return Actor(user_id="benchmark-reviewer", username="benchmark-reviewer", is_staff=True, is_reviewer=True)


def _owner() -> Actor:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username="owner1")  # demo.seed's first owner
    return Actor(user_id=str(user.pk), username="owner1", is_staff=False, is_reviewer=False)


def _measure_query(call, runs: int) -> ReadFigures:
    timings, result, figures = [], None, None
    for _ in range(runs):
        meter.reset()
        started = time.perf_counter()
        result = call()
        timings.append(time.perf_counter() - started)
        stats = meter.snapshot().values()
        figures = (
            sum(s.read_units for s in stats),
            sum(s.scanned for s in stats),
            sum(s.calls for s in stats),
        )
    rcu, evaluated, calls = figures
    return ReadFigures(rcu, evaluated, len(result.items), calls, statistics.median(timings))


def _scan(filter_expression: str, names: dict, values: dict) -> tuple[list[dict], float, int, int]:
    """The naive baseline: every page of a filtered Scan (what a request would need without an index)."""
    client = botocore_client()
    from django.conf import settings

    found, rcu, evaluated, calls = [], 0.0, 0, 0
    kwargs = {
        "TableName": settings.TRA_TABLE_NAME,
        "FilterExpression": filter_expression,
        "ExpressionAttributeValues": values,
        "ReturnConsumedCapacity": "TOTAL",
    }
    if names:
        kwargs["ExpressionAttributeNames"] = names
    with batch_job("benchmark-baseline"):
        while True:
            page = client.scan(**kwargs)
            calls += 1
            found += page["Items"]
            rcu += page.get("ConsumedCapacity", {}).get("CapacityUnits", 0.0)
            evaluated += page["ScannedCount"]
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return found, rcu, evaluated, calls


def _measure_scan(filter_expression: str, names: dict, values: dict, sort_key: str, runs: int) -> ReadFigures:
    timings, figures = [], None
    for _ in range(runs):
        started = time.perf_counter()
        found, rcu, evaluated, calls = _scan(filter_expression, names, values)
        page = sorted(found, key=lambda item: item[sort_key]["S"])[:PAGE]
        timings.append(time.perf_counter() - started)
        figures = (rcu, evaluated, len(page), calls)
    rcu, evaluated, returned, calls = figures
    return ReadFigures(rcu, evaluated, returned, calls, statistics.median(timings))


def grow_to(target_items: int, current_items: int) -> int:
    """Add demo data until the table holds about `target_items` items; returns the new count."""
    per_assessment = demo.seed(assessments=200, documents=80, owners=5, seed_value=1, dry_run=True).items / 200
    missing = target_items - current_items
    if missing <= 0:
        return current_items
    assessments = max(1, round(missing / per_assessment))
    result = demo.seed(assessments=assessments, documents=max(1, assessments * 2 // 5), owners=5)
    return current_items + result.items


def run(sizes: list[int], *, progress=print, at_each_size=None) -> list[ReadRow]:
    """`at_each_size(items)` runs once the table holds each size (the end-to-end section measures there)."""
    rows, items = [], 0
    reviewer = _reviewer()
    for size in sizes:
        items = grow_to(size, items)
        owner = _owner()  # demo.seed's first owner exists once data is seeded
        runs = 5
        scan_runs = 3 if items <= 20_000 else 1
        progress(f"reads: {items:,} items in the table; measuring")
        queue = _measure_query(
            lambda: selectors.review_queue(actor=reviewer, state=STATE, limit=PAGE, cursor=None), runs
        )
        queue_scan = _measure_scan(
            "entity_type = :type AND #state = :state",
            {"#state": "state"},
            {":type": {"S": "assessment"}, ":state": {"S": STATE}},
            sort_key="updated_at",
            runs=scan_runs,
        )
        rows.append(ReadRow(items, "review queue by state", queue, queue_scan))
        search = _measure_query(
            functools.partial(selectors.assessment_list_mine, actor=owner, query=SEARCH_WORD, limit=PAGE, cursor=None),
            runs,
        )
        search_scan = _measure_scan(
            "entity_type = :type AND owner_id = :owner AND contains(title, :word)",
            {},
            {":type": {"S": "assessment"}, ":owner": {"S": owner.user_id}, ":word": {"S": SEARCH_WORD}},
            sort_key="title",
            runs=scan_runs,
        )
        rows.append(ReadRow(items, "title search", search, search_scan))
        if at_each_size:
            at_each_size(items)
    return rows
