"""Writes for evidence documents: upload (validated, extracted, deduplicated), delete,
summaries. Linking documents to assessments is the assessments app's concern
(assessments/services/links.py); documents knows nothing of assessments.

Upload order keeps every failure clean: the file is checked and its text extracted
before anything is stored (a refused file leaves nothing behind); then the file and
its chunks are written, and last the document and its fingerprint in one
transaction, which is what makes the document visible. Two concurrent uploads of
the same file by one owner race on the fingerprint's condition: one creates the
document, the other cleans up after itself and returns that document.
"""

import asyncio
import hashlib
import logging
import re
import time
import uuid
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from pynamodb.exceptions import PutError

from llm import services as llm
from tra import ratelimit
from tra.dynamo.clock import utc_now
from tra.dynamo.executor import run_sync
from tra.dynamo.writes import ConditionFailed, TransactionConflict, batch_write, transaction
from tra.errors import ApplicationError, Conflict, Forbidden, InvalidState
from tra.http.auth import Actor

from . import extraction, selectors, signals
from .models import Document, DocumentChunk, DocumentFingerprint, DocumentStatus

logger = logging.getLogger(__name__)

UPLOAD_COMMIT_ATTEMPTS = 3


class UploadRefused(ApplicationError):
    """A file we will not store; status and code come from the extraction check."""

    def __init__(self, error: extraction.ExtractionError):
        super().__init__(str(error), extra={"field": "file", "reason": error.code})
        self.status_code = error.status_code
        self.code = error.code


@dataclass
class UploadResult:
    document: Document
    created: bool  # False: the owner already had this exact file


def safe_filename(filename: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip("._")
    return (name or "document")[:120]


def document_upload(*, actor: Actor, filename: str, data: bytes, declared_type: str | None) -> UploadResult:
    try:
        extracted = extraction.extract(data, filename=filename, declared_type=declared_type)
    except extraction.ExtractionError as error:
        raise UploadRefused(error) from error
    sha256 = hashlib.sha256(data).hexdigest()
    existing = selectors.fingerprint_get(owner_id=actor.user_id, sha256=sha256)
    if existing is not None:
        return UploadResult(document=selectors.document_current(existing.document_id), created=False)

    document_id = uuid.uuid4().hex
    storage_key = default_storage.save(
        f"documents/{actor.user_id}/{document_id}/{safe_filename(filename)}", ContentFile(data)
    )
    chunks = [
        DocumentChunk.build(
            document_id=document_id,
            number=passage.number,
            text=passage.text,
            page=passage.page,
            start_offset=passage.start_offset,
            end_offset=passage.end_offset,
        )
        for passage in extracted.passages
    ]
    try:
        batch_write(puts=chunks)
    except Exception:
        default_storage.delete(storage_key)
        raise
    now = utc_now()
    document = Document.build(
        document_id=document_id,
        owner_id=actor.user_id,
        filename=filename[:255],
        content_type=extracted.content_type,
        size_bytes=len(data),
        sha256=sha256,
        storage_key=storage_key,
        status=DocumentStatus.EXTRACTED.value,
        chunk_count=len(chunks),
        created_at=now,
        updated_at=now,
    )
    fingerprint = DocumentFingerprint.build(
        owner_id=actor.user_id, sha256=sha256, document_id=document_id, created_at=now
    )
    for attempt in range(UPLOAD_COMMIT_ATTEMPTS):
        try:
            with transaction() as write:
                write.save(document, condition=Document.pk.does_not_exist())
                write.save(fingerprint, condition=DocumentFingerprint.pk.does_not_exist())
            break
        except (ConditionFailed, TransactionConflict) as error:
            # The same owner uploaded the same file concurrently and won (or is committing
            # right now: DynamoDB cancels one of two transactions on one item): keep theirs.
            winner = selectors.fingerprint_get(owner_id=actor.user_id, sha256=sha256)
            if winner is not None:
                _discard(storage_key, chunks)
                return UploadResult(document=selectors.document_current(winner.document_id), created=False)
            if isinstance(error, ConditionFailed) or attempt == UPLOAD_COMMIT_ATTEMPTS - 1:
                _discard(storage_key, chunks)
                raise TransactionConflict(
                    "the same file is being uploaded concurrently; retry", retry_after=1
                ) from error
            time.sleep(0.05 * 2**attempt)
        except Exception:
            _discard(storage_key, chunks)
            raise
    return UploadResult(document=document, created=True)


def _discard(storage_key: str, chunks: list[DocumentChunk]) -> None:
    try:
        default_storage.delete(storage_key)
        batch_write(deletes=chunks)
    except Exception:  # noqa: BLE001 - orphans are invisible (no #META item); log and move on
        logger.warning("could not clean up upload %s", storage_key, exc_info=True)


def document_delete(*, actor: Actor, document_id: str) -> None:
    """Delete the owner's document, its chunks, fingerprint and file. Receivers of
    signals.document_deleting may refuse first (assessments: a linked document is
    evidence in use, 409 until it is unlinked)."""
    document = selectors.document_get(actor=actor, document_id=document_id, consistent=True)
    signals.document_deleting.send(sender=Document, document=document)
    chunks = selectors.chunks_of(document_id)
    try:
        with transaction() as write:
            write.delete(document)
            write.delete(DocumentFingerprint(*DocumentFingerprint.key(document.owner_id, document.sha256)))
    except ConditionFailed as failed:
        raise Conflict(f"document {document_id} changed while deleting; retry") from failed
    batch_write(deletes=chunks)
    default_storage.delete(document.storage_key)


def document_text(document_id: str) -> str:
    """The document's extracted text, rebuilt from its overlapping passages (T11): each
    passage is `text[start_offset:end_offset]`, so only the part past the text so far
    is added, and a gap (whitespace between passages) becomes a line break."""
    text = ""
    for chunk in sorted(selectors.chunks_of(document_id), key=lambda c: c.start_offset):
        start, end = int(chunk.start_offset), int(chunk.end_offset)
        if end <= len(text):
            continue
        if start > len(text):
            text += "\n" * (start - len(text))
        text += chunk.text[len(text) - start :]
    return text


def _store_summary(*, document_id: str, summary) -> Document:
    """Save the summary on the document; a concurrent edit of the document is retried, not lost."""
    for _attempt in range(3):
        document = selectors.document_current(document_id)
        document.summary = summary.text
        document.summary_provider = summary.provider
        document.summary_model = summary.model
        document.summarized_at = utc_now()
        document.updated_at = document.summarized_at
        if document.status == DocumentStatus.EXTRACTED.value:
            document.status = DocumentStatus.SUMMARIZED.value
        try:
            document.save()
            return document
        except PutError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
    raise Conflict(f"document {document_id} kept changing while its summary was saved; retry")


async def document_summarize(*, actor: Actor, document_id: str, refresh: bool = False, rate_limited: bool = True):
    """Summarise the owner's document through the cached LLM path and store it on the document.

    Async because it awaits the LLM; its DynamoDB work runs on the thread pool.
    The same text is summarised once, ever (the cache key is the text's content).
    Counted first against LLM_RATE_LIMIT unless rate_limited=False (tra/ratelimit.py says when)."""
    if rate_limited:
        await ratelimit.charge(actor)
    document = await run_sync(selectors.document_get, actor=actor, document_id=document_id)
    return await _summarize(document, refresh=refresh)


async def document_resummarize_for_reviewer(*, actor: Actor, document_id: str):
    """The admin's "regenerate": a reviewer asks for a fresh summary of any document."""
    if not actor.is_reviewer:
        raise Forbidden("regenerating a summary needs the reviewer permission")
    document = await run_sync(selectors.document_get_for_staff, actor=actor, document_id=document_id)
    return await _summarize(document, refresh=True)


async def _summarize(document: Document, *, refresh: bool):
    text = await run_sync(document_text, document.document_id)
    if not text.strip():
        raise InvalidState(
            f"document {document.document_id} has no extracted text to summarise", extra={"status": document.status}
        )
    summary = await llm.summarize_text(text=text, refresh=refresh)
    stored = await run_sync(_store_summary, document_id=document.document_id, summary=summary)
    return stored, summary


async def summarize_pending(*, limit: int | None, concurrency: int, dry_run: bool, on_done=None) -> dict:
    """Summaries for documents that have text but no summary (status `extracted`, found
    through the by_status index), `concurrency` at a time, through the cached LLM path.
    Safe to re-run: a summarised document leaves the queue."""
    pending = await run_sync(selectors.documents_in_status, DocumentStatus.EXTRACTED.value, limit=limit)
    counts = {"found": len(pending), "summarized": 0, "failed": 0, "cached": 0}
    if dry_run:
        return counts
    gate = asyncio.Semaphore(concurrency)

    async def one(document: Document) -> None:
        async with gate:
            try:
                _stored, summary = await _summarize(document, refresh=False)
            except ApplicationError as error:
                counts["failed"] += 1
                logger.warning("summary of %s failed: %s", document.document_id, error.message)
            else:
                counts["summarized"] += 1
                counts["cached"] += summary.cache in ("hit", "coalesced")
            if on_done:
                on_done()

    await asyncio.gather(*(one(document) for document in pending))
    return counts
