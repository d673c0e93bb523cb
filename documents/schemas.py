"""Request and response schemas of the documents API."""

from datetime import datetime
from typing import Annotated

from ninja import Schema
from pydantic import Field, StringConstraints

from tra.http.schemas import Page

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


class DocumentPageOut(Page[DocumentSummaryOut]): ...


class UploadOut(DocumentOut):
    duplicate: bool = Field(description="true when you had already uploaded this exact file; this is that document")


class SummaryOut(Schema):
    document_id: str
    summary: str
    provider: str = Field(description="bedrock, or extractive (sentences quoted from the document, no model)")
    model: str | None
    cached: bool = Field(description="answered from the summary stored on the document or the LLM cache, no model call")
    chunks: int = Field(description="parts summarised separately (map-reduce) before being combined")
