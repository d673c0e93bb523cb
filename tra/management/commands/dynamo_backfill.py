from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError

from tra.commands import OperatorCommand
from tra.dynamo.backfill import backfill
from tra.progress import Progress


class Command(OperatorCommand):
    help = (
        "Recompute derived attributes (index keys) and write missing or outdated companion items (e.g. title words) on "
        "existing items, e.g. after adding a GSI. "
        "Parallel Scan (--segments N), or one segment of a run split across machines (--segment i "
        "--total-segments n). Writes only derived attributes, only where they differ, only if the item is "
        "unchanged since it was read (a concurrent edit wins). Resumable from --checkpoint (a checkpoint of "
        "a finished run starts a new run); --rcu-per-second caps read capacity."
    )

    def add_arguments(self, parser):
        parser.add_argument("--segments", type=int, default=4, help="parallel Scan segments")
        parser.add_argument("--segment", type=int, help="run only this segment (0-based) ...")
        parser.add_argument("--total-segments", type=int, help="... of this many (another machine runs the rest)")
        parser.add_argument(
            "--checkpoint",
            type=Path,
            default=settings.LOCAL_DIR / "backfill-checkpoint.json",
            help="progress file (resume an interrupted run)",
        )
        parser.add_argument("--restart", action="store_true", help="ignore the checkpoint and start over")
        parser.add_argument("--rcu-per-second", type=float, help="read-capacity budget")
        parser.add_argument("--max-pages", type=int, help="stop each segment after this many pages (resume later)")
        parser.add_argument("--page-size", type=int, default=500, help="items per Scan page")
        parser.add_argument("--dry-run", action="store_true", help="count what would change, write nothing")

    def handle(self, *args, segments, segment, total_segments, checkpoint, restart, rcu_per_second, max_pages,
               page_size, dry_run, **options):  # fmt: skip
        if (segment is None) != (total_segments is None):
            raise CommandError("--segment and --total-segments go together")
        total = total_segments or segments
        if segment is not None and not 0 <= segment < total:
            raise CommandError(f"--segment must be between 0 and {total - 1}")
        if restart and checkpoint.exists():
            checkpoint.unlink()
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        with Progress(self.stderr, total=None, label="items scanned", every=page_size) as progress:
            try:
                stats = backfill(
                    segments=total,
                    only_segment=segment,
                    checkpoint_path=None if dry_run else checkpoint,
                    rcu_per_second=rcu_per_second,
                    dry_run=dry_run,
                    max_pages=max_pages,
                    page_size=page_size,
                    on_page=progress.advance,
                )
            except ValueError as error:
                raise CommandError(f"{error} (use --restart)") from error
        if stats.new_run_after_finished:
            self.stdout.write(f"the run recorded in {checkpoint} had finished: this was a new run over the table")
        verb = "would update" if dry_run else "updated"
        self.stdout.write(
            f"scanned {stats.scanned} item(s) in {stats.pages} page(s): {verb} {stats.updated}, "
            f"{stats.unchanged} already right, {stats.skipped_concurrent_edit} skipped (edited meanwhile), "
            f"{stats.companions_added} companion item(s) (e.g. title words) written"
        )
