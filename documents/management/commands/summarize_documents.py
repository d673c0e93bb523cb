from asgiref.sync import async_to_sync

from documents import selectors, services
from documents.models import DocumentStatus
from tra.aws import clients
from tra.commands import OperatorCommand
from tra.progress import Progress


class Command(OperatorCommand):
    help = (
        "Summarise every document that has extracted text but no summary (the by_status index's "
        "'extracted' queue), a few at a time, through the cached LLM path. Safe to re-run."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, help="at most this many documents")
        parser.add_argument("--concurrency", type=int, default=4, help="summaries in flight at once")
        parser.add_argument("--dry-run", action="store_true", help="count the queue, change nothing")

    def handle(self, *args, limit, concurrency, dry_run, **options):
        total = len(selectors.documents_in_status(DocumentStatus.EXTRACTED.value, limit=limit))
        with Progress(self.stderr, total=total, label="documents summarised") as progress:
            counts = async_to_sync(self._run)(limit, max(concurrency, 1), dry_run, progress.advance)
        verb = "would summarise" if dry_run else "summarised"
        self.stdout.write(
            f"{verb} {counts['summarized'] if not dry_run else counts['found']} of {counts['found']} document(s); "
            f"{counts['cached']} from the cache, {counts['failed']} failed"
        )

    async def _run(self, limit, concurrency, dry_run, on_done):
        # One async_to_sync scope for all the async work: the Bedrock client lives on its loop.
        try:
            return await services.summarize_pending(
                limit=limit, concurrency=concurrency, dry_run=dry_run, on_done=on_done
            )
        finally:
            await clients.close()
