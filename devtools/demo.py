"""Realistic demo data, bulk-written: owners, assessments in every state with questions,
answers, reviews and events; documents with text passages, linked to the assessments of
their own owner about the same vendor; chat sessions about some of the assessments.
Every timestamp lies in the past.

Every item is new (fresh ids), so it all goes through BatchWriteItem (25 per call)
and 100,000 items take minutes. Users are Django users (password "demo-password-1").
"""

import math
import random
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from assessments.models import (
    Assessment,
    AssessmentEvent,
    AssessmentState,
    DocumentLink,
    Question,
    QuestionStatus,
    Review,
)
from chat.models import ChatMessage, ChatSession, Intent
from documents.models import Document, DocumentChunk, DocumentFingerprint, DocumentStatus
from tra.dynamo.clock import utc_now
from tra.dynamo.writes import BATCH_WRITE_LIMIT, batch_write

PASSWORD = "demo-password-1"
VENDORS = ["Acme Cloud", "Globex Payroll", "Initech CRM", "Umbrella Analytics", "Stark Storage", "Wayne Logistics",
           "Hooli Mail", "Pied Piper Compression", "Vandelay Imports", "Soylent Foods"]  # fmt: skip
SYSTEMS = ["hosting", "payroll", "customer data platform", "email", "backups", "identity provider", "data warehouse"]
CONTROLS = [
    ("Is customer data encrypted at rest?", "All customer data at rest is encrypted with AES-256; keys rotate yearly."),
    ("Is MFA enforced for administrators?", "Multi-factor authentication (MFA) is enforced for all administrators."),
    ("How often are backups tested?", "Backups are taken nightly and a restore is tested every quarter."),
    ("Is there an incident response plan?", "An incident response plan is reviewed annually and tested twice a year."),
    ("Are penetration tests performed?", "An independent penetration test is performed every year."),
    ("Is access reviewed periodically?", "User access to production is reviewed every quarter by system owners."),
    ("Where is data hosted?", "Data is hosted in two EU regions with synchronous replication."),
    ("Is a SOC 2 Type II report available?", "A SOC 2 Type II report covering the last twelve months is available."),
    ("Are vendors assessed?", "Sub-processors are assessed before onboarding and re-assessed every year."),
    ("Is logging centralised?", "Security logs are centralised and retained for one year."),
]
DOCUMENT_KINDS = ["SOC 2 Type II report", "Information security policy", "Penetration test summary",
                  "Business continuity plan", "Access control policy"]  # fmt: skip
STATE_WEIGHTS = {
    AssessmentState.DRAFT: 3,
    AssessmentState.IN_PROGRESS: 4,
    AssessmentState.SUBMITTED: 3,
    AssessmentState.UNDER_REVIEW: 2,
    AssessmentState.APPROVED: 3,
    AssessmentState.REJECTED: 1,
    AssessmentState.CHANGES_REQUESTED: 2,
}


@dataclass
class SeedResult:
    users: int
    assessments: int
    documents: int
    items: int
    batch_calls: int
    chat_sessions: int = 0


def _user(username: str, *, reviewer: bool = False):
    users = get_user_model()
    user, created = users.objects.get_or_create(username=username, defaults={"is_staff": reviewer})
    if created:
        user.set_password(PASSWORD)
        user.save()
    if reviewer:
        user.user_permissions.add(Permission.objects.get(codename="review_assessments"))
    return user


def seed(*, assessments: int, documents: int, owners: int = 5, seed_value: int | None = None, dry_run=False):
    rng = random.Random(seed_value)
    owner_users = [_user(f"owner{n}") for n in range(1, owners + 1)] if not dry_run else []
    reviewer = _user("reviewer", reviewer=True) if not dry_run else None
    owner_ids = [str(user.pk) for user in owner_users] or [str(n) for n in range(1, owners + 1)]
    reviewer_id = str(reviewer.pk) if reviewer else "0"
    now = utc_now()
    items: list = []
    # (owner, vendor) -> documents: an assessment links only its owner's evidence about its vendor.
    documents_by_vendor: dict[tuple[str, str], list[str]] = {}
    chat_sessions = 0

    for n in range(documents):
        owner_id = rng.choice(owner_ids)
        document_id = uuid.uuid4().hex
        kind = rng.choice(DOCUMENT_KINDS)
        vendor = rng.choice(VENDORS)
        passages = [f"{vendor} {kind}. " + " ".join(rng.sample([text for _, text in CONTROLS], 4)) for _ in range(3)]
        sha = uuid.uuid4().hex + uuid.uuid4().hex
        moment = now - timedelta(days=rng.randint(0, 90), minutes=n)
        items.append(
            Document.build(
                document_id=document_id, owner_id=owner_id, filename=f"{_slug(vendor)}-{_slug(kind)}-{n + 1}.txt",
                content_type="text/plain", size_bytes=sum(len(p) for p in passages), sha256=sha,
                storage_key=f"demo/{document_id}.txt", status=DocumentStatus.EXTRACTED.value,
                chunk_count=len(passages), created_at=moment, updated_at=moment,
            )
        )  # fmt: skip
        items.append(DocumentFingerprint.build(owner_id=owner_id, sha256=sha, document_id=document_id, created_at=now))
        offset = 0
        for number, text in enumerate(passages):
            items.append(
                DocumentChunk.build(
                    document_id=document_id,
                    number=number,
                    text=text,
                    start_offset=offset,
                    end_offset=offset + len(text),
                )
            )
            offset += len(text) + 2
        documents_by_vendor.setdefault((owner_id, vendor), []).append(document_id)

    states = list(STATE_WEIGHTS)
    weights = list(STATE_WEIGHTS.values())
    for n in range(assessments):
        owner_id = rng.choice(owner_ids)
        assessment_id = uuid.uuid4().hex
        # Every state at least once (the first few), then as often as in a real queue.
        state = states[n] if n < len(states) else rng.choices(states, weights)[0]
        # Mostly about a vendor the owner holds evidence for, so there is something to link.
        held = [vendor for owner, vendor in documents_by_vendor if owner == owner_id]
        vendor = rng.choice(held) if held and rng.random() < 0.8 else rng.choice(VENDORS)
        title = f"{vendor} {rng.choice(SYSTEMS)} review {n + 1}"
        created = now - timedelta(days=rng.randint(1, 120), minutes=n)
        # Somewhere between creation and now: never in the future.
        updated = created + (now - created) * rng.uniform(0.05, 0.95)
        submitted = state not in (AssessmentState.DRAFT, AssessmentState.IN_PROGRESS)
        assessment = Assessment.build(
            assessment_id=assessment_id, owner_id=owner_id, title=title, state=state.value,
            description=f"Annual third-party risk assessment: {title}.", metadata={"tier": rng.choice(["1", "2", "3"])},
            created_at=created, updated_at=updated, submitted_at=updated if submitted else None,
        )  # fmt: skip
        items.append(assessment)
        items += assessment.title_word_items(version=1)  # batch_write stores the assessment at version 1
        items.append(_event(assessment_id, owner_id, "created", created, None, AssessmentState.DRAFT.value))
        for order, (question, answer) in enumerate(rng.sample(CONTROLS, rng.randint(5, len(CONTROLS)))):
            answered = state != AssessmentState.DRAFT and rng.random() < 0.8
            items.append(
                Question.build(
                    assessment_id=assessment_id, question_id=Question.new_id(order), order=order, text=question,
                    answer=answer if answered else None, answered_by=owner_id if answered else None,
                    answered_at=updated if answered else None,
                    status=(QuestionStatus.ANSWERED if answered else QuestionStatus.UNANSWERED).value,
                    created_at=created, updated_at=updated,
                )
            )  # fmt: skip
        evidence = documents_by_vendor.get((owner_id, vendor), [])
        for document_id in rng.sample(evidence, min(2, len(evidence))):
            items.append(
                DocumentLink.build(assessment_id=assessment_id, document_id=document_id, linked_by=owner_id,
                                   linked_at=created)
            )  # fmt: skip
        if submitted:
            items.append(_event(assessment_id, owner_id, "submit", updated, "in_progress", "submitted"))
        decision = {
            AssessmentState.APPROVED: "approve",
            AssessmentState.REJECTED: "reject",
            AssessmentState.CHANGES_REQUESTED: "request_changes",
        }.get(state)
        if decision:
            items.append(
                Review.build(assessment_id=assessment_id, review_id=uuid.uuid4().hex, created_at=updated,
                             reviewer_id=reviewer_id, decision=decision,
                             comment="" if decision == "approve" else "Please attach the latest SOC 2 report.")
            )  # fmt: skip
            items.append(_event(assessment_id, reviewer_id, "reviewed", updated, "submitted", state.value))
        if n % 3 == 0:  # a chat about every third assessment
            items += _chat(owner_id, assessment_id, title, len(evidence[:2]), updated + (now - updated) / 2)
            chat_sessions += 1

    # BatchWriteItem takes at most 25 items: a dry run reports the calls a real run would make.
    calls = math.ceil(len(items) / BATCH_WRITE_LIMIT) if dry_run else batch_write(puts=items)
    return SeedResult(
        users=len(owner_users) + (1 if reviewer else 0),
        assessments=assessments,
        documents=documents,
        items=len(items),
        batch_calls=calls,
        chat_sessions=chat_sessions,
    )


def _slug(text: str) -> str:
    return "-".join(text.lower().split())


def _chat(owner_id: str, assessment_id: str, title: str, linked: int, moment) -> list:
    """A chat session tied to the assessment: one question and its answer."""
    session_id = uuid.uuid4().hex
    asked, answered = moment, moment + timedelta(seconds=2)
    session = ChatSession.build(
        session_id=session_id, owner_id=owner_id, title=f"Evidence for {title}", assessment_id=assessment_id,
        message_count=2, created_at=asked, updated_at=answered,
    )  # fmt: skip
    question = ChatMessage.build(
        session_id=session_id, message_id=uuid.uuid4().hex, created_at=asked, role="user",
        content="which documents are linked?",
    )  # fmt: skip
    reply = ChatMessage.build(
        session_id=session_id, message_id=uuid.uuid4().hex, created_at=answered, role="assistant",
        content=f"{linked} document(s) are linked to {title}.", intent=Intent.LIST_DOCUMENTS.value, tier="regex",
    )  # fmt: skip
    return [session, question, reply]


def _event(assessment_id: str, actor_id: str, event_type: str, moment, from_state, to_state) -> AssessmentEvent:
    return AssessmentEvent.build(
        assessment_id=assessment_id, event_id=uuid.uuid4().hex, created_at=moment, event_type=event_type,
        actor_id=actor_id, from_state=from_state, to_state=to_state,
    )  # fmt: skip
