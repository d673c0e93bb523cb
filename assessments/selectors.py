"""Reads of assessments and their collections. Each names its index; see docs/access-patterns.md.

Every selector takes the calling `Actor` and returns only what that actor may
see: another owner's assessment is NotFound, exactly like a missing one.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field

from documents import selectors as document_selectors
from documents.models import Document
from tra.dynamo.cursor import decode_cursor, encode_cursor
from tra.dynamo.models import TableModel
from tra.dynamo.pagination import Page, query_page
from tra.errors import Forbidden, NotFound, ValidationFailed
from tra.http.auth import Actor

from .models import (
    ASSESSMENT,
    Assessment,
    AssessmentEvent,
    AssessmentState,
    DocumentLink,
    EvidenceVersion,
    Question,
    Review,
    TitleWord,
    status_key,
    title_words,
)

RECENT_EVENTS = 20
DETAIL_PAGE = 100  # links, questions and reviews on the detail's first page; the rest by cursor
# The states a review queue may list: only assessments that have been submitted reach them. A draft, or work
# in progress or archived without ever being submitted, is its owner's private work (see can_read); the
# by_status index does not project submitted_at, so those states cannot be filtered and are not queues.
QUEUE_STATES = ("submitted", "under_review", "approved", "rejected", "changes_requested")
HEAD_END = AssessmentEvent.collection_prefix()  # `#META` and the `DOC#` links sort before the events


@dataclass
class AssessmentDetail:
    """The assessment and the first page of each of its collections (events newest first), with
    the cursors of the next pages (None: that was all), which the list endpoints take."""

    assessment: Assessment
    questions: list[Question] = field(default_factory=list)
    links: list[DocumentLink] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    events: list[AssessmentEvent] = field(default_factory=list)
    questions_next_cursor: str | None = None
    links_next_cursor: str | None = None
    reviews_next_cursor: str | None = None
    events_next_cursor: str | None = None


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


def assessment_detail(
    *, actor: Actor, assessment_id: str, links_cursor: str | None = None, events_cursor: str | None = None
) -> AssessmentDetail:
    """T1: a bounded read whatever the assessment's history: four Queries (see `_load_detail`)."""
    detail = _load_detail(assessment_id, actor=actor, links_cursor=links_cursor, events_cursor=events_cursor)
    if detail is None:
        raise NotFound(f"assessment {assessment_id} not found", extra={"field": "assessment_id"})
    return detail


def assessment_detail_for_staff(
    *, actor: Actor, assessment_id: str, links_cursor: str | None = None, events_cursor: str | None = None
) -> AssessmentDetail:
    """T1 for the admin: staff see every assessment (reviewers act on them)."""
    if not actor.is_staff:
        raise Forbidden("the admin is for staff")
    detail = _load_detail(assessment_id, actor=None, links_cursor=links_cursor, events_cursor=events_cursor)
    if detail is None:
        raise NotFound(f"assessment {assessment_id} not found", extra={"field": "assessment_id"})
    return detail


def _load_detail(
    assessment_id: str, *, actor: Actor | None, links_cursor: str | None, events_cursor: str | None
) -> AssessmentDetail | None:
    """`pk = ASMT#<id> AND sk < "EVT#"` with Limit 1 + DETAIL_PAGE (the #META item, then the first
    links; with `links_cursor`, a GetItem and T7's page after it), access checked on #META before
    anything else is read; then T6 newest first with Limit RECENT_EVENTS (from `events_cursor`),
    T3 and T5 with Limit DETAIL_PAGE. At most 1 + 3 x DETAIL_PAGE + RECENT_EVENTS items."""
    try:
        pk = Assessment.key(assessment_id)[0]
    except ValueError:
        return None
    links_scope, events_scope = f"assessments.documents:{assessment_id}", f"assessments.events:{assessment_id}"
    decode_cursor(links_cursor, scope=links_scope)  # a bad cursor is a 400 before any read
    decode_cursor(events_cursor, scope=events_scope)
    if links_cursor is None:
        head = TableModel.query(pk, TableModel.sk < HEAD_END, limit=1 + DETAIL_PAGE, page_size=1 + DETAIL_PAGE)
        items = list(head)
        if not items or not isinstance(items[0], Assessment):
            return None
        assessment = items[0]
        links = [item for item in items[1:] if isinstance(item, DocumentLink)]
        more = len(items) == 1 + DETAIL_PAGE and head.last_evaluated_key
        links_page = Page(items=links, next_cursor=encode_cursor(more or None, scope=links_scope))
    else:
        try:
            assessment = Assessment.get(*Assessment.key(assessment_id))
        except Assessment.DoesNotExist:
            return None
        links_page = None
    if actor is not None and not can_read(actor, assessment):
        return None
    if links_page is None:
        links_page = _collection(DocumentLink, pk, scope=links_scope, cursor=links_cursor)
    events = _collection(
        AssessmentEvent,
        pk,
        scope=events_scope,
        cursor=events_cursor,
        limit=RECENT_EVENTS,
        scan_index_forward=False,
    )
    questions = _collection(Question, pk, scope=f"assessments.questions:{assessment_id}")
    reviews = _collection(Review, pk, scope=f"assessments.reviews:{assessment_id}")
    return AssessmentDetail(
        assessment=assessment,
        questions=questions.items,
        links=links_page.items,
        reviews=reviews.items,
        events=events.items,
        questions_next_cursor=questions.next_cursor,
        links_next_cursor=links_page.next_cursor,
        reviews_next_cursor=reviews.next_cursor,
        events_next_cursor=events.next_cursor,
    )


def _collection(model, pk: str, *, scope: str, cursor: str | None = None, limit: int = DETAIL_PAGE, **kwargs) -> Page:
    """One page of an item collection, as the collection's list endpoint pages it."""
    return query_page(
        model.query,
        pk,
        model.sk.startswith(model.collection_prefix()),
        scope=scope,
        limit=limit,
        cursor=cursor,
        **kwargs,
    )


def assessment_list_mine(
    *, actor: Actor, state: str | None = None, query: str | None = None, limit: int | None, cursor: str | None
) -> Page[Assessment]:
    """G1 (by_owner), G2 (by_owner_status) or G7 (title_search_by_owner / _by_owner_state)."""
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
    """G7: one Query of my title words, the state in the key when filtered; the rows are the
    words' projected list columns, so nothing else is read."""
    words = title_words(query)
    if not words:
        return Page(items=[], next_cursor=None)
    hits = query_page(
        *_word_query(_lead(words), owner_id=actor.user_id, state=state), scope=scope, limit=limit, cursor=cursor
    )
    return Page(items=_search_rows(hits.items, words), next_cursor=hits.next_cursor)


def _word_query(lead: str, *, owner_id: str | None, state: str | None) -> tuple:
    """The title-search index, hash key and key condition for a word prefix, an owner and a state:
    each filter is part of the key (G7, G8)."""
    if owner_id and state:
        prefix = TitleWord.state_word_prefix(state, lead)
        return TitleWord.by_owner_state_word.query, owner_id, TitleWord.state_word_sort.startswith(prefix)
    if owner_id:
        return TitleWord.by_owner_word.query, owner_id, TitleWord.word_sort.startswith(lead)
    if state:
        return TitleWord.by_state_word.query, TitleWord.state_bucket(state, lead), TitleWord.word_sort.startswith(lead)
    return TitleWord.by_word.query, lead[0], TitleWord.word_sort.startswith(lead)


def _lead(words: list[str]) -> str:
    """The word whose prefix the index is queried on: the longest, the likeliest to be the rarest."""
    return max(words, key=len)


def _search_rows(hits: list[TitleWord], words: list[str]) -> list[Assessment]:
    """The hits whose projected title has a word starting with each of `words`, once per assessment,
    as list rows. Words written before their list columns were (title null until `dynamo_backfill`
    rewrites them) are read from their assessments instead."""
    unique = list({hit.assessment_id: hit for hit in hits}.values())
    legacy = {item.assessment_id: item for item in assessments_by_ids([h.assessment_id for h in unique if not h.title])}
    rows = [hit.as_assessment() if hit.title else legacy.get(hit.assessment_id) for hit in unique]
    return [row for row in rows if row is not None and _titled(row.title, words)]


def _titled(title: str, words: list[str]) -> bool:
    return all(any(word.startswith(part) for word in title_words(title)) for part in words)


def assessments_titled(*, actor: Actor, words: list[str], lead: str, limit: int = 100) -> list[Assessment]:
    """G7 for a name a chat message gives: the actor's assessments with a title word starting with `lead`
    (the caller's most selective word; the first `limit` word hits); each of `words` must start one of
    the title's words. List columns only (from the index's projection)."""
    hits = TitleWord.by_owner_word.query(actor.user_id, TitleWord.word_sort.startswith(lead), limit=limit)
    return _search_rows(list(hits), words)


def assessments_by_ids(assessment_ids: list[str]) -> list[Assessment]:
    """BatchGetItem of #META items (100 keys a call), in the order given, duplicates dropped."""
    unique = list(dict.fromkeys(assessment_ids))
    found = {item.assessment_id: item for item in Assessment.batch_get([Assessment.key(i) for i in unique])}
    return [found[i] for i in unique if i in found]


# States a reviewer works through in arrival order: the admin's filter lists them oldest first, as
# the API's review queue does (other states, newest first).
ARRIVAL_ORDER_STATES = frozenset({AssessmentState.SUBMITTED.value, AssessmentState.UNDER_REVIEW.value})


def assessment_list_for_staff(
    *,
    actor: Actor,
    state: str | None = None,
    owner_id: str | None = None,
    query: str | None = None,
    limit: int | None,
    cursor: str | None,
) -> Page[Assessment]:
    """The admin change list, newest first - but a reviewer's queue state (submitted, under
    review) oldest first, as the API's review queue: each filter is an index.

    G8 (title_search / title_search_by_state across owners) for a search, G2 (by_owner_status) for owner and
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
        hits = query_page(*_word_query(_lead(words), owner_id=owner_id, state=state), **common)
        return Page(items=_search_rows(hits.items, words), next_cursor=hits.next_cursor)
    if owner_id and state:
        condition = Assessment.owner_status_sort.startswith(Assessment.owner_status_sort_prefix(state))
        return query_page(Assessment.by_owner_status.query, owner_id, condition, scan_index_forward=False, **common)
    if owner_id:
        condition = Assessment.owner_sort.startswith(Assessment.owner_sort_prefix())
        return query_page(Assessment.by_owner.query, owner_id, condition, scan_index_forward=False, **common)
    if state:
        oldest_first = state in ARRIVAL_ORDER_STATES
        return query_page(Assessment.by_status.query, status_key(state), scan_index_forward=oldest_first, **common)
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


def question_get(
    *, actor: Actor, assessment_id: str, question_id: str, consistent: bool = True
) -> tuple[Assessment, Question]:
    """T2 + T4: the assessment (for access) and the question, two GetItems (the question strongly
    consistent unless `consistent=False`: a suggestion, stored by ADD on the version, needs no more)."""
    assessment = assessment_get(actor=actor, assessment_id=assessment_id)
    try:
        return assessment, Question.get(*Question.key(assessment_id, question_id), consistent_read=consistent)
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


def links_of(assessment: Assessment, *, consistent: bool = False) -> list[DocumentLink]:
    """T7 over every page: the assessment's document links, for services and batch jobs (strongly
    consistent when a retrieval index is built from them: it must hold every committed link)."""
    return list(
        DocumentLink.query(
            assessment.pk,
            DocumentLink.sk.startswith(DocumentLink.collection_prefix()),
            consistent_read=consistent,
        )
    )


def evidence_version(assessment_id: str) -> int:
    """T7b: the assessment's evidence version (GetItem of its `RETRIEVAL` item, 1 item, strongly
    consistent: the next suggestion after a link must see the link). 0 before the first link."""
    try:
        stamp = EvidenceVersion.get(*EvidenceVersion.key(assessment_id), consistent_read=True)
    except EvidenceVersion.DoesNotExist:
        return 0
    return int(stamp.evidence_version or 0)


def links_among(assessment: Assessment, document_ids: list[str]) -> set[str]:
    """T8's check: which of these documents are already linked (BatchGetItem of the link keys)."""
    keys = [DocumentLink.key(assessment.assessment_id, i) for i in dict.fromkeys(document_ids)]
    return {link.document_id for link in DocumentLink.batch_get(keys)}


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
