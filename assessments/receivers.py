"""Receivers of other apps' signals; AssessmentsConfig.ready() connects them."""

from documents.models import Document
from tra.errors import Conflict

from . import selectors


def refuse_deleting_linked_document(sender, *, document: Document, **kwargs) -> None:
    """documents.signals.document_deleting: a document linked to an assessment is evidence
    in use; its owner unlinks it first (409). So a deletion never changes a link set, and the
    unlink that must come first moves the assessment's evidence version (its retrieval index,
    assessments/services/evidence.py, is rebuilt without the document)."""
    if selectors.is_linked(document.document_id):
        raise Conflict(
            f"document {document.document_id} is linked to an assessment; unlink it first",
            extra={"field": "document_id"},
        )
