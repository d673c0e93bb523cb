"""What a test left in the table, read the only way that sees everything: a Scan inside `batch_job()`
(tests inspect; request paths never Scan)."""

from django.conf import settings

from tra.dynamo.connection import botocore_client
from tra.dynamo.metering import batch_job


def table_items(*pk_prefixes: str) -> list[dict]:
    """Every item of the test table (raw DynamoDB JSON), or those whose pk starts with one of `pk_prefixes`."""
    client = botocore_client()
    with batch_job("test inspection: what the table holds"):
        pages = client.get_paginator("scan").paginate(TableName=settings.TRA_TABLE_NAME, ConsistentRead=True)
        items = [item for page in pages for item in page["Items"]]
    return [item for item in items if not pk_prefixes or item["pk"]["S"].startswith(pk_prefixes)]
