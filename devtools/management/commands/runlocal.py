import os
import signal
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from devtools.local_dynamo.server import BACKENDS, LocalDynamoServer
from tra.dynamo.connection import reset_connection


def _interrupt(signum, frame):
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = (
        "Run TRA on its embedded defaults: start a local DynamoDB server (moto, data kept in "
        ".local/dynamodb), create/migrate the table and Django's tables, then serve the ASGI app "
        "with uvicorn. Stops the DynamoDB server on exit."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--backend", choices=BACKENDS, default="moto")
        parser.add_argument("--dynamodb-port", type=int, default=0, help="0 picks a free port")
        parser.add_argument("--data-dir", default=str(settings.LOCAL_DIR / "dynamodb"))
        parser.add_argument("--in-memory", action="store_true", help="start with an empty table, keep nothing")

    def handle(self, *args, host, port, backend, dynamodb_port, data_dir, in_memory, **options):
        # SIGTERM (a supervisor, `timeout`) stops like Ctrl-C, so the servers started here stop too.
        signal.signal(signal.SIGTERM, _interrupt)
        settings.LOCAL_DIR.mkdir(parents=True, exist_ok=True)
        server = LocalDynamoServer(
            backend=backend,
            port=dynamodb_port or None,
            data_dir=None if in_memory else Path(data_dir),
            log_file=settings.LOCAL_DIR / "dynamodb-server.log",
        )
        with server:
            self.stdout.write(f"local DynamoDB ({backend}) on {server.endpoint_url}; replayed {server.replayed} writes")
            os.environ["DYNAMODB_ENDPOINT_URL"] = server.endpoint_url
            settings.DYNAMODB_ENDPOINT_URL = server.endpoint_url
            reset_connection()
            call_command("migrate", interactive=False, verbosity=0)
            call_command("dynamo_migrate")
            self.stdout.write(f"serving http://{host}:{port}/api/health (Ctrl-C stops)")
            command = [sys.executable, "-m", "uvicorn", "tra.asgi:application", "--host", host, "--port", str(port)]
            command += ["--lifespan", "on", "--no-access-log"]
            uvicorn = subprocess.Popen(command, env=dict(os.environ))
            try:
                uvicorn.wait()
            except KeyboardInterrupt:
                pass
            finally:
                uvicorn.terminate()
                uvicorn.wait()
