"""The local servers `make run` and the benchmarks use: moto (default) and dynalite."""

import json

import pytest
from django.conf import settings

from assessments.models import Assessment, status_key
from devtools.local_dynamo.server import RECORDING_FILE, LocalDynamoServer, dynalite_script
from tests.conftest import point_dynamodb_at, recreate_table, skip_or_fail
from tests.support import factories
from tra.dynamo.metering import meter


@pytest.fixture
def restore_endpoint(dynamodb_server):
    yield
    point_dynamodb_at(dynamodb_server.endpoint_url)


def test_moto_keeps_the_table_and_items_between_runs(tmp_path, restore_endpoint):
    with LocalDynamoServer(backend="moto", data_dir=tmp_path) as first:
        point_dynamodb_at(first.endpoint_url)
        recreate_table()
        saved = factories.assessment(title="Kept across restarts")
        Assessment.get(*Assessment.key(saved.assessment_id))  # a read: not worth replaying

    with LocalDynamoServer(backend="moto", data_dir=tmp_path) as second:
        # CreateTable, the assessment and its three title words; the GetItem was dropped.
        assert second.replayed == 5
        recorded = [json.loads(line) for line in (tmp_path / RECORDING_FILE).read_text().splitlines()]
        assert len(recorded) == 5
        point_dynamodb_at(second.endpoint_url)
        assert Assessment.get(*Assessment.key(saved.assessment_id)).title == "Kept across restarts"


def test_moto_in_memory_starts_empty(restore_endpoint):
    with LocalDynamoServer(backend="moto") as server:
        assert server.client().list_tables()["TableNames"] == []


@pytest.fixture
def dynalite(tmp_path, restore_endpoint):
    if not dynalite_script(settings.BASE_DIR).exists():
        skip_or_fail("dynalite is not installed (make setup runs npm install)")
    with LocalDynamoServer(backend="dynalite", data_dir=tmp_path) as server:
        point_dynamodb_at(server.endpoint_url)
        yield server


@pytest.mark.dynalite
def test_dynalite_serves_the_table_and_reports_read_capacity_by_size(dynalite):
    recreate_table()
    for _ in range(3):
        factories.assessment(state="submitted", title="x" * 3000)
    meter.reset()

    rows = list(Assessment.by_status.query(status_key("submitted")))

    stats = meter.snapshot()[("Query", "by_status")]
    assert len(rows) == stats.items == 3
    # Only the projected attributes are read: ~3 KB of title per item, 4 KB per RCU,
    # eventually consistent (half price): dynalite computes it; moto reports a constant.
    assert 1.0 <= stats.read_units <= 1.5


@pytest.mark.dynalite
def test_dynalite_keeps_items_on_disk_between_runs(dynalite, tmp_path):
    recreate_table()
    saved = factories.assessment(title="On disk")
    dynalite.stop()
    with LocalDynamoServer(backend="dynalite", data_dir=tmp_path) as again:
        point_dynamodb_at(again.endpoint_url)
        assert Assessment.get(*Assessment.key(saved.assessment_id)).title == "On disk"
