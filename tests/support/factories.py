"""Small builders for model instances with realistic defaults (tests only)."""

import uuid
from datetime import timedelta

from assessments.models import Assessment, AssessmentEvent, DocumentLink, Question, Review
from chat.models import ChatMessage, ChatSession
from documents.models import Document, DocumentChunk
from tra.dynamo.clock import utc_now


def new_id() -> str:
    return uuid.uuid4().hex


def assessment(*, owner_id: str = "1", title: str = "Acme Cloud hosting review", state: str = "draft", age: int = 0):
    moment = utc_now() - timedelta(seconds=age)
    item = Assessment.build(
        assessment_id=new_id(),
        owner_id=owner_id,
        title=title,
        state=state,
        created_at=moment,
        updated_at=moment,
    )
    item.save()
    for word in item.companion_items():  # its title words, with its list columns
        word.save()
    return item


def question(parent: Assessment, *, order: int = 1, text: str = "Do you encrypt data at rest?"):
    now = utc_now()
    item = Question.build(
        assessment_id=parent.assessment_id,
        question_id=Question.new_id(order),
        order=order,
        text=text,
        created_at=now,
        updated_at=now,
    )
    item.save()
    return item


def review(parent: Assessment, *, reviewer_id: str = "2", decision: str = "approve"):
    item = Review.build(
        assessment_id=parent.assessment_id,
        review_id=new_id(),
        created_at=utc_now(),
        reviewer_id=reviewer_id,
        decision=decision,
    )
    item.save()
    return item


def event(parent: Assessment, *, event_type: str = "created", actor_id: str = "1"):
    item = AssessmentEvent.build(
        assessment_id=parent.assessment_id,
        event_id=new_id(),
        created_at=utc_now(),
        event_type=event_type,
        actor_id=actor_id,
    )
    item.save()
    return item


def link(parent: Assessment, document: Document, *, linked_by: str = "1"):
    item = DocumentLink.build(
        assessment_id=parent.assessment_id, document_id=document.document_id, linked_by=linked_by, linked_at=utc_now()
    )
    item.save()
    return item


def document(
    *, owner_id: str = "1", filename: str = "soc2-report.pdf", status: str = "uploaded", age: int = 0, save: bool = True
):
    moment = utc_now() - timedelta(seconds=age)
    item = Document.build(
        document_id=new_id(),
        owner_id=owner_id,
        filename=filename,
        content_type="application/pdf",
        size_bytes=1024,
        sha256=uuid.uuid4().hex * 2,
        storage_key=f"documents/{owner_id}/{filename}",
        status=status,
        created_at=moment,
        updated_at=moment,
    )
    if save:
        item.save()
    return item


def chunk(parent: Document, *, number: int = 0, text: str = "Data at rest is encrypted with AES-256.", save=True):
    item = DocumentChunk.build(
        document_id=parent.document_id, number=number, text=text, start_offset=0, end_offset=len(text)
    )
    if save:
        item.save()
    return item


def chat_session(*, owner_id: str = "1", assessment_id: str | None = None):
    now = utc_now()
    item = ChatSession.build(
        session_id=new_id(),
        owner_id=owner_id,
        title="Questions about Acme",
        assessment_id=assessment_id,
        created_at=now,
        updated_at=now,
    )
    item.save()
    return item


def chat_message(parent: ChatSession, *, role: str = "user", content: str = "summarize the SOC 2 report"):
    item = ChatMessage.build(
        session_id=parent.session_id, message_id=new_id(), created_at=utc_now(), role=role, content=content
    )
    item.save()
    return item
