from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from assessments import selectors, services
from tra.errors import ApplicationError
from tra.http.auth import actor_for


class Command(BaseCommand):
    help = (
        "Link documents to an assessment in bulk (BatchWriteItem, 25 per call), on behalf of the "
        "assessment's owner, whose documents they must be. Re-running links nothing twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("--assessment", required=True, help="assessment id")
        parser.add_argument("document_ids", nargs="*", help="document ids")
        parser.add_argument("--from-file", type=Path, help="a file with one document id per line")
        parser.add_argument("--dry-run", action="store_true", help="check, change nothing")

    def handle(self, *args, assessment, document_ids, from_file, dry_run, **options):
        ids = list(document_ids)
        if from_file:
            ids += [line.strip() for line in from_file.read_text().splitlines() if line.strip()]
        if not ids:
            raise CommandError("give document ids or --from-file")
        found = selectors.assessment_current(assessment)
        if found is None:
            raise CommandError(f"assessment {assessment} not found")
        owner_id = found.owner_id
        owner = get_user_model().objects.filter(pk=owner_id).first()
        if owner is None:
            raise CommandError(f"the owner ({owner_id}) of assessment {assessment} is not a user")
        if dry_run:
            self.stdout.write(f"would link {len(set(ids))} document(s) to {assessment} for {owner.get_username()}")
            return
        try:
            linked = services.document_link_many(actor=actor_for(owner), assessment_id=assessment, document_ids=ids)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write(f"linked {linked} document(s) to assessment {assessment}")
