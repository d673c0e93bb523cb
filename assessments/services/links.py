"""Links between an assessment and its evidence documents, written in bulk.

A link is an adjacency item in the assessment's partition (`ASMT#<id>` / `DOC#<doc_id>`):
linking puts it, unlinking deletes it, and neither touches the assessment's `#META` or
another link, so these writes can never overwrite a concurrent edit. Each batch of them
moves the assessment's evidence version (`EvidenceVersion`) in the same transaction: the
key of its retrieval index (assessments/services/evidence.py).
"""

from collections.abc import Sequence
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException

from documents import selectors as document_selectors
from tra.dynamo.clock import utc_now
from tra.dynamo.writes import transaction
from tra.errors import InvalidState, NotFound, ServiceUnavailable, ValidationFailed
from tra.http.auth import Actor

from .. import selectors
from ..models import Assessment, DocumentLink, EvidenceVersion
from .workflow import EDITABLE, State, audit_event

MAX_LINKS_PER_CALL = 1000
# Links per TransactWriteItems (+ its audit event + the evidence version: 27 of DynamoDB's 100 actions).
# Larger batches would save calls but not write units; 25 keeps an event per 25 links, as before, and
# a moderate transaction for servers whose cost grows with its size (moto copies the table per action).
LINKS_PER_TRANSACTION = 25


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
    its own item, so the writes never touch the assessment or another link.

    Documents already linked are left alone and counted apart. Each batch of at most
    LINKS_PER_TRANSACTION links is one TransactWriteItems with its `documents_linked` event
    and the move of the assessment's evidence version (_changes): a run stopped half-way
    has an audit event and a new version for exactly the batches it wrote, and resending
    is safe. `dry_run` checks everything and writes nothing."""
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
    links = [
        DocumentLink.build(assessment_id=assessment_id, document_id=i, linked_by=actor.user_id, linked_at=now)
        for i in new
    ]
    _changes(assessment, actor=actor, event_type="documents_linked", puts=links, verb="link")
    return outcome


def document_unlink_many(*, actor: Actor, assessment_id: str, document_ids: list[str]) -> int:
    """Unlink documents (deleting a link that is not there is harmless), in transactions as
    document_link_many's, each with its `documents_unlinked` event and a new evidence version."""
    assessment = _linkable_assessment(actor, assessment_id)
    unique = _check_ids(document_ids)
    links = [DocumentLink(*DocumentLink.key(assessment_id, i)) for i in unique]
    _changes(assessment, actor=actor, event_type="documents_unlinked", deletes=links, verb="unlink")
    return len(links)


def _changes(
    assessment: Assessment,
    *,
    actor: Actor,
    event_type: str,
    verb: str,
    puts: Sequence[DocumentLink] = (),
    deletes: Sequence[DocumentLink] = (),
) -> None:
    """Write link changes LINKS_PER_TRANSACTION at a time, each batch one TransactWriteItems with
    its audit event (the witness: a retry of a batch that committed finds it) and ADD 1 to the
    assessment's evidence version, so that no retrieval index outlives the link set it was built
    from. A failure after some batches is a 503 saying how many were written (the rest are safe
    to send again). Transactions cost two write units per item where BatchWriteItem cost one."""
    changes = [("put", link) for link in puts] + [("delete", link) for link in deletes]
    written = 0
    for start in range(0, len(changes), LINKS_PER_TRANSACTION):
        batch = changes[start : start + LINKS_PER_TRANSACTION]
        event = audit_event(assessment, actor=actor, event_type=event_type, now=utc_now(), count=len(batch))
        try:
            with transaction(witness=event) as write:
                for action, link in batch:
                    if action == "put":
                        write.save(link)
                    else:
                        write.delete(link)
                write.save(event)
                write.update(
                    EvidenceVersion(*EvidenceVersion.key(assessment.assessment_id)),
                    actions=[
                        EvidenceVersion.entity_type.set(EvidenceVersion),
                        EvidenceVersion.evidence_version.add(1),
                    ],
                )
        except (ServiceUnavailable, PynamoDBException, BotoCoreError, ClientError) as error:
            raise ServiceUnavailable(
                f"DynamoDB did not accept every {verb}: {written} of {len(changes)} were written "
                "and the rest are safe to send again",
                retry_after=getattr(error, "retry_after", None) or 2,
                extra={"written": written, "total": len(changes)},
            ) from error
        written += len(batch)
