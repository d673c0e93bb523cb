"""`make run`'s command end to end: local DynamoDB, migrations, uvicorn, /api/health."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from devtools.local_dynamo.server import free_port

PROJECT = Path(__file__).resolve().parents[2]


def wait_for_health(port: int, process: subprocess.Popen, timeout: float = 60.0) -> tuple[int, dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "runlocal exited early"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=5) as response:
                return response.status, json.load(response)
        except OSError:
            time.sleep(0.2)
    raise AssertionError("no answer from /api/health")


def test_runlocal_serves_a_healthy_api_and_stops_its_dynamodb_server(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tra.settings.local",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "PORT": str(port),
    }
    env.pop("DYNAMODB_ENDPOINT_URL", None)
    log = tmp_path / "runlocal.log"
    with open(log, "w") as output:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runlocal", "--in-memory"],
            cwd=PROJECT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            status, body = wait_for_health(port, process)
            assert status == 200, body
            assert set(body["checks"]["dynamodb"]["indexes"].values()) == {"ACTIVE"}
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)

    dynamodb_port = int(re.search(r"on http://127\.0\.0\.1:(\d+)", log.read_text()).group(1))
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", dynamodb_port)) != 0, "the local DynamoDB server was left running"
