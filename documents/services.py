"""Writes for evidence documents: upload (validated, extracted, deduplicated), delete,
and linking to assessments in bulk.

Upload order keeps every failure clean: the file is checked and its text extracted
before anything is stored (a refused file leaves nothing behind); then the file and
its chunks are written, and last the document and its fingerprint in one
transaction, which is what makes the document visible. Two concurrent uploads of
the same file by one owner race on the fingerprint's condition: one creates the
document, the other cleans up after itself and returns that document.
"""

import hashlib
import logging
import re
import uuid
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from assessments.models import AssessmentState, DocumentLink
from assessments.selectors import assessment_get_owned
from assessments.services import EDITABLE, record_event
from tra.auth import Actor
from tra.dynamo.models import utc_now
from tra.dynamo.writes import ConditionFailed, batch_write, transaction
from tra.errors import ApplicationError, Conflict, InvalidState, NotFound, ValidationFailed

from . import extraction, selectors
from .models import Document, DocumentChunk, DocumentFingerprint, DocumentStatus

logger = logging.getLogger(__name__)

MAX_LINKS_PER_CALL = 1000


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
        return UploadResult(document=_existing(existing.document_id), created=False)

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
    try:
        with transaction() as write:
            write.save(document, condition=Document.pk.does_not_exist())
            write.save(fingerprint, condition=DocumentFingerprint.pk.does_not_exist())
    except ConditionFailed:
        # The same owner uploaded the same file concurrently and won: keep theirs.
        _discard(storage_key, chunks)
        winner = selectors.fingerprint_get(owner_id=actor.user_id, sha256=sha256)
        return UploadResult(document=_existing(winner.document_id), created=False)
    except Exception:
        _discard(storage_key, chunks)
        raise
    return UploadResult(document=document, created=True)


def _existing(document_id: str) -> Document:
    return Document.get(*Document.key(document_id), consistent_read=True)


def _discard(storage_key: str, chunks: list[DocumentChunk]) -> None:
    try:
        default_storage.delete(storage_key)
        batch_write(deletes=chunks)
    except Exception:  # noqa: BLE001 - orphans are invisible (no #META item); log and move on
        logger.warning("could not clean up upload %s", storage_key, exc_info=True)


def document_delete(*, actor: Actor, document_id: str) -> None:
    """Delete the owner's document, its chunks, fingerprint and file. A document still
    linked to an assessment is evidence in use: unlink it first (409)."""
    document = selectors.document_get(actor=actor, document_id=document_id, consistent=True)
    if selectors.is_linked(document_id):
        raise Conflict(
            f"document {document_id} is linked to an assessment; unlink it first", extra={"field": "document_id"}
        )
    chunks = selectors.chunks_of(document_id)
    try:
        with transaction() as write:
            write.delete(document)
            write.delete(DocumentFingerprint(*DocumentFingerprint.key(document.owner_id, document.sha256)))
    except ConditionFailed as failed:
        raise Conflict(f"document {document_id} changed while deleting; retry") from failed
    batch_write(deletes=chunks)
    default_storage.delete(document.storage_key)


def _linkable_assessment(actor: Actor, assessment_id: str):
    assessment = assessment_get_owned(actor=actor, assessment_id=assessment_id)
    if AssessmentState(assessment.state) not in EDITABLE:
        raise InvalidState(
            f"documents of an assessment that is {assessment.state} cannot change", extra={"state": assessment.state}
        )
    return assessment


def _check_ids(document_ids: list[str]) -> list[str]:
    unique = list(dict.fromkeys(document_ids))
    if not unique:
        raise ValidationFailed("document_ids is empty", extra={"field": "document_ids"})
    if len(unique) > MAX_LINKS_PER_CALL:
        raise ValidationFailed(f"at most {MAX_LINKS_PER_CALL} documents per call", extra={"field": "document_ids"})
    return unique


def document_link_many(*, actor: Actor, assessment_id: str, document_ids: list[str]) -> int:
    """Link the actor's documents to their assessment. Adjacency items only: a link is
    its own item, so batched puts never touch the assessment or another link."""
    assessment = _linkable_assessment(actor, assessment_id)
    unique = _check_ids(document_ids)
    try:
        found = selectors.documents_by_ids(unique)
    except ValueError:
        found = {}
    missing = [i for i in unique if i not in found or found[i].owner_id != actor.user_id]
    if missing:
        raise NotFound(
            f"{len(missing)} document(s) not found: {', '.join(missing[:5])}",
            extra={"field": "document_ids", "missing": missing},
        )
    now = utc_now()
    links = [
        DocumentLink.build(assessment_id=assessment_id, document_id=i, linked_by=actor.user_id, linked_at=now)
        for i in unique
    ]
    batch_write(puts=links)
    record_event(assessment, actor=actor, event_type="documents_linked", count=len(links))
    return len(links)


def document_unlink_many(*, actor: Actor, assessment_id: str, document_ids: list[str]) -> int:
    assessment = _linkable_assessment(actor, assessment_id)
    unique = _check_ids(document_ids)
    links = [DocumentLink(*DocumentLink.key(assessment_id, i)) for i in unique]
    batch_write(deletes=links)
    record_event(assessment, actor=actor, event_type="documents_unlinked", count=len(links))
    return len(links)
