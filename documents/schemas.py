"""Request and response schemas of the documents API."""

from datetime import datetime
from typing import Annotated

from ninja import Schema
from pydantic import Field, StringConstraints

from .models import DocumentStatus

DocumentId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class DocumentOut(Schema):
    id: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    status: DocumentStatus
    chunk_count: int
    summary: str | None
    created_at: datetime
    updated_at: datetime
    version: int

    @staticmethod
    def resolve_id(obj) -> str:
        return obj.document_id


class DocumentSummaryOut(Schema):
    id: str
    filename: str
    content_type: str
    size_bytes: int
    status: DocumentStatus
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_id(obj) -> str:
        return obj.document_id


class UploadOut(DocumentOut):
    duplicate: bool = Field(description="true when you had already uploaded this exact file; this is that document")


class DocumentPageOut(Schema):
    items: list[DocumentSummaryOut]
    next_cursor: str | None


class DocumentIdsIn(Schema):
    document_ids: list[DocumentId] = Field(min_length=1, max_length=1_000)


class LinkResultOut(Schema):
    linked: int = 0
    unlinked: int = 0


class LinkedDocumentOut(Schema):
    document_id: str
    linked_by: str
    linked_at: datetime
    filename: str | None
    status: str | None
    content_type: str | None


class LinkedDocumentPageOut(Schema):
    items: list[LinkedDocumentOut]
    next_cursor: str | None


class DocumentAssessmentOut(Schema):
    id: str
    title: str
    state: str

    @staticmethod
    def resolve_id(obj) -> str:
        return obj.assessment_id


class DocumentAssessmentPageOut(Schema):
    items: list[DocumentAssessmentOut]
    next_cursor: str | None


class SummaryOut(Schema):
    document_id: str
    summary: str
    provider: str = Field(description="bedrock, or extractive (sentences quoted from the document, no model)")
    model: str | None
    cached: bool = Field(description="answered from the LLM cache, no model call")
    chunks: int = Field(description="parts summarised separately (map-reduce) before being combined")
