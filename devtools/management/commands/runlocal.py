"""`make run`: a local DynamoDB server, migrations, then uvicorn, stopped in that order's reverse.

- One at a time: a lock on `.local/runlocal.lock` (released by the kernel however the
  process ends); a second `make run` says which one is running.
- One endpoint for every process: `.local/dynamodb.json` records the DynamoDB server's
  URL and this process's id; local settings (tra/settings/local.py) read it, so
  `manage.py <command>` in another terminal needs no variable.
- Ctrl-C (or SIGTERM): uvicorn stops first (its lifespan flushes the last usage
  figures into DynamoDB), then the DynamoDB server. The children run in their own
  sessions, so the terminal's Ctrl-C reaches only this process, and die with it if it
  is killed (server.child_process).
"""

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from devtools.local_dynamo import gated_uvicorn
from devtools.local_dynamo.server import BACKENDS, LocalDynamoServer, LocalServerError, child_process, port_in_use
from tra.dynamo.connection import reset_connection

LOCK_FILE = "runlocal.lock"


def _interrupt(signum, frame):
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = (
        "Run TRA on its embedded defaults: start a local DynamoDB server (DynamoDB Local, data kept in "
        ".local/dynamodb), create/migrate the table and Django's tables, then serve the ASGI app with uvicorn. "
        "Ctrl-C stops uvicorn, then the DynamoDB server."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="(default: %(default)s)")
        parser.add_argument(
            "--port", type=int, default=int(os.environ.get("PORT", "8000")), help="HTTP port (default: $PORT or 8000)"
        )
        parser.add_argument("--backend", choices=BACKENDS, default="dynamodb-local", help="(default: %(default)s)")
        parser.add_argument(
            "--dynamodb-port",
            type=int,
            default=settings.LOCAL_DYNAMODB_PORT,
            help="0 picks a free port (default: %(default)s)",
        )
        parser.add_argument("--data-dir", default=None, help="where DynamoDB data is kept (default: .local/dynamodb)")
        parser.add_argument("--in-memory", action="store_true", help="start with an empty table, keep nothing")

    def handle(self, *args, host, port, backend, dynamodb_port, data_dir, in_memory, **options):
        local_dir = Path(settings.LOCAL_DIR)
        local_dir.mkdir(parents=True, exist_ok=True)
        lock = open(local_dir / LOCK_FILE, "w")  # noqa: SIM115 - held until the process ends
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CommandError(self._already_running(local_dir)) from None
        if port_in_use(port, host):
            raise CommandError(f"port {port} is in use by another program: `PORT=9000 make run` picks another")
        signal.signal(signal.SIGTERM, _interrupt)
        server = LocalDynamoServer(
            backend=backend,
            port=dynamodb_port or None,
            data_dir=None if in_memory or backend == "moto" else Path(data_dir or local_dir / "dynamodb"),
            log_file=local_dir / "dynamodb-server.log",
        )
        endpoint_file = Path(settings.LOCAL_DYNAMODB_ENDPOINT_FILE)
        try:
            self._run(server, endpoint_file, host, port)
        except KeyboardInterrupt:
            pass
        except LocalServerError as error:
            raise CommandError(str(error)) from None
        finally:
            with contextlib.suppress(KeyboardInterrupt):
                server.stop()
                endpoint_file.unlink(missing_ok=True)
        self.stdout.write("stopped")

    def _run(self, server: LocalDynamoServer, endpoint_file: Path, host: str, port: int) -> None:
        """Start-up, with the slow parts overlapping (README, "make run", has the timings).

        DynamoDB Local's JVM, uvicorn's import of the app (gated_uvicorn) and Django's migrations
        run at the same time; uvicorn listens only once DynamoDB answers and the table and its
        indexes are ACTIVE, so no request is served before then.
        """
        server.launch()
        os.environ["DYNAMODB_ENDPOINT_URL"] = server.endpoint_url
        settings.DYNAMODB_ENDPOINT_URL = server.endpoint_url
        reset_connection()
        command = [sys.executable, "-m", "devtools.local_dynamo.gated_uvicorn", host, str(port)]
        uvicorn = child_process(command, env=dict(os.environ), stdin=subprocess.PIPE)
        try:
            call_command("migrate", interactive=False, verbosity=0)  # SQLite: needs no DynamoDB
            server.wait_until_ready()
            kept = f"data in {server.data_dir}" if server.data_dir else "in memory, nothing kept"
            self.stdout.write(f"local DynamoDB ({server.backend}) on {server.endpoint_url}, {kept}")
            record = {"endpoint_url": server.endpoint_url, "pid": os.getpid(), "url": f"http://{host}:{port}/"}
            endpoint_file.write_text(json.dumps(record) + "\n")
            call_command("dynamo_migrate")  # returns once the table and its indexes are ACTIVE
            self._open_gate(uvicorn)
            self._announce(uvicorn, host, port)
            returncode = uvicorn.wait()
            if returncode:
                raise CommandError(f"uvicorn exited with code {returncode}")
        finally:
            self._stop(uvicorn)

    def _open_gate(self, uvicorn: subprocess.Popen) -> None:
        """Tell gated_uvicorn to listen (it has loaded the app meanwhile, or is finishing)."""
        try:
            uvicorn.stdin.write(f"{gated_uvicorn.GO}\n".encode())
            uvicorn.stdin.close()
        except BrokenPipeError:
            raise CommandError(f"uvicorn exited with code {uvicorn.wait()} while loading the app") from None

    def _announce(self, uvicorn: subprocess.Popen, host: str, port: int) -> None:
        while not port_in_use(port, host):
            if uvicorn.poll() is not None:
                return
            time.sleep(0.02)
        base = f"http://{host}:{port}"
        self.stdout.write(
            f"\nTRA is serving {base}/ (Ctrl-C stops)\n"
            f"  {base}/api/docs    the API, interactive (OpenAPI UI)\n"
            f"  {base}/admin/      the admin (reviewers, dashboards)\n"
            f"  {base}/api/health  health\n"
            "The first user, in another terminal: .venv/bin/python manage.py createsuperuser\n"
            "Demo data: .venv/bin/python manage.py seed_demo (both find this DynamoDB server by themselves)\n"
        )

    def _stop(self, uvicorn: subprocess.Popen) -> None:
        """SIGTERM: uvicorn's graceful shutdown runs the lifespan's final usage flush."""
        if uvicorn.poll() is None:
            uvicorn.terminate()
        while True:
            try:
                uvicorn.wait(timeout=30)
                return
            except KeyboardInterrupt:
                continue  # a second Ctrl-C while the last figures are written: let them finish
            except subprocess.TimeoutExpired:
                uvicorn.kill()

    def _already_running(self, local_dir: Path) -> str:
        try:
            record = json.loads(Path(settings.LOCAL_DYNAMODB_ENDPOINT_FILE).read_text())
        except (OSError, ValueError):
            record = {}
        where = f" at {record['url']} (process {record['pid']})" if "url" in record and "pid" in record else ""
        return f"TRA is already running{where}: stop it with Ctrl-C in its terminal first."
