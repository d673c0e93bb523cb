"""Reads of evidence documents. Each names its index; see docs/access-patterns.md."""

from assessments.models import Assessment, DocumentLink
from assessments.selectors import assessments_by_ids, can_read
from tra.auth import Actor
from tra.dynamo.pagination import Page, query_page
from tra.errors import Forbidden, NotFound

from .models import DOCUMENT, Document, DocumentChunk, DocumentFingerprint, status_key


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


def document_list_mine(*, actor: Actor, status: str | None, limit: int | None, cursor: str | None) -> Page[Document]:
    """G10 (by_owner) or G11 (by_owner_status), newest first."""
    if status:
        index, condition = Document.by_owner_status, Document.owner_status_sort.startswith(f"{DOCUMENT}#{status}#")
    else:
        index, condition = Document.by_owner, Document.owner_sort.startswith(f"{DOCUMENT}#")
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


def is_linked(document_id: str) -> bool:
    """G9 with Limit 1: does any assessment use this document?"""
    return any(True for _ in DocumentLink.by_document.query(document_id, limit=1))


def links_of_document(document_id: str) -> list[DocumentLink]:
    """G9: every link item of the document (for unlinking on delete)."""
    return list(DocumentLink.by_document.query(document_id))


def document_assessments(
    *, actor: Actor, document_id: str, limit: int | None, cursor: str | None
) -> tuple[list[Assessment], str | None]:
    """G9 + BatchGetItem: the assessments (that the actor may read) which use this document."""
    document_get(actor=actor, document_id=document_id)
    links = query_page(
        DocumentLink.by_document.query,
        document_id,
        scope=f"documents.assessments:{document_id}",
        limit=limit,
        cursor=cursor,
    )
    found = assessments_by_ids([link.assessment_id for link in links.items])
    return [assessment for assessment in found if can_read(actor, assessment)], links.next_cursor


def assessment_documents(links: list[DocumentLink]) -> list[tuple[DocumentLink, Document | None]]:
    """T7's second step: the linked documents' #META items, in link order."""
    documents = documents_by_ids([link.document_id for link in links])
    return [(link, documents.get(link.document_id)) for link in links]


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
        condition = Document.owner_status_sort.startswith(f"{DOCUMENT}#{status}#")
        return query_page(Document.by_owner_status.query, owner_id, condition, **common)
    if owner_id:
        return query_page(Document.by_owner.query, owner_id, Document.owner_sort.startswith(f"{DOCUMENT}#"), **common)
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


def document_assessments_for_staff(*, actor: Actor, document_id: str, limit: int = 100) -> list[Assessment]:
    """G9 + BatchGetItem: the assessments that use the document (first `limit`)."""
    if not actor.is_staff:
        raise Forbidden("the admin is for staff")
    links = list(DocumentLink.by_document.query(document_id, limit=limit))
    return assessments_by_ids([link.assessment_id for link in links])


def documents_in_status(status: str, *, limit: int | None = None) -> list[Document]:
    """G12: documents waiting in `status` (batch jobs' work queue), oldest first."""
    return list(Document.by_status.query(status_key(status), scan_index_forward=True, limit=limit, page_size=100))
