import contextlib
import signal
import threading
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from devtools.local_dynamo.server import BACKENDS, LocalDynamoServer, LocalServerError


class Command(BaseCommand):
    help = (
        "Run a local DynamoDB-compatible server on 127.0.0.1 in the foreground until interrupted: "
        "DynamoDB Local (default; full API, data kept on disk, needs Java), moto (in memory) or dynalite "
        "(persists to disk, exact read capacity, no transactions)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--backend", choices=BACKENDS, default="dynamodb-local", help="(default: %(default)s)")
        parser.add_argument("--port", type=int, default=settings.LOCAL_DYNAMODB_PORT, help="(default: %(default)s)")
        parser.add_argument("--data-dir", default=None, help="where data is kept (default: .local/dynamodb)")
        parser.add_argument("--in-memory", action="store_true", help="keep nothing between runs")

    def handle(self, *args, backend, port, data_dir, in_memory, **options):
        keep = not in_memory and backend != "moto"
        data = Path(data_dir or settings.LOCAL_DIR / "dynamodb") if keep else None
        server = LocalDynamoServer(backend=backend, port=port, data_dir=data)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            server.start()
        except LocalServerError as error:
            raise CommandError(str(error)) from None
        try:
            self.stdout.write(f"{backend} serving DynamoDB on {server.endpoint_url}")
            self.stdout.write(f"export DYNAMODB_ENDPOINT_URL={server.endpoint_url}")
            with contextlib.suppress(KeyboardInterrupt):
                stop.wait()
        finally:
            with contextlib.suppress(KeyboardInterrupt):
                server.stop()
        self.stdout.write("stopped")
