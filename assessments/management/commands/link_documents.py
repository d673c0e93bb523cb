from pathlib import Path

from django.core.management.base import CommandError

from assessments import services
from assessments.management.owner import owner_actor
from tra.commands import OperatorCommand
from tra.errors import ApplicationError


def read_ids(path: Path) -> list[str]:
    """One document id per line; blank lines and `# comments` (whole-line or trailing) are ignored."""
    ids = []
    for line in path.read_text().splitlines():
        value = line.split("#", 1)[0].strip()
        if value:
            ids.append(value)
    return ids


class Command(OperatorCommand):
    help = (
        "Link documents to an assessment in bulk (TransactWriteItems, 25 per call), on behalf of the "
        "assessment's owner, whose documents they must be. Documents already linked are left alone "
        "and reported; each batch written is recorded in the assessment's history as it goes."
    )

    def add_arguments(self, parser):
        parser.add_argument("--assessment", required=True, help="assessment id")
        parser.add_argument("document_ids", nargs="*", help="document ids")
        parser.add_argument(
            "--from-file", type=Path, help="a file with one document id per line (blank lines and # comments ignored)"
        )
        parser.add_argument("--dry-run", action="store_true", help="check everything, report what would change")

    def handle(self, *args, assessment, document_ids, from_file, dry_run, **options):
        ids = list(document_ids)
        if from_file:
            try:
                ids += read_ids(from_file)
            except OSError as error:
                raise CommandError(f"--from-file: {error}") from error
        if not ids:
            raise CommandError("give document ids or --from-file")
        actor = owner_actor(assessment)
        try:
            outcome = services.document_link_many(
                actor=actor, assessment_id=assessment, document_ids=ids, dry_run=dry_run
            )
        except ApplicationError as error:
            raise CommandError(error.message) from error
        verb = "would link" if dry_run else "linked"
        self.stdout.write(
            f"{verb} {outcome.linked} document(s) to assessment {assessment} for {actor.username}; "
            f"{outcome.already_linked} already linked"
        )
