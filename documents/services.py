"""Writes for evidence documents: upload (validated, extracted, deduplicated), delete,
summaries. Linking documents to assessments is the assessments app's concern
(assessments/services/links.py); documents knows nothing of assessments.

Upload order keeps every failure clean: the file is checked and its text extracted
before anything is stored (a refused file leaves nothing behind); then the file and
its chunks are written, and last the document and its fingerprint in one
transaction, which is what makes the document visible. Two concurrent uploads of
the same file by one owner race on the fingerprint's condition: one creates the
document, the other cleans up after itself and returns that document.

An upload never deletes a document it created: a retried commit whose first attempt
was applied finds its own document (the transaction's witness) and succeeds; a commit
whose outcome cannot be told keeps its file and passages (invisible without the
document) rather than risk deleting a committed document's.
"""

import asyncio
import functools
import hashlib
import logging
import re
import time
import uuid
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from pynamodb.exceptions import UpdateError

from llm import services as llm
from tra import ratelimit
from tra.dynamo import idempotency
from tra.dynamo.clock import utc_now
from tra.dynamo.executor import run_sync
from tra.dynamo.writes import ConditionFailed, TransactionConflict, batch_write, transaction
from tra.errors import ApplicationError, Conflict, Forbidden, InvalidState, NotFound
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
        text_sha256=hashlib.sha256(extracted.text.encode()).hexdigest(),
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
            # The document (a fresh key) is the witness: a retried commit that finds it committed succeeds.
            with transaction(witness=document) as write:
                write.save(document, condition=Document.pk.does_not_exist())
                write.save(fingerprint, condition=DocumentFingerprint.pk.does_not_exist())
            break
        except (ConditionFailed, TransactionConflict) as error:
            # The same owner uploaded the same file concurrently and won (or is committing
            # right now: DynamoDB cancels one of two transactions on one item): keep theirs.
            winner = selectors.fingerprint_get(owner_id=actor.user_id, sha256=sha256)
            if winner is not None and winner.document_id == document_id:
                document = selectors.document_current(document_id)  # ours committed: never discard it
                break
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
            if _not_committed(document):
                _discard(storage_key, chunks)
            raise
    return UploadResult(document=document, created=True)


def _not_committed(document: Document) -> bool:
    """After a failed commit: is the document surely not stored? Unknown counts as stored."""
    try:
        return not idempotency.holds(document)
    except Exception:  # noqa: BLE001 - the table cannot be asked: keep the file and passages
        logger.warning("upload %s: outcome unknown, its file and passages are kept", document.document_id)
        return False


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
        try:
            selectors.document_current(document_id)
        except Document.DoesNotExist:
            pass  # gone: this delete's earlier attempt (a retry after a lost answer) removed it; finish
        else:
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


SUMMARY_STORE_ATTEMPTS = 3


def _store_summary(*, document: Document, key: str, summary, refresh: bool) -> Document:
    """Store the summary: one conditional UpdateItem of the summary fields (and the status
    `extracted` -> `summarized`), never a whole-item save, so an unrelated edit cannot collide
    with it. Idempotent: when the same summary is stored already (a concurrent identical
    request stored it), nothing changes and the stored document is returned."""
    for _attempt in range(SUMMARY_STORE_ATTEMPTS):
        now = utc_now()
        status = document.status
        if status == DocumentStatus.EXTRACTED.value:
            status = DocumentStatus.SUMMARIZED.value
        actions = [
            Document.summary.set(summary.text),
            Document.summary_provider.set(summary.provider),
            Document.summary_model.set(summary.model) if summary.model else Document.summary_model.remove(),
            Document.summary_chunks.set(summary.chunks),
            Document.summary_key.set(key),
            Document.summarized_at.set(now),
            Document.updated_at.set(now),
            Document.status.set(status),
            *(getattr(Document, name).set(value) for name, value in Document.index_keys(status, now).items()),
        ]
        # The status read is the status replaced; a refresh replaces even an identical summary.
        condition = Document.pk.exists() & (Document.status == document.status)
        if not refresh:
            condition &= Document.summary_key.does_not_exist() | (Document.summary_key != key)
        try:
            document.update(actions=actions, condition=condition, add_version_condition=False)
            return document
        except UpdateError as error:
            if idempotency.response_code(error) != "ConditionalCheckFailedException":  # a timeout: re-raised
                raise
        try:
            document = selectors.document_current(document.document_id)
        except Document.DoesNotExist:
            raise NotFound(f"document {document.document_id} not found", extra={"field": "document_id"}) from None
        if not refresh and document.summary_key == key:
            return document  # stored already, by an identical request
    raise Conflict(f"document {document.document_id} kept changing while its summary was saved; retry")


async def document_summarize(*, actor: Actor, document_id: str, refresh: bool = False, rate_limited: bool = True):
    """Summarise the owner's document through the cached LLM path and store it on the document.

    Async because it awaits the LLM; its DynamoDB work runs on the thread pool.
    A document whose stored summary is current (same text fingerprint, provider, model and
    prompt version) is answered from the GetItem that reads it: no text read, no cache lookup,
    no write. Else the same text is summarised once, ever (the cache key is the document's
    content fingerprint). Only a request that makes a model call is counted against
    LLM_RATE_LIMIT, unless rate_limited=False (tra/ratelimit.py says when)."""
    document = await run_sync(selectors.document_get, actor=actor, document_id=document_id)
    charge = functools.partial(ratelimit.charge, actor) if rate_limited else None
    return await _summarize(document, refresh=refresh, charge=charge)


async def document_resummarize_for_reviewer(*, actor: Actor, document_id: str):
    """The admin's "regenerate": a reviewer asks for a fresh summary of any document."""
    if not actor.is_reviewer:
        raise Forbidden("regenerating a summary needs the reviewer permission")
    document = await run_sync(selectors.document_get_for_staff, actor=actor, document_id=document_id)
    return await _summarize(document, refresh=True)


async def _summarize(document: Document, *, refresh: bool, charge=None):
    version = llm.summary_version()
    key = document.summary_key_for(version)
    if not refresh and document.summary_is_current(version):
        stored = llm.Summary(
            text=document.summary,
            provider=document.summary_provider,
            model=document.summary_model,
            chunks=int(document.summary_chunks or 1),
            cache="stored",
        )
        return document, stored

    async def load_text() -> str:
        text = await run_sync(document_text, document.document_id)
        if not text.strip():
            raise InvalidState(
                f"document {document.document_id} has no extracted text to summarise",
                extra={"status": document.status},
            )
        return text

    summary = await llm.summarize_content(
        fingerprint=document.content_fingerprint, load_text=load_text, refresh=refresh, charge=charge
    )
    if summary.cache == "coalesced":
        # The flight's leader stores it (on this document, or on another with the same text,
        # in which case the next request stores it from the cache).
        return document, summary
    stored = await run_sync(_store_summary, document=document, key=key, summary=summary, refresh=refresh)
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

    async def one(listed: Document) -> None:
        async with gate:
            try:
                # The index projects no fingerprint: the whole item, as a request reads it (T10).
                document = await run_sync(selectors.document_current, listed.document_id)
            except Document.DoesNotExist:
                document = None  # deleted since it was listed
            try:
                if document is None:
                    raise NotFound(f"document {listed.document_id} not found")
                _stored, summary = await _summarize(document, refresh=False)
            except ApplicationError as error:
                counts["failed"] += 1
                logger.warning("summary of %s failed: %s", listed.document_id, error.message)
            else:
                counts["summarized"] += 1
                counts["cached"] += summary.cache in ("stored", "hit", "coalesced")
            if on_done:
                on_done()

    await asyncio.gather(*(one(document) for document in pending))
    return counts
