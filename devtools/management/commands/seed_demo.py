from django.core.management.base import CommandError

from devtools import demo
from tra.commands import OperatorCommand


class Command(OperatorCommand):
    help = (
        "Write realistic demo data: owners owner1..N and a reviewer (password demo-password-1), assessments in "
        "every state with questions, answers, reviews and events, documents with text passages linked to the "
        "assessments about their vendor, and chat sessions about every third assessment; all timestamps past. "
        "Bulk-written (BatchWriteItem, 25 per call). Re-running adds another set."
    )

    def add_arguments(self, parser):
        parser.add_argument("--assessments", type=int, default=50, help="assessments to write")
        parser.add_argument("--documents", type=int, default=20, help="evidence documents to write")
        parser.add_argument("--owners", type=int, default=5, help="owner users (owner1..N)")
        parser.add_argument("--seed", type=int, help="random seed, for the same data every time")
        parser.add_argument("--dry-run", action="store_true", help="count the items and calls, write nothing")

    def handle(self, *args, assessments, documents, owners, seed, dry_run, **options):
        if min(assessments, documents) < 0 or owners < 1:
            raise CommandError("counts must be positive (and at least one owner)")
        result = demo.seed(
            assessments=assessments, documents=documents, owners=owners, seed_value=seed, dry_run=dry_run
        )
        verb = "would write" if dry_run else "wrote"
        self.stdout.write(
            f"{verb} {result.items} item(s) for {result.assessments} assessment(s), {result.documents} "
            f"document(s) and {result.chat_sessions} chat session(s) in {result.batch_calls} BatchWriteItem "
            f"call(s); users owner1..owner{owners} and reviewer, password {demo.PASSWORD}"
        )
