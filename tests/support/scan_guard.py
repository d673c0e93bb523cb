"""pytest plugin: a test in which a DynamoDB Scan ran outside `batch_job()` fails.

The client hook (tra/dynamo/metering.py) already raises ScanNotAllowed; this
catches the case where code under test swallowed that exception.
"""

import pytest

from tra.dynamo.metering import meter


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    before = meter.unguarded_scans
    result = yield
    scans = meter.unguarded_scans - before
    if scans:
        pytest.fail(f"{scans} DynamoDB Scan(s) outside a batch job: request paths must Query or GetItem", pytrace=False)
    return result
