"""Reads of evidence documents. Each names its index; see docs/access-patterns.md."""

from django.core.cache import caches

from tra import shared_cache
from tra.dynamo.pagination import Page, query_page
from tra.errors import Forbidden, NotFound
from tra.http.auth import Actor

from .models import DOCUMENT, Document, DocumentChunk, DocumentFingerprint, status_key

# How long a document's passages stay in the `default` cache for retrieval (evidence_of).
EVIDENCE_CACHE_SECONDS = 7 * 24 * 3600


def _not_found(document_id: str) -> NotFound:
    return NotFound(f"document {document_id} not found", extra={"field": "document_id"})


def document_get(*, actor: Actor, document_id: str, consistent: bool = False) -> Document:
    """T10: GetItem; NotFound unless the actor owns it (reviewers read documents through assessments)."""
    try:
        document = Document.get(*Document.key(document_id), consistent_read=consistent)
    except (Document.DoesNotExist, ValueError):
        raise _not_found(document_id) from None
    if document.owner_id != actor.user_id:
        raise _not_found(document_id)
    return document


def document_current(document_id: str) -> Document:
    """T10, strongly consistent and without an access check, for services: the document as
    stored now (the one a duplicate upload returns, or the one a summary is saved on).
    Raises Document.DoesNotExist."""
    return Document.get(*Document.key(document_id), consistent_read=True)


def document_list_mine(*, actor: Actor, status: str | None, limit: int | None, cursor: str | None) -> Page[Document]:
    """G10 (by_owner) or G11 (by_owner_status), newest first."""
    if status:
        index = Document.by_owner_status
        condition = Document.owner_status_sort.startswith(Document.owner_status_sort_prefix(status))
    else:
        index = Document.by_owner
        condition = Document.owner_sort.startswith(Document.owner_sort_prefix())
    return query_page(
        index.query,
        actor.user_id,
        condition,
        scan_index_forward=False,
        scope=f"documents.mine:{actor.user_id}:{status or ''}",
        limit=limit,
        cursor=cursor,
    )


def documents_by_ids(document_ids: list[str]) -> dict[str, Document]:
    """BatchGetItem of #META items (PynamoDB sends 100 keys a call and retries unprocessed keys)."""
    unique = list(dict.fromkeys(document_ids))
    return {item.document_id: item for item in Document.batch_get([Document.key(i) for i in unique])}


def fingerprint_get(*, owner_id: str, sha256: str) -> DocumentFingerprint | None:
    """T12: the owner's document with this content, if any (strongly consistent)."""
    try:
        return DocumentFingerprint.get(*DocumentFingerprint.key(owner_id, sha256), consistent_read=True)
    except DocumentFingerprint.DoesNotExist:
        return None


def chunks_of(document_id: str) -> list[DocumentChunk]:
    """T11: `pk = DOC#<id> AND begins_with(sk, "CHUNK#")`."""
    pk = Document.key(document_id)[0]
    return list(DocumentChunk.query(pk, DocumentChunk.sk.startswith(DocumentChunk.collection_prefix())))


def _evidence_key(document_id: str) -> str:
    return f"documents:evidence:{document_id}"


def evidence_of(document_ids: list[str]) -> dict[str, dict]:
    """The retrieval evidence of each of these documents that exists: `{"filename": str, "chunks":
    [(number, text), ...]}` in passage order, from the `default` cache in one round trip. A
    document's passages never change after upload (and its id is never reused), so an entry is
    valid for as long as it lives (EVIDENCE_CACHE_SECONDS); only the documents it lacks are read:
    BatchGetItem of their #META items (100 keys a call) and T11 per document, then cached. Warm, a
    suggestion's evidence costs no DynamoDB call however many documents are linked. Without the
    shared cache (an outage, tra.shared_cache) everything is read from DynamoDB."""
    unique = list(dict.fromkeys(document_ids))
    if not unique:
        return {}
    cache = caches["default"]
    found: dict[str, dict] = {}
    if shared_cache.available():
        try:
            cached = cache.get_many([_evidence_key(i) for i in unique])
        except shared_cache.ERRORS as error:
            shared_cache.failed("document evidence cache", error)
        else:
            found = {i: cached[_evidence_key(i)] for i in unique if _evidence_key(i) in cached}
    missing = [i for i in unique if i not in found]
    fresh = {}
    for document_id, document in documents_by_ids(missing).items():
        chunks = sorted(chunks_of(document_id), key=lambda chunk: chunk.number)
        fresh[document_id] = {
            "filename": document.filename,
            "chunks": [(chunk.number, chunk.text) for chunk in chunks],
        }
    if fresh and shared_cache.available():
        try:
            cache.set_many({_evidence_key(i): value for i, value in fresh.items()}, timeout=EVIDENCE_CACHE_SECONDS)
        except shared_cache.ERRORS as error:
            shared_cache.failed("document evidence cache", error)
    found.update(fresh)
    return {i: found[i] for i in unique if i in found}


def document_list_for_staff(
    *, actor: Actor, status: str | None, owner_id: str | None, limit: int | None, cursor: str | None
) -> Page[Document]:
    """Admin list, newest first: G11 (owner + status), G10 (owner), G13 (by_status / by_type)."""
    if not actor.is_staff:
        raise Forbidden("the admin is for staff")
    common = {
        "scan_index_forward": False,
        "scope": f"admin.documents:{status or ''}:{owner_id or ''}",
        "limit": limit,
        "cursor": cursor,
    }
    if owner_id and status:
        condition = Document.owner_status_sort.startswith(Document.owner_status_sort_prefix(status))
        return query_page(Document.by_owner_status.query, owner_id, condition, **common)
    if owner_id:
        return query_page(
            Document.by_owner.query, owner_id, Document.owner_sort.startswith(Document.owner_sort_prefix()), **common
        )
    if status:
        return query_page(Document.by_status.query, status_key(status), **common)
    return query_page(Document.by_type.query, DOCUMENT, **common)


def document_get_for_staff(*, actor: Actor, document_id: str) -> Document:
    """T10 for the admin: staff read any document."""
    if not actor.is_staff:
        raise Forbidden("the admin is for staff")
    try:
        return Document.get(*Document.key(document_id))
    except (Document.DoesNotExist, ValueError):
        raise _not_found(document_id) from None


def documents_in_status(status: str, *, limit: int | None = None) -> list[Document]:
    """G12: documents waiting in `status` (batch jobs' work queue), oldest first."""
    return list(Document.by_status.query(status_key(status), scan_index_forward=True, limit=limit, page_size=100))
