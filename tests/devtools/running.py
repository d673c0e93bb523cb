"""`manage.py runlocal` (what `make run` runs) as a subprocess, the way a user starts it."""

import http.cookiejar
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from devtools.local_dynamo.server import free_port

PROJECT = Path(__file__).resolve().parents[2]
START_SECONDS = 180  # a loaded 2-core machine: JVM start, migrations, uvicorn


def local_env(local_dir: Path, **extra: str) -> dict:
    """The environment of a terminal on this project: local settings, no endpoint set."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tra.settings.local", "TRA_LOCAL_DIR": str(local_dir), **extra}
    for name in ("DYNAMODB_ENDPOINT_URL", "DATABASE_URL", "TRA_TABLE_NAME", "MEDIA_ROOT"):
        env.pop(name, None)
    return env


def manage(local_dir: Path, *args: str, timeout: float = 120, **extra_env: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "manage.py", *args]
    return subprocess.run(
        command, cwd=PROJECT, env=local_env(local_dir, **extra_env), capture_output=True, text=True, timeout=timeout
    )


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def wait_until(condition, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)
    return True


@dataclass
class RunLocal:
    process: subprocess.Popen
    port: int
    dynamodb_port: int
    local_dir: Path
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str) -> tuple[int, bytes, dict]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=30) as response:
                return response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read(), dict(error.headers)

    def signed_in(self, username: str, password: str):
        """A browser-like client signed in through the API (session cookie, CSRF header)."""
        cookies = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies))
        opener.open(self.url + "/api/auth/csrf", timeout=30).read()

        def post(path: str, body: dict) -> int:
            token = next(cookie.value for cookie in cookies if cookie.name == "csrftoken")  # rotated at login
            request = urllib.request.Request(
                self.url + path,
                data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json", "X-CSRFToken": token},
            )
            with opener.open(request, timeout=60) as response:
                return response.status

        assert post("/api/auth/login", {"username": username, "password": password}) == 200
        return post

    def wait_healthy(self) -> dict:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"runlocal exited early:\n{self.log.read_text()}"
            if "TRA is serving" in self.log.read_text():  # printed once uvicorn listens
                status, body, _ = self.get("/api/health")
                assert status == 200, body
                return json.loads(body)
            time.sleep(0.3)
        raise AssertionError(f"runlocal not serving after {START_SECONDS} s:\n{self.log.read_text()}")

    def stop(self, signal_number) -> int:
        self.process.send_signal(signal_number)
        return self.process.wait(timeout=120)


def start_runlocal(local_dir: Path, *args: str) -> RunLocal:
    local_dir.mkdir(parents=True, exist_ok=True)
    port, dynamodb_port = free_port(), free_port()
    log = local_dir / "runlocal.log"
    command = [sys.executable, "manage.py", "runlocal", "--port", str(port), "--dynamodb-port", str(dynamodb_port)]
    with open(log, "w") as output:
        process = subprocess.Popen(
            [*command, *args], cwd=PROJECT, env=local_env(local_dir), stdout=output, stderr=subprocess.STDOUT
        )
    return RunLocal(process, port, dynamodb_port, local_dir, log)
