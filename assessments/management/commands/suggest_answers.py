from asgiref.sync import async_to_sync
from django.core.management.base import CommandError

from assessments import services
from assessments.management.owner import owner_actor
from tra.aws import clients
from tra.commands import OperatorCommand
from tra.errors import ApplicationError


class Command(OperatorCommand):
    help = (
        "Suggest answers with citations for an assessment's questions (on behalf of its owner), "
        "through the cached LLM path: --all-unanswered, or --question ID (repeatable)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--assessment", required=True, help="assessment id")
        parser.add_argument("--all-unanswered", action="store_true", help="every question without an answer")
        parser.add_argument("--question", action="append", default=[], help="a question id (repeatable)")
        parser.add_argument("--refresh", action="store_true", help="ignore cached suggestions")

    def handle(self, *args, assessment, all_unanswered, question, refresh, **options):
        if not all_unanswered and not question:
            raise CommandError("give --all-unanswered or at least one --question")
        actor = owner_actor(assessment)
        try:
            questions = async_to_sync(self._run)(actor, assessment, all_unanswered, question, refresh)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        for item in questions:
            cited = len(item.suggestion.citations) if item.suggestion else 0
            self.stdout.write(f"{item.question_id}: {cited} citation(s)")
        self.stdout.write(f"suggested answers for {len(questions)} question(s)")

    async def _run(self, actor, assessment_id, all_unanswered, question_ids, refresh):
        # rate_limited=False: an operator's run on the owner's behalf is not the owner's request (LLM_RATE_LIMIT).
        try:
            if all_unanswered:
                return await services.suggestions_for_unanswered(
                    actor=actor, assessment_id=assessment_id, refresh=refresh, rate_limited=False
                )
            return [
                await services.suggestion_create(
                    actor=actor,
                    assessment_id=assessment_id,
                    question_id=question_id,
                    refresh=refresh,
                    rate_limited=False,
                )
                for question_id in question_ids
            ]
        finally:
            await clients.close()
