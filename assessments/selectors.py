"""Reads of assessments and their collections. Each names its index; see docs/access-patterns.md.

Every selector takes the calling `Actor` and returns only what that actor may
see: another owner's assessment is NotFound, exactly like a missing one.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field

from documents import selectors as document_selectors
from documents.models import Document
from tra.dynamo.models import TableModel
from tra.dynamo.pagination import Page, query_page
from tra.errors import Forbidden, NotFound, ValidationFailed
from tra.http.auth import Actor

from .models import (
    ASSESSMENT,
    Assessment,
    AssessmentEvent,
    DocumentLink,
    Question,
    Review,
    TitleWord,
    status_key,
    title_words,
)

RECENT_EVENTS = 20
# The states a review queue may list: only assessments that have been submitted reach them. A draft, or work
# in progress or archived without ever being submitted, is its owner's private work (see can_read); the
# by_status index does not project submitted_at, so those states cannot be filtered and are not queues.
QUEUE_STATES = ("submitted", "under_review", "approved", "rejected", "changes_requested")
DETAIL_END = TitleWord.collection_prefix()  # the detail Query stops before the title-search words


@dataclass
class AssessmentDetail:
    assessment: Assessment
    questions: list[Question] = field(default_factory=list)
    links: list[DocumentLink] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    events: list[AssessmentEvent] = field(default_factory=list)


def can_read(actor: Actor, assessment: Assessment) -> bool:
    """Owners read their own; reviewers read any assessment once it has been submitted
    (a draft nobody has submitted is its owner's private work)."""
    return assessment.owner_id == actor.user_id or (actor.is_reviewer and assessment.submitted_at is not None)


def assessment_get(*, actor: Actor, assessment_id: str, consistent: bool = False) -> Assessment:
    """T2: GetItem of the #META item; NotFound unless the actor owns it or reviews."""
    try:
        assessment = Assessment.get(*Assessment.key(assessment_id), consistent_read=consistent)
    except (Assessment.DoesNotExist, ValueError):
        assessment = None
    if assessment is None or not can_read(actor, assessment):
        raise NotFound(f"assessment {assessment_id} not found", extra={"field": "assessment_id"})
    return assessment


def assessment_current(assessment_id: str) -> Assessment | None:
    """T2, strongly consistent and without an access check, for services re-reading after a
    failed write and for batch jobs run by an operator: the #META item, or None."""
    try:
        return Assessment.get(*Assessment.key(assessment_id), consistent_read=True)
    except (Assessment.DoesNotExist, ValueError):
        return None


def assessment_get_owned(*, actor: Actor, assessment_id: str, consistent: bool = True) -> Assessment:
    """As assessment_get, for changes only the owner may make (a reviewer gets 403, others 404)."""
    assessment = assessment_get(actor=actor, assessment_id=assessment_id, consistent=consistent)
    if assessment.owner_id != actor.user_id:
        raise Forbidden("only the assessment's owner may change it")
    return assessment


def assessment_detail(*, actor: Actor, assessment_id: str) -> AssessmentDetail:
    """T1: one Query of the item collection, `pk = ASMT#<id> AND sk < "WORD#"`."""
    detail = _load_detail(assessment_id)
    if detail is None or not can_read(actor, detail.assessment):
        raise NotFound(f"assessment {assessment_id} not found", extra={"field": "assessment_id"})
    return detail


def assessment_detail_for_staff(*, actor: Actor, assessment_id: str) -> AssessmentDetail:
    """T1 for the admin: staff see every assessment (reviewers act on them)."""
    if not actor.is_staff:
        raise Forbidden("the admin is for staff")
    detail = _load_detail(assessment_id)
    if detail is None:
        raise NotFound(f"assessment {assessment_id} not found", extra={"field": "assessment_id"})
    return detail


def _load_detail(assessment_id: str) -> AssessmentDetail | None:
    try:
        pk = Assessment.key(assessment_id)[0]
    except ValueError:
        return None
    detail = None
    for item in TableModel.query(pk, TableModel.sk < DETAIL_END):
        if isinstance(item, Assessment):
            detail = AssessmentDetail(assessment=item)
        elif detail is None:
            continue
        elif isinstance(item, Question):
            detail.questions.append(item)
        elif isinstance(item, DocumentLink):
            detail.links.append(item)
        elif isinstance(item, Review):
            detail.reviews.append(item)
        elif isinstance(item, AssessmentEvent):
            detail.events.append(item)
    if detail is not None:
        detail.events = list(reversed(detail.events[-RECENT_EVENTS:]))  # newest first
    return detail


def assessment_list_mine(
    *, actor: Actor, state: str | None = None, query: str | None = None, limit: int | None, cursor: str | None
) -> Page[Assessment]:
    """G1 (by_owner), G2 (by_owner_status) or G7 (title_words_by_owner + BatchGetItem)."""
    scope = f"assessments.mine:{actor.user_id}:{state or ''}:{query or ''}"
    if query:
        return _search(actor=actor, state=state, query=query, limit=limit, cursor=cursor, scope=scope)
    if state:
        condition = Assessment.owner_status_sort.startswith(Assessment.owner_status_sort_prefix(state))
        index = Assessment.by_owner_status
    else:
        condition = Assessment.owner_sort.startswith(Assessment.owner_sort_prefix())
        index = Assessment.by_owner
    return query_page(
        index.query, actor.user_id, condition, scan_index_forward=False, scope=scope, limit=limit, cursor=cursor
    )


def _search(*, actor: Actor, state: str | None, query: str, limit: int | None, cursor: str | None, scope: str):
    words = title_words(query)
    if not words:
        return Page(items=[], next_cursor=None)
    # The longest word is the most selective prefix; the others filter the page.
    lead = max(words, key=len)
    hits = query_page(
        TitleWord.by_owner_word.query,
        actor.user_id,
        TitleWord.word_sort.startswith(lead),
        scope=scope,
        limit=limit,
        cursor=cursor,
    )
    assessments = assessments_by_ids([hit.assessment_id for hit in hits.items])
    matched = [
        assessment
        for assessment in assessments
        if assessment.owner_id == actor.user_id
        and (state is None or assessment.state == state)
        and all(any(word.startswith(part) for word in title_words(assessment.title)) for part in words)
    ]
    return Page(items=matched, next_cursor=hits.next_cursor)


def assessments_by_ids(assessment_ids: list[str]) -> list[Assessment]:
    """BatchGetItem of #META items (100 keys a call), in the order given, duplicates dropped."""
    unique = list(dict.fromkeys(assessment_ids))
    found = {item.assessment_id: item for item in Assessment.batch_get([Assessment.key(i) for i in unique])}
    return [found[i] for i in unique if i in found]


def assessment_list_for_staff(
    *,
    actor: Actor,
    state: str | None = None,
    owner_id: str | None = None,
    query: str | None = None,
    limit: int | None,
    cursor: str | None,
) -> Page[Assessment]:
    """The admin change list, newest first: each filter is an index.

    G8 (title_words across owners) for a search, G2 (by_owner_status) for owner and
    state, G6 (by_owner) for an owner, G5 (by_status) for a state, else G4 (by_type).
    """
    if not actor.is_staff:
        raise Forbidden("the admin is for staff")
    scope = f"admin.assessments:{state or ''}:{owner_id or ''}:{query or ''}"
    common = {"scope": scope, "limit": limit, "cursor": cursor}
    if query:
        words = title_words(query)
        if not words:
            return Page(items=[], next_cursor=None)
        lead = max(words, key=len)
        hits = query_page(TitleWord.by_word.query, lead[0], TitleWord.word_sort.startswith(lead), **common)
        matched = [
            assessment
            for assessment in assessments_by_ids([hit.assessment_id for hit in hits.items])
            if (state is None or assessment.state == state)
            and (owner_id is None or assessment.owner_id == owner_id)
            and all(any(word.startswith(part) for word in title_words(assessment.title)) for part in words)
        ]
        return Page(items=matched, next_cursor=hits.next_cursor)
    if owner_id and state:
        condition = Assessment.owner_status_sort.startswith(Assessment.owner_status_sort_prefix(state))
        return query_page(Assessment.by_owner_status.query, owner_id, condition, scan_index_forward=False, **common)
    if owner_id:
        condition = Assessment.owner_sort.startswith(Assessment.owner_sort_prefix())
        return query_page(Assessment.by_owner.query, owner_id, condition, scan_index_forward=False, **common)
    if state:
        return query_page(Assessment.by_status.query, status_key(state), scan_index_forward=False, **common)
    return query_page(Assessment.by_type.query, ASSESSMENT, scan_index_forward=False, **common)


def review_queue(*, actor: Actor, state: str, limit: int | None, cursor: str | None) -> Page[Assessment]:
    """G3: by_status, `status_key = ASMT#<state>`, oldest first."""
    if not actor.is_reviewer:
        raise Forbidden("the review queue is for reviewers")
    if state not in QUEUE_STATES:
        raise ValidationFailed(f"state must be one of {', '.join(QUEUE_STATES)}", extra={"field": "state"})
    return query_page(
        Assessment.by_status.query,
        status_key(state),
        scan_index_forward=True,
        scope=f"assessments.queue:{state}",
        limit=limit,
        cursor=cursor,
    )


def events_list(*, actor: Actor, assessment_id: str, limit: int | None, cursor: str | None) -> Page[AssessmentEvent]:
    """T6: `pk = ASMT#<id> AND begins_with(sk, "EVT#")`, newest first."""
    assessment = assessment_get(actor=actor, assessment_id=assessment_id)
    return query_page(
        AssessmentEvent.query,
        assessment.pk,
        AssessmentEvent.sk.startswith(AssessmentEvent.collection_prefix()),
        scan_index_forward=False,
        scope=f"assessments.events:{assessment_id}",
        limit=limit,
        cursor=cursor,
    )


def questions_list(*, actor: Actor, assessment_id: str, limit: int | None, cursor: str | None) -> Page[Question]:
    """T3: `pk = ASMT#<id> AND begins_with(sk, "Q#")`, questionnaire order."""
    assessment = assessment_get(actor=actor, assessment_id=assessment_id)
    return query_page(
        Question.query,
        assessment.pk,
        Question.sk.startswith(Question.collection_prefix()),
        scope=f"assessments.questions:{assessment_id}",
        limit=limit,
        cursor=cursor,
    )


def question_get(*, actor: Actor, assessment_id: str, question_id: str) -> tuple[Assessment, Question]:
    """T2 + T4: the assessment (for access) and the question, two GetItems."""
    assessment = assessment_get(actor=actor, assessment_id=assessment_id)
    try:
        return assessment, Question.get(*Question.key(assessment_id, question_id), consistent_read=True)
    except (Question.DoesNotExist, ValueError):
        raise NotFound(f"question {question_id} not found", extra={"field": "question_id"}) from None


def question_current(*, assessment_id: str, question_id: str) -> Question:
    """T4, strongly consistent and without an access check, for services: the question as
    stored now (after a write, or a failed version condition). Raises Question.DoesNotExist."""
    return Question.get(*Question.key(assessment_id, question_id), consistent_read=True)


def last_question_order(assessment: Assessment) -> int:
    """T3 reversed with Limit 1: the highest order so far, or -1."""
    for question in Question.query(
        assessment.pk, Question.sk.startswith(Question.collection_prefix()), scan_index_forward=False, limit=1
    ):
        return int(question.order)
    return -1


def reviews_list(*, actor: Actor, assessment_id: str, limit: int | None, cursor: str | None) -> Page[Review]:
    """T5: `pk = ASMT#<id> AND begins_with(sk, "REV#")`, oldest first."""
    assessment = assessment_get(actor=actor, assessment_id=assessment_id)
    return query_page(
        Review.query,
        assessment.pk,
        Review.sk.startswith(Review.collection_prefix()),
        scope=f"assessments.reviews:{assessment_id}",
        limit=limit,
        cursor=cursor,
    )


def title_word_items(assessment: Assessment) -> list[TitleWord]:
    """T9: the assessment's search words."""
    return list(TitleWord.query(assessment.pk, TitleWord.sk.startswith(TitleWord.collection_prefix())))


def linked_documents(*, actor: Actor, assessment_id: str, limit: int | None, cursor: str | None) -> Page[DocumentLink]:
    """T7: `pk = ASMT#<id> AND begins_with(sk, "DOC#")`."""
    assessment = assessment_get(actor=actor, assessment_id=assessment_id)
    return query_page(
        DocumentLink.query,
        assessment.pk,
        DocumentLink.sk.startswith(DocumentLink.collection_prefix()),
        scope=f"assessments.documents:{assessment_id}",
        limit=limit,
        cursor=cursor,
    )


def links_of(assessment: Assessment) -> list[DocumentLink]:
    """T7 over every page: the assessment's document links, for services and batch jobs."""
    return list(DocumentLink.query(assessment.pk, DocumentLink.sk.startswith(DocumentLink.collection_prefix())))


def assessment_documents(links: list[DocumentLink]) -> list[tuple[DocumentLink, Document | None]]:
    """T7's second step: the linked documents' #META items (BatchGetItem), in link order."""
    documents = document_selectors.documents_by_ids([link.document_id for link in links])
    return [(link, documents.get(link.document_id)) for link in links]


def is_linked(document_id: str) -> bool:
    """G9 with Limit 1: does any assessment use this document?"""
    return any(True for _ in DocumentLink.by_document.query(document_id, limit=1))


def document_assessments(
    *, actor: Actor, document_id: str, limit: int | None, cursor: str | None
) -> tuple[list[Assessment], str | None]:
    """G9 + BatchGetItem: the assessments (that the actor may read) which use the actor's document."""
    document_selectors.document_get(actor=actor, document_id=document_id)
    links = query_page(
        DocumentLink.by_document.query,
        document_id,
        scope=f"documents.assessments:{document_id}",
        limit=limit,
        cursor=cursor,
    )
    found = assessments_by_ids([link.assessment_id for link in links.items])
    return [assessment for assessment in found if can_read(actor, assessment)], links.next_cursor


def document_assessments_for_staff(*, actor: Actor, document_id: str, limit: int = 100) -> list[Assessment]:
    """G9 + BatchGetItem: the assessments that use the document (first `limit`), for the admin."""
    if not actor.is_staff:
        raise Forbidden("the admin is for staff")
    links = list(DocumentLink.by_document.query(document_id, limit=limit))
    return assessments_by_ids([link.assessment_id for link in links])


def assessments_for_export(*, state: str | None, since) -> Iterator[Assessment]:
    """Every assessment (in `state`) updated since `since`, oldest first, page by page.

    G5 (by_status) for a state, G4 (by_type) otherwise; `since` is a range-key
    condition on updated_at, so older items are never read."""
    condition = Assessment.updated_at >= since if since else None
    if state:
        yield from Assessment.by_status.query(status_key(state), condition, page_size=100)
    else:
        yield from Assessment.by_type.query(ASSESSMENT, condition, page_size=100)


def questions_of(assessment: Assessment) -> list[Question]:
    """T3 over every page, for batch jobs."""
    return list(Question.query(assessment.pk, Question.sk.startswith(Question.collection_prefix())))
