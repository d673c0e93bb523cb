"""Request and response schemas of the assessments API."""

from datetime import datetime
from typing import Annotated, Literal

from ninja import Schema
from pydantic import AfterValidator, Field, StringConstraints, field_validator

from documents.schemas import DocumentId
from tra.http.schemas import Integer, NotABoolean, Page

from .models import MAX_QUESTION_ORDER, AssessmentState, ReviewDecision


def _storable_float(value: float) -> float:
    # DynamoDB's smallest magnitude is 1e-130: below it a number cannot be stored, so it is stored as 0.
    return 0.0 if abs(value) < 1e-130 else value


# Metadata is stored as a DynamoDB map: numbers must fit DynamoDB's (38 digits, magnitude 1e-130..1e126),
# and keys and strings are bounded so the item stays far below DynamoDB's 400 KB (a number such as 1e-200
# or a huge value made the write fail, a 503, before these bounds).
MetadataKey = Annotated[str, StringConstraints(min_length=1, max_length=100)]
MetadataValue = (
    Annotated[str, StringConstraints(max_length=1_000)]
    | Annotated[int, Field(ge=-(10**38) + 1, le=10**38 - 1)]
    | Annotated[float, Field(ge=-1e125, le=1e125, allow_inf_nan=False), AfterValidator(_storable_float)]
    | bool
    | None
)
# Whitespace-only text is refused (_not_blank); the pattern says so in the OpenAPI schema. str.strip()
# also strips the separators U+001C..U+001F, which regex \s (JSON Schema, pydantic) does not match.
NOT_BLANK = r"[^\s\x1c-\x1f]"


def _not_blank(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    return value


class AssessmentIn(Schema):
    title: str = Field(min_length=1, max_length=200, pattern=NOT_BLANK)
    description: str = Field(default="", max_length=10_000)
    metadata: dict[MetadataKey, MetadataValue] = Field(default_factory=dict, max_length=50)

    _title = field_validator("title")(_not_blank)


class AssessmentUpdateIn(Schema):
    version: Integer = Field(ge=1, description="the version you read; a stale one is a 409")
    title: str | None = Field(default=None, min_length=1, max_length=200, pattern=NOT_BLANK)
    description: str | None = Field(default=None, max_length=10_000)
    metadata: dict[MetadataKey, MetadataValue] | None = Field(default=None, max_length=50)

    @field_validator("title")
    @classmethod
    def _title(cls, value: str | None) -> str | None:
        return None if value is None else _not_blank(value)


class AssessmentSummaryOut(Schema):
    id: str
    title: str
    state: AssessmentState
    owner_id: str
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_id(obj) -> str:
        return obj.assessment_id


class AssessmentOut(AssessmentSummaryOut):
    description: str
    metadata: dict[str, MetadataValue]
    submitted_at: datetime | None

    @staticmethod
    def resolve_metadata(obj) -> dict:
        return obj.metadata_dict


class AssessmentPageOut(Page[AssessmentSummaryOut]): ...


class TransitionIn(Schema):
    action: Literal["start", "submit", "reopen", "archive", "start_review"]
    version: Integer = Field(ge=1)


class ReviewIn(Schema):
    decision: ReviewDecision
    comment: str = Field(default="", max_length=5_000, description="required to reject or request changes")
    version: Integer = Field(ge=1, description="the assessment version you reviewed")


class ReviewOut(Schema):
    id: str
    reviewer_id: str
    decision: ReviewDecision
    comment: str
    created_at: datetime

    @staticmethod
    def resolve_id(obj) -> str:
        return obj.review_id


class ReviewPageOut(Page[ReviewOut]): ...


class ReviewResultOut(Schema):
    assessment: AssessmentOut
    review: ReviewOut


class EventOut(Schema):
    id: str
    event_type: str
    actor_id: str
    from_state: str | None
    to_state: str | None
    details: dict
    created_at: datetime

    @staticmethod
    def resolve_id(obj) -> str:
        return obj.event_id

    @staticmethod
    def resolve_details(obj) -> dict:
        details = obj.details
        return details.as_dict() if hasattr(details, "as_dict") else dict(details or {})


class EventPageOut(Page[EventOut]): ...


class CitationOut(Schema):
    document_id: str
    chunk: int
    quote: str


class SuggestionOut(Schema):
    text: str
    citations: list[CitationOut]
    confidence: float
    provider: str
    model: str | None
    created_at: datetime


class QuestionIn(Schema):
    text: str = Field(min_length=1, max_length=2_000, pattern=NOT_BLANK)
    category: str | None = Field(default=None, max_length=100)
    order: Annotated[int, Field(ge=0, le=MAX_QUESTION_ORDER), NotABoolean] | None = Field(
        default=None, description="default: after the last"
    )

    _text = field_validator("text")(_not_blank)


class QuestionImportIn(Schema):
    questions: list[QuestionIn] = Field(min_length=1, max_length=1_000)


class QuestionOut(Schema):
    id: str
    order: int
    text: str
    category: str | None
    status: str
    answer: str | None
    answered_by: str | None
    answered_at: datetime | None
    suggestion: SuggestionOut | None
    version: int

    @staticmethod
    def resolve_id(obj) -> str:
        return obj.question_id


class QuestionPageOut(Page[QuestionOut]): ...


class ImportOut(Schema):
    imported: int
    questions: list[QuestionOut]


class AnswerIn(Schema):
    answer: str = Field(max_length=20_000)
    version: Integer = Field(ge=1, description="the question version you read")


class LinkOut(Schema):
    document_id: str
    linked_by: str
    linked_at: datetime


class AssessmentDetailOut(AssessmentOut):
    """The first page of each collection; a `*_next_cursor` continues it on its list endpoint
    (`/questions`, `/documents`, `/reviews`, `/events`), null when that was all."""

    questions: list[QuestionOut]
    questions_next_cursor: str | None
    documents: list[LinkOut]
    documents_next_cursor: str | None
    reviews: list[ReviewOut]
    reviews_next_cursor: str | None
    recent_events: list[EventOut]
    events_next_cursor: str | None


# Document links: an assessment's evidence, and (from a document) the assessments using it.
class DocumentIdsIn(Schema):
    document_ids: list[DocumentId] = Field(min_length=1, max_length=1_000)


class LinkResultOut(Schema):
    linked: int = 0
    already_linked: int = 0
    unlinked: int = 0


class LinkedDocumentOut(Schema):
    document_id: str
    linked_by: str
    linked_at: datetime
    filename: str | None
    status: str | None
    content_type: str | None


class LinkedDocumentPageOut(Page[LinkedDocumentOut]): ...


class DocumentAssessmentOut(Schema):
    id: str
    title: str
    state: str

    @staticmethod
    def resolve_id(obj) -> str:
        return obj.assessment_id


class DocumentAssessmentPageOut(Page[DocumentAssessmentOut]): ...
