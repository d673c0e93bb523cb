"""Links between an assessment and its evidence documents, written in bulk.

A link is an adjacency item in the assessment's partition (`ASMT#<id>` / `DOC#<doc_id>`):
linking puts it, unlinking deletes it, and neither touches the assessment or another
link, so batched writes can never overwrite a concurrent edit.
"""

from documents import selectors as document_selectors
from tra.dynamo.clock import utc_now
from tra.dynamo.writes import batch_write
from tra.errors import InvalidState, NotFound, ValidationFailed
from tra.http.auth import Actor

from .. import selectors
from ..models import Assessment, DocumentLink
from .workflow import EDITABLE, State, record_event

MAX_LINKS_PER_CALL = 1000


def _linkable_assessment(actor: Actor, assessment_id: str) -> Assessment:
    assessment = selectors.assessment_get_owned(actor=actor, assessment_id=assessment_id)
    if State(assessment.state) not in EDITABLE:
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
        found = document_selectors.documents_by_ids(unique)
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
