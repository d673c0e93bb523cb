from django.core.management.base import CommandError

from tra.commands import OperatorCommand
from tra.dynamo import migrate
from tra.dynamo.connection import botocore_client
from tra.dynamo.schema import table_definition


class Command(OperatorCommand):
    help = (
        "Create the DynamoDB table with every GSI the registered models declare, or add the "
        "missing GSIs to a live table (one UpdateTable each, waiting for ACTIVE). Idempotent. "
        "Never drops an index without --allow-drop."
    )

    def add_arguments(self, parser):
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--plan", action="store_true", help="print what would change, change nothing")
        mode.add_argument("--check", action="store_true", help="exit 1 if the live table differs from the models")
        parser.add_argument("--allow-drop", action="store_true", help="drop indexes no model declares or that differ")
        parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait per change")

    def handle(self, *args, plan, check, allow_drop, timeout, **options):
        self.verbosity = options["verbosity"]
        client = botocore_client()
        definition = table_definition()
        migration = migrate.plan(client, definition, allow_drop=allow_drop)
        name = definition["TableName"]
        for line in migration.errors:
            self.stderr.write(self.style.ERROR(f"error: {line}"))
        for line in migration.kept:
            self.stdout.write(self.style.WARNING(f"drift: {line}"))

        if check:
            for change in migration.changes:
                self.stdout.write(f"drift: {change}")
            if not migration.in_sync:
                raise CommandError(f"table {name} differs from the models", returncode=1)
            self.stdout.write(self.style.SUCCESS(f"table {name} matches the models"))
            return
        if migration.errors:
            raise CommandError(f"table {name} cannot be migrated", returncode=2)
        if plan:
            for change in migration.changes:
                self.stdout.write(f"would {change}")
            self.stdout.write(f"{len(migration.changes)} change(s) planned for table {name}")
            return

        migrate.apply(client, migration, definition, timeout_seconds=timeout, report=self._progress)
        summary = f"table {name}: {len(migration.changes)} change(s) applied"
        if migration.kept:
            summary += f", {len(migration.kept)} drift(s) kept"
        self.stdout.write(self.style.SUCCESS(summary if migration.changes else f"table {name} is up to date"))

    def _progress(self, message: str) -> None:
        if self.verbosity >= 1:
            self.stdout.write(message)
