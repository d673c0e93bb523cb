"""Links between an assessment and its evidence documents, written in bulk.

A link is an adjacency item in the assessment's partition (`ASMT#<id>` / `DOC#<doc_id>`):
linking puts it, unlinking deletes it, and neither touches the assessment or another
link, so batched writes can never overwrite a concurrent edit.
"""

from dataclasses import dataclass

from documents import selectors as document_selectors
from tra.dynamo.clock import utc_now
from tra.dynamo.writes import BATCH_WRITE_LIMIT, batch_write
from tra.errors import InvalidState, NotFound, ServiceUnavailable, ValidationFailed
from tra.http.auth import Actor

from .. import selectors
from ..models import Assessment, DocumentLink
from .workflow import EDITABLE, State, record_event

MAX_LINKS_PER_CALL = 1000


@dataclass(frozen=True)
class LinkOutcome:
    """What a link call changed: `linked` new links, `already_linked` left as they were."""

    linked: int
    already_linked: int


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


def document_link_many(
    *, actor: Actor, assessment_id: str, document_ids: list[str], dry_run: bool = False
) -> LinkOutcome:
    """Link the actor's documents to their assessment. Adjacency items only: a link is
    its own item, so batched puts never touch the assessment or another link.

    Documents already linked are left alone and counted apart. Each batch of links is
    followed by its own `documents_linked` event, so a run stopped half-way leaves an
    audit trail for every batch it wrote. `dry_run` checks everything and writes nothing."""
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
    existing = selectors.links_among(assessment, unique)
    new = [i for i in unique if i not in existing]
    outcome = LinkOutcome(linked=len(new), already_linked=len(unique) - len(new))
    if dry_run:
        return outcome
    now = utc_now()
    written = 0
    for start in range(0, len(new), BATCH_WRITE_LIMIT):
        links = [
            DocumentLink.build(assessment_id=assessment_id, document_id=i, linked_by=actor.user_id, linked_at=now)
            for i in new[start : start + BATCH_WRITE_LIMIT]
        ]
        try:
            batch_write(puts=links)
        except ServiceUnavailable as error:
            partial = error.extra.get("written", 0)
            if partial:
                record_event(assessment, actor=actor, event_type="documents_linked", count=partial)
            raise ServiceUnavailable(
                f"DynamoDB did not accept every link: {written + partial} of {len(new)} new link(s) were written "
                "and the rest are safe to send again",
                retry_after=error.retry_after,
                extra={"written": written + partial, "total": len(new)},
            ) from error
        record_event(assessment, actor=actor, event_type="documents_linked", count=len(links))
        written += len(links)
    return outcome


def document_unlink_many(*, actor: Actor, assessment_id: str, document_ids: list[str]) -> int:
    assessment = _linkable_assessment(actor, assessment_id)
    unique = _check_ids(document_ids)
    links = [DocumentLink(*DocumentLink.key(assessment_id, i)) for i in unique]
    batch_write(deletes=links)
    record_event(assessment, actor=actor, event_type="documents_unlinked", count=len(links))
    return len(links)
