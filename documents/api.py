"""Documents API: upload evidence, list and read it, summarise it, delete it.

`GET /documents/{id}/assessments` (where a document is used) is the assessments app's
(assessments/api.py, documents_usage_router): documents knows nothing of assessments."""

from django.conf import settings
from django.http import HttpRequest
from ninja import File, Query, Router, Status
from ninja.files import UploadedFile

from tra.dynamo.executor import run_sync
from tra.errors import PayloadTooLarge
from tra.http.schemas import ERRORS, READ_ERRORS, Error, PageParams

from . import selectors, services
from .models import DocumentStatus
from .schemas import DocumentOut, DocumentPageOut, SummaryOut, UploadOut

router = Router(tags=["documents"])


class ListParams(PageParams):
    status: DocumentStatus | None = None


class _Upload:
    """Presents an UploadResult as UploadOut expects: the document plus `duplicate`."""

    def __init__(self, result: services.UploadResult):
        self._document = result.document
        self.duplicate = not result.created

    def __getattr__(self, name):
        return getattr(self._document, name)


def _read_upload(file: UploadedFile) -> bytes:
    # Refuse by the announced size before reading a byte of an oversized upload.
    limit = settings.DOCUMENT_MAX_BYTES
    if file.size is not None and file.size > limit:
        raise PayloadTooLarge(
            f"the file is {file.size / 1_048_576:.1f} MB; the limit is {limit / 1_048_576:.0f} MB",
            extra={"field": "file"},
        )
    return file.read(limit + 1)


@router.post("", response={200: UploadOut, 201: UploadOut, **ERRORS})
async def document_upload(request: HttpRequest, file: File[UploadedFile]):
    """Upload a PDF, DOCX, TXT or MD file. Its text is extracted into passages before the
    response; uploading the same file again returns the existing document (200)."""
    data = await run_sync(_read_upload, file)
    result = await run_sync(
        services.document_upload,
        actor=request.auth,
        filename=file.name or "document",
        data=data,
        declared_type=file.content_type,
    )
    return Status(201 if result.created else 200, _Upload(result))


@router.get("", response={200: DocumentPageOut, **READ_ERRORS})
async def document_list(request: HttpRequest, params: Query[ListParams]):
    """My documents, newest first, optionally with one processing status."""
    return await run_sync(
        selectors.document_list_mine,
        actor=request.auth,
        status=params.status.value if params.status else None,
        limit=params.limit,
        cursor=params.cursor,
    )


@router.get("/{document_id}", response={200: DocumentOut, **READ_ERRORS})
async def document_get(request: HttpRequest, document_id: str):
    """One of my documents: its status, size and summary."""
    return await run_sync(selectors.document_get, actor=request.auth, document_id=document_id)


@router.delete("/{document_id}", response={204: None, **READ_ERRORS, 409: Error})  # no body; 409: still linked
async def document_delete(request: HttpRequest, document_id: str):
    """Delete my document (its file, passages and fingerprint). Unlink it from every assessment first."""
    await run_sync(services.document_delete, actor=request.auth, document_id=document_id)
    return Status(204, None)


@router.post("/{document_id}/summary", response={200: SummaryOut, **ERRORS, 429: Error})
async def document_summary(request: HttpRequest, document_id: str, refresh: bool = False):
    """Summarise the document (stored on it and cached: the same text is summarised once);
    `?refresh=true` makes a new one. A request that makes a model call counts against the caller's
    LLM_RATE_LIMIT (429 with Retry-After beyond it); a stored or cached summary is always answered."""
    document, summary = await services.document_summarize(actor=request.auth, document_id=document_id, refresh=refresh)
    return {
        "document_id": document.document_id,
        "summary": summary.text,
        "provider": summary.provider,
        "model": summary.model,
        "cached": summary.cache in ("stored", "hit", "coalesced"),
        "chunks": summary.chunks,
    }
