import contextlib
import signal
import threading
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from devtools.local_dynamo.server import BACKENDS, LocalDynamoServer


class Command(BaseCommand):
    help = (
        "Run a local DynamoDB-compatible server on 127.0.0.1 in the foreground until interrupted: "
        "moto (default; full API, data kept through its recorder) or dynalite (persists to disk, "
        "exact read capacity, no transactions)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--backend", choices=BACKENDS, default="moto")
        parser.add_argument("--port", type=int, default=8001)
        parser.add_argument("--data-dir", default=str(settings.LOCAL_DIR / "dynamodb"), help="where data is kept")
        parser.add_argument("--in-memory", action="store_true", help="keep nothing between runs")

    def handle(self, *args, backend, port, data_dir, in_memory, **options):
        server = LocalDynamoServer(backend=backend, port=port, data_dir=None if in_memory else Path(data_dir))
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with server:
            self.stdout.write(f"{backend} serving DynamoDB on {server.endpoint_url}; replayed {server.replayed} writes")
            self.stdout.write(f"export DYNAMODB_ENDPOINT_URL={server.endpoint_url}")
            with contextlib.suppress(KeyboardInterrupt):
                stop.wait()
        self.stdout.write("stopped")
