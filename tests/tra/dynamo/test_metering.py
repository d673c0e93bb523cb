"""The capacity meter sees every DynamoDB call; the scan guard stops request-path Scans."""

import contextvars
from concurrent.futures import ThreadPoolExecutor

import pytest

from assessments.models import Assessment
from tests.support import factories
from tra.dynamo.connection import botocore_client
from tra.dynamo.metering import ScanNotAllowed, batch_job, meter

pytestmark = pytest.mark.usefixtures("dynamo_table")


def test_meter_records_calls_capacity_and_items_per_operation_and_index():
    factories.assessment(owner_id="1", state="submitted")
    factories.assessment(owner_id="1", state="draft")
    meter.reset()

    list(Assessment.by_owner.query("1", Assessment.owner_sort.startswith("ASMT#")))
    Assessment.get(*Assessment.key(factories.assessment().assessment_id))

    stats = meter.snapshot()
    assert stats[("Query", "by_owner")].calls == 1
    assert stats[("Query", "by_owner")].items == 2
    assert stats[("GetItem", "table")].items == 1
    assert stats[("PutItem", "table")].write_units > 0
    assert stats[("GetItem", "table")].read_units > 0


def test_scan_outside_a_batch_job_raises_and_is_counted():
    with pytest.raises(ScanNotAllowed, match="outside a batch job"):
        list(Assessment.scan())
    assert meter.unguarded_scans == 1
    meter.reset()  # this test scanned on purpose; do not fail it for that


def test_scan_inside_a_batch_job_is_allowed_and_metered():
    factories.assessment()
    with batch_job("backfill"):
        rows = list(Assessment.scan())
    assert len(rows) == 1
    assert meter.calls("Scan") == 1
    assert meter.unguarded_scans == 0


def test_batch_job_marker_follows_work_into_threads_that_copy_the_context():
    client = botocore_client()
    with batch_job("parallel backfill"), ThreadPoolExecutor(2) as pool:
        futures = [
            pool.submit(
                contextvars.copy_context().run, client.scan, TableName="tra-test", Segment=segment, TotalSegments=2
            )
            for segment in range(2)
        ]
        [future.result() for future in futures]
    assert meter.calls("Scan") == 2
    assert meter.unguarded_scans == 0


def test_a_test_that_swallows_a_scan_error_still_fails(pytester):
    pytester.makepyfile(
        """
        import botocore.session
        from tra.dynamo import metering

        def test_scans_quietly():
            client = botocore.session.get_session().create_client(
                "dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x",
                endpoint_url="http://127.0.0.1:9",
            )
            metering.instrument(client.meta.events)
            try:
                client.scan(TableName="anything")
            except metering.ScanNotAllowed:
                pass
        """
    )
    result = pytester.runpytest_inprocess(
        "-p", "tests.support.scan_guard", "-p", "no:django", "-p", "no:asyncio", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*1 DynamoDB Scan(s) outside a batch job*"])
    meter.reset()
