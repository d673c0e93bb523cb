"""Assessments API: thin async views. Each authenticates (NinjaAPI default auth),
validates through schemas, runs one selector or service on the DynamoDB thread
pool (PynamoDB is sync; docs/architecture.md says why) and returns."""

from typing import Literal

from django.http import HttpRequest
from ninja import File, Query, Router, Status
from ninja.files import UploadedFile
from pydantic import Field

from tra.dynamo.executor import run_sync
from tra.http.schemas import ERRORS, READ_ERRORS, Error, PageParams

from . import selectors, services
from .models import AssessmentState
from .schemas import (
    AnswerIn,
    AssessmentDetailOut,
    AssessmentIn,
    AssessmentOut,
    AssessmentPageOut,
    AssessmentUpdateIn,
    DocumentAssessmentPageOut,
    DocumentIdsIn,
    EventPageOut,
    ImportOut,
    LinkedDocumentPageOut,
    LinkResultOut,
    QuestionImportIn,
    QuestionIn,
    QuestionOut,
    QuestionPageOut,
    ReviewIn,
    ReviewPageOut,
    ReviewResultOut,
    TransitionIn,
)

router = Router(tags=["assessments"])
# Mounted under /documents (tra/api.py): which assessments use a document is an assessments
# read (the links live in the assessments' partitions), served at the document's URL.
documents_usage_router = Router(tags=["documents"])


class MineParams(PageParams):
    state: AssessmentState | None = None
    q: str | None = Field(default=None, max_length=200, description="title word prefixes, e.g. 'acm clo'")


class QueueParams(PageParams):
    # Not draft, in_progress or archived: those can hold assessments never submitted (selectors.QUEUE_STATES).
    state: Literal["submitted", "under_review", "approved", "rejected", "changes_requested"] = "submitted"


class _Detail:
    """Presents an AssessmentDetail as AssessmentDetailOut expects."""

    def __init__(self, detail: selectors.AssessmentDetail):
        self._assessment = detail.assessment
        self.questions = detail.questions
        self.questions_next_cursor = detail.questions_next_cursor
        self.documents = detail.links
        self.documents_next_cursor = detail.links_next_cursor
        self.reviews = detail.reviews
        self.reviews_next_cursor = detail.reviews_next_cursor
        self.recent_events = detail.events
        self.events_next_cursor = detail.events_next_cursor

    def __getattr__(self, name):
        return getattr(self._assessment, name)


@router.post("", response={201: AssessmentOut, **ERRORS})
async def assessment_create(request: HttpRequest, payload: AssessmentIn):
    """Create an assessment (a draft I own)."""
    assessment = await run_sync(services.assessment_create, actor=request.auth, **payload.dict())
    return Status(201, assessment)


@router.get("", response={200: AssessmentPageOut, **READ_ERRORS})
async def assessment_list(request: HttpRequest, params: Query[MineParams]):
    """My assessments, newest first; filter by state, search by title word prefix."""
    return await run_sync(
        selectors.assessment_list_mine,
        actor=request.auth,
        state=params.state.value if params.state else None,
        query=params.q,
        limit=params.limit,
        cursor=params.cursor,
    )


@router.get("/review-queue", response={200: AssessmentPageOut, **READ_ERRORS}, tags=["reviews"])
async def review_queue(request: HttpRequest, params: Query[QueueParams]):
    """Reviewers: assessments in a state (default submitted), oldest first."""
    return await run_sync(
        selectors.review_queue, actor=request.auth, state=params.state, limit=params.limit, cursor=params.cursor
    )


@router.get("/{assessment_id}", response={200: AssessmentDetailOut, **READ_ERRORS})
async def assessment_detail(request: HttpRequest, assessment_id: str):
    """The assessment with the first page of its questions, linked documents and reviews and its
    20 latest events (four Queries, whatever its history); the cursors continue each list."""
    detail = await run_sync(selectors.assessment_detail, actor=request.auth, assessment_id=assessment_id)
    return _Detail(detail)


@router.patch("/{assessment_id}", response={200: AssessmentOut, **ERRORS})
async def assessment_update(request: HttpRequest, assessment_id: str, payload: AssessmentUpdateIn):
    """Edit my assessment's title, description or metadata, sending the version I read (stale: 409)."""
    return await run_sync(
        services.assessment_update, actor=request.auth, assessment_id=assessment_id, **payload.dict(exclude_unset=True)
    )


@router.post("/{assessment_id}/transitions", response={200: AssessmentOut, **ERRORS})
async def assessment_transition(request: HttpRequest, assessment_id: str, payload: TransitionIn):
    """Move through the workflow: start, submit, reopen, archive (owner); start_review (reviewer)."""
    return await run_sync(
        services.assessment_transition,
        actor=request.auth,
        assessment_id=assessment_id,
        action=payload.action,
        version=payload.version,
    )


@router.get("/{assessment_id}/events", response={200: EventPageOut, **READ_ERRORS})
async def event_list(request: HttpRequest, assessment_id: str, params: Query[PageParams]):
    """The audit history, newest first."""
    return await run_sync(
        selectors.events_list, actor=request.auth, assessment_id=assessment_id, limit=params.limit, cursor=params.cursor
    )


@router.post("/{assessment_id}/reviews", response={201: ReviewResultOut, **ERRORS}, tags=["reviews"])
async def review_create(request: HttpRequest, assessment_id: str, payload: ReviewIn):
    """Reviewers: approve, reject or request changes; moves the state in the same transaction."""
    assessment, review = await run_sync(
        services.review_create,
        actor=request.auth,
        assessment_id=assessment_id,
        decision=payload.decision.value,
        comment=payload.comment,
        version=payload.version,
    )
    return Status(201, {"assessment": assessment, "review": review})


@router.get("/{assessment_id}/reviews", response={200: ReviewPageOut, **READ_ERRORS}, tags=["reviews"])
async def review_list(request: HttpRequest, assessment_id: str, params: Query[PageParams]):
    """The reviewers' decisions on an assessment, oldest first."""
    return await run_sync(
        selectors.reviews_list,
        actor=request.auth,
        assessment_id=assessment_id,
        limit=params.limit,
        cursor=params.cursor,
    )


@router.get("/{assessment_id}/questions", response={200: QuestionPageOut, **READ_ERRORS}, tags=["questions"])
async def question_list(request: HttpRequest, assessment_id: str, params: Query[PageParams]):
    """Questions in questionnaire order."""
    return await run_sync(
        selectors.questions_list,
        actor=request.auth,
        assessment_id=assessment_id,
        limit=params.limit,
        cursor=params.cursor,
    )


@router.post("/{assessment_id}/questions", response={201: QuestionOut, **ERRORS}, tags=["questions"])
async def question_create(request: HttpRequest, assessment_id: str, payload: QuestionIn):
    """Add a question to my assessment (by default after the last one)."""
    question = await run_sync(
        services.question_create, actor=request.auth, assessment_id=assessment_id, **payload.dict()
    )
    return Status(201, question)


@router.post("/{assessment_id}/questions/import", response={201: ImportOut, **ERRORS}, tags=["questions"])
async def question_import(request: HttpRequest, assessment_id: str, payload: QuestionImportIn):
    """Bulk import from JSON (up to 1,000 questions, batched writes)."""
    drafts = [services.QuestionDraft(**question.dict()) for question in payload.questions]
    questions = await run_sync(services.question_import, actor=request.auth, assessment_id=assessment_id, drafts=drafts)
    return Status(201, {"imported": len(questions), "questions": questions})


@router.post("/{assessment_id}/questions/import-csv", response={201: ImportOut, **ERRORS}, tags=["questions"])
async def question_import_csv(request: HttpRequest, assessment_id: str, file: File[UploadedFile]):
    """Bulk import from a CSV file with a header row: text (required), category, order."""
    data = await run_sync(file.read)
    questions = await run_sync(services.question_import_csv, actor=request.auth, assessment_id=assessment_id, data=data)
    return Status(201, {"imported": len(questions), "questions": questions})


@router.put(
    "/{assessment_id}/questions/{question_id}/answer", response={200: QuestionOut, **ERRORS}, tags=["questions"]
)
async def question_answer(request: HttpRequest, assessment_id: str, question_id: str, payload: AnswerIn):
    """Answer a question of my assessment, sending the question version I read (stale: 409)."""
    return await run_sync(
        services.question_answer,
        actor=request.auth,
        assessment_id=assessment_id,
        question_id=question_id,
        answer=payload.answer,
        version=payload.version,
    )


@router.get("/{assessment_id}/documents", response={200: LinkedDocumentPageOut, **READ_ERRORS}, tags=["documents"])
async def linked_document_list(request: HttpRequest, assessment_id: str, params: Query[PageParams]):
    """The documents linked to this assessment."""
    links = await run_sync(
        selectors.linked_documents,
        actor=request.auth,
        assessment_id=assessment_id,
        limit=params.limit,
        cursor=params.cursor,
    )
    pairs = await run_sync(selectors.assessment_documents, links.items)
    items = [
        {
            "document_id": link.document_id,
            "linked_by": link.linked_by,
            "linked_at": link.linked_at,
            "filename": document.filename if document else None,
            "status": document.status if document else None,
            "content_type": document.content_type if document else None,
        }
        for link, document in pairs
    ]
    return {"items": items, "next_cursor": links.next_cursor}


@router.post("/{assessment_id}/documents", response={200: LinkResultOut, **ERRORS}, tags=["documents"])
async def document_link(request: HttpRequest, assessment_id: str, payload: DocumentIdsIn):
    """Link up to 1,000 of my documents (batched writes, 25 per call). `linked` counts the new
    links, `already_linked` the documents that were linked before (left as they were)."""
    outcome = await run_sync(
        services.document_link_many,
        actor=request.auth,
        assessment_id=assessment_id,
        document_ids=payload.document_ids,
    )
    return {"linked": outcome.linked, "already_linked": outcome.already_linked}


@router.post("/{assessment_id}/documents/unlink", response={200: LinkResultOut, **ERRORS}, tags=["documents"])
async def document_unlink(request: HttpRequest, assessment_id: str, payload: DocumentIdsIn):
    """Unlink up to 1,000 documents from my assessment (batched deletes, 25 per call)."""
    unlinked = await run_sync(
        services.document_unlink_many,
        actor=request.auth,
        assessment_id=assessment_id,
        document_ids=payload.document_ids,
    )
    return {"unlinked": unlinked}


@router.post(
    "/{assessment_id}/questions/{question_id}/suggestion",
    response={200: QuestionOut, **ERRORS, 429: Error},
    tags=["questions"],
)
async def suggestion_create(request: HttpRequest, assessment_id: str, question_id: str, refresh: bool = False):
    """Suggest an answer with citations from the linked documents (cached); stored on the question.
    Counts against the caller's LLM_RATE_LIMIT (429 with Retry-After beyond it)."""
    return await services.suggestion_create(
        actor=request.auth, assessment_id=assessment_id, question_id=question_id, refresh=refresh
    )


@router.post("/{assessment_id}/suggestions", response={200: QuestionPageOut, **ERRORS, 429: Error}, tags=["questions"])
async def suggestions_for_unanswered(request: HttpRequest, assessment_id: str, refresh: bool = False):
    """Suggestions for every unanswered question, a few at a time. Counts as one request against the
    caller's LLM_RATE_LIMIT (429 with Retry-After beyond it)."""
    questions = await services.suggestions_for_unanswered(
        actor=request.auth, assessment_id=assessment_id, refresh=refresh
    )
    return {"items": questions, "next_cursor": None}


# The operation id is the one it had in documents/api.py: generated clients name their methods by it.
@documents_usage_router.get(
    "/{document_id}/assessments",
    response={200: DocumentAssessmentPageOut, **READ_ERRORS},
    operation_id="documents_api_document_assessments",
)
async def document_assessments(request: HttpRequest, document_id: str, params: Query[PageParams]):
    """The assessments that use this document."""
    items, next_cursor = await run_sync(
        selectors.document_assessments,
        actor=request.auth,
        document_id=document_id,
        limit=params.limit,
        cursor=params.cursor,
    )
    return {"items": items, "next_cursor": next_cursor}
