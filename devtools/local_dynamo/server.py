"""Start and stop a local DynamoDB-compatible server on 127.0.0.1.

Two backends (docs/architecture.md says why):
- `moto` (default): moto in server mode. Supports everything the app uses
  (transactions, TTL, UpdateTable adding a GSI). It keeps data in memory; with a
  `data_dir` we persist it through moto's recorder: every request is appended to
  a log, and on the next start the log's writes are replayed (reads are dropped
  from the log first, so it stays proportional to the writes).
- `dynalite` (npm, installed by `make setup`): persists to disk and reports
  real read capacity, but has no transactions or TTL and ignores an UpdateTable
  that adds a GSI. Used for capacity measurements.
"""

import base64
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import botocore.session
from botocore.config import Config

from tra.dynamo.config import LOCAL_CREDENTIALS

BACKENDS = ("moto", "dynalite")
RECORDING_FILE = "moto-recording.jsonl"
# Requests that change state; everything else is dropped from the recording.
_REPLAYED_OPERATIONS = {
    "CreateTable",
    "UpdateTable",
    "DeleteTable",
    "UpdateTimeToLive",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
}


class LocalServerError(RuntimeError):
    pass


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def dynalite_script(project_dir: Path) -> Path:
    return project_dir / "node_modules" / "dynalite" / "cli.js"


class LocalDynamoServer:
    def __init__(
        self,
        *,
        backend: str = "moto",
        host: str = "127.0.0.1",
        port: int | None = None,
        data_dir: Path | None = None,
        project_dir: Path | None = None,
        log_file: Path | None = None,
    ):
        if backend not in BACKENDS:
            raise LocalServerError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
        self.backend = backend
        self.host = host
        self.port = port or free_port(host)
        self.data_dir = Path(data_dir) if data_dir else None
        self.project_dir = Path(project_dir) if project_dir else Path(__file__).resolve().parents[2]
        self.log_file = log_file
        self.process: subprocess.Popen | None = None
        self.replayed = 0

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _command(self) -> tuple[list[str], dict]:
        env = dict(os.environ)
        if self.backend == "moto":
            if self.data_dir:
                env["MOTO_RECORDER_FILEPATH"] = str(self.data_dir / RECORDING_FILE)
            # gunicorn's threaded worker keeps connections alive (moto_wsgi.py says why).
            return [
                sys.executable, "-m", "gunicorn", "devtools.local_dynamo.moto_wsgi:application",
                "--bind", f"{self.host}:{self.port}", "--workers", "1", "--worker-class", "gthread",
                "--threads", "32", "--keep-alive", "75", "--timeout", "0", "--log-level", "warning",
            ], env  # fmt: skip
        node = shutil.which("node")
        script = dynalite_script(self.project_dir)
        if node is None or not script.exists():
            raise LocalServerError(f"dynalite needs node and {script}: run `make setup` (npm install)")
        command = [node, str(script), "--host", self.host, "--port", str(self.port)]
        command += ["--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0"]
        if self.data_dir:
            command += ["--path", str(self.data_dir / "dynalite")]
        return command, env

    def start(self, *, timeout_seconds: float = 30.0) -> "LocalDynamoServer":
        if self.data_dir:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        command, env = self._command()
        output = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
        self._wait_until_ready(timeout_seconds)
        if self.backend == "moto" and self.data_dir:
            self.replayed = self._replay_recording()
            self._recorder("start-recording")
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def __enter__(self) -> "LocalDynamoServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def client(self):
        """A plain botocore client for this server (readiness checks, tooling)."""
        return botocore.session.get_session().create_client(
            "dynamodb",
            region_name="us-east-1",
            endpoint_url=self.endpoint_url,
            config=Config(connect_timeout=1, read_timeout=10, retries={"max_attempts": 1}),
            **LOCAL_CREDENTIALS,
        )

    def _wait_until_ready(self, timeout_seconds: float) -> None:
        deadline = time.monotonic() + timeout_seconds
        client = self.client()
        while True:
            if self.process.poll() is not None:
                raise LocalServerError(f"{self.backend} server exited with code {self.process.returncode}")
            try:
                client.list_tables(Limit=1)
                return
            except Exception as error:  # noqa: BLE001 - any failure means "not up yet"
                if time.monotonic() >= deadline:
                    self.stop()
                    message = f"{self.backend} server not ready on {self.endpoint_url}: {error}"
                    raise LocalServerError(message) from error
                time.sleep(0.1)

    def _recorder(self, action: str) -> None:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            connection.request("POST", f"/moto-api/recorder/{action}")
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise LocalServerError(f"moto recorder {action} answered {response.status}")
        finally:
            connection.close()

    def _replay_recording(self) -> int:
        """Compact the recording to its writes, then replay them into the fresh server."""
        path = self.data_dir / RECORDING_FILE
        if not path.exists():
            return 0
        writes = []
        with open(path) as recording:
            for line in recording:
                line = line.strip()
                if not line:
                    continue
                entry = json.loads(line)
                target = {k.lower(): v for k, v in entry.get("headers", {}).items()}.get("x-amz-target", "")
                if target.rsplit(".", 1)[-1] in _REPLAYED_OPERATIONS:
                    writes.append(entry)
        compacted = path.with_suffix(".tmp")
        with open(compacted, "w") as output:
            for entry in writes:
                output.write(json.dumps(entry) + "\n")
        os.replace(compacted, path)

        connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            for entry in writes:
                body = entry.get("body") or ""
                payload = base64.b64decode(body) if entry.get("body_encoded") else body.encode()
                headers = {k: v for k, v in entry["headers"].items() if k.lower() not in {"host", "content-length"}}
                headers["Content-Length"] = str(len(payload))
                connection.request(entry["method"], urlparse(entry["url"]).path or "/", body=payload, headers=headers)
                connection.getresponse().read()
        finally:
            connection.close()
        return len(writes)
