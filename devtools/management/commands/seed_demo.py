from django.core.management.base import BaseCommand, CommandError

from devtools import demo


class Command(BaseCommand):
    help = (
        "Write realistic demo data: owners owner1..N and a reviewer (password demo-password-1), assessments in "
        "every state with questions, answers, reviews and events, documents with text passages linked to them. "
        "Bulk-written (BatchWriteItem, 25 per call). Re-running adds another set."
    )

    def add_arguments(self, parser):
        parser.add_argument("--assessments", type=int, default=50)
        parser.add_argument("--documents", type=int, default=20)
        parser.add_argument("--owners", type=int, default=5)
        parser.add_argument("--seed", type=int, help="random seed, for the same data every time")
        parser.add_argument("--dry-run", action="store_true", help="count the items, write nothing")

    def handle(self, *args, assessments, documents, owners, seed, dry_run, **options):
        if min(assessments, documents) < 0 or owners < 1:
            raise CommandError("counts must be positive (and at least one owner)")
        result = demo.seed(
            assessments=assessments, documents=documents, owners=owners, seed_value=seed, dry_run=dry_run
        )
        verb = "would write" if dry_run else "wrote"
        self.stdout.write(
            f"{verb} {result.items} item(s) for {result.assessments} assessment(s) and {result.documents} "
            f"document(s) in {result.batch_calls} BatchWriteItem call(s); users owner1..owner{owners} and "
            f"reviewer, password {demo.PASSWORD}"
        )
