import csv
import json
from datetime import UTC, datetime

from django.core.management.base import CommandError

from assessments import selectors
from assessments.models import AssessmentState
from tra.commands import OperatorCommand
from tra.progress import Progress

FIELDS = ["assessment_id", "title", "state", "owner_id", "version", "updated_at", "question_id", "order", "question",
          "answer", "status"]  # fmt: skip


class Command(OperatorCommand):
    help = (
        "Stream assessments with their questions and answers as CSV (one row per question) or JSON lines "
        "(one assessment per line), read through indexes: by state (--state) or all, updated since --since. "
        "Progress and the summary go to stderr; piping into `head` stops it quietly."
    )

    def add_arguments(self, parser):
        parser.add_argument("--state", choices=[s.value for s in AssessmentState], help="only this state")
        parser.add_argument("--since", help="ISO date or datetime (UTC): only assessments updated since then")
        parser.add_argument("--format", choices=["csv", "jsonl"], default="jsonl", help="output format")

    def handle(self, *args, state, since, format, **options):
        try:
            start = datetime.fromisoformat(since).replace(tzinfo=UTC) if since else None
        except ValueError as error:
            raise CommandError(f"--since must be an ISO date, e.g. 2026-01-31: {error}") from None
        writer = csv.DictWriter(self.stdout, fieldnames=FIELDS) if format == "csv" else None
        if writer:
            writer.writeheader()
        assessments = questions = 0
        with Progress(self.stderr, total=None, label="assessments exported", every=50) as progress:
            for assessment in selectors.assessments_for_export(state=state, since=start):
                rows = selectors.questions_of(assessment)
                base = {
                    "assessment_id": assessment.assessment_id,
                    "title": assessment.title,
                    "state": assessment.state,
                    "owner_id": assessment.owner_id,
                    "version": assessment.version,
                    "updated_at": assessment.updated_at.isoformat(),
                }
                if writer:
                    for question in rows or [None]:
                        writer.writerow({**base, **(_question(question) if question else {})})
                else:
                    base["questions"] = [_question(question) for question in rows]
                    self.stdout.write(json.dumps(base))
                assessments += 1
                questions += len(rows)
                progress.advance()
        self.note(f"exported {assessments} assessment(s) with {questions} question(s)")


def _question(question) -> dict:
    return {
        "question_id": question.question_id,
        "order": int(question.order),
        "question": question.text,
        "answer": question.answer or "",
        "status": question.status,
    }
