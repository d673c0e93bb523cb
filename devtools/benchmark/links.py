"""Section 2: linking 1,000 documents to an assessment, batched against one write each.

The design is the service the API and `link_documents` use
(assessments.services.document_link_many): a BatchGetItem of the documents to
check ownership and one of the link keys (100 keys a call), then one
TransactWriteItems per 25 new adjacency items, with that batch's audit event and
the move of the assessment's evidence version (the key of its retrieval index).
The naive baseline writes each link with its own UpdateItem and checks nothing,
and moves no version - it is generous to the baseline. Run on DynamoDB Local when
installed (the benchmark's run() says why not moto).
"""

import hashlib
import time
import uuid
from dataclasses import dataclass

from assessments import services as assessment_services
from assessments.models import DocumentLink
from documents.models import Document, DocumentStatus
from tra.dynamo.clock import utc_now
from tra.dynamo.metering import meter
from tra.dynamo.writes import batch_write
from tra.http.auth import Actor


@dataclass
class LinkFigures:
    calls: int
    calls_by_operation: dict[str, int]
    seconds: float
    links: int


@dataclass
class LinkResult:
    documents: int
    batched: LinkFigures
    single: LinkFigures
    backend: str = ""  # the DynamoDB server it ran on


def _documents(actor: Actor, count: int) -> list[str]:
    now = utc_now()
    documents = []
    for n in range(count):
        document_id = uuid.uuid4().hex
        documents.append(
            Document.build(
                document_id=document_id,
                owner_id=actor.user_id,
                filename=f"evidence-{n}.txt",
                content_type="text/plain",
                size_bytes=100,
                sha256=hashlib.sha256(document_id.encode()).hexdigest(),
                storage_key=f"benchmark/{document_id}.txt",
                status=DocumentStatus.EXTRACTED.value,
                created_at=now,
                updated_at=now,
            )
        )
    batch_write(puts=documents)
    return [document.document_id for document in documents]


def _figures(started: float, links: int) -> LinkFigures:
    seconds = time.perf_counter() - started
    by_operation: dict[str, int] = {}
    for (operation, _index), stats in meter.snapshot().items():
        by_operation[operation] = by_operation.get(operation, 0) + stats.calls
    return LinkFigures(sum(by_operation.values()), by_operation, seconds, links)


def run(documents: int = 1_000, *, progress=print) -> LinkResult:
    actor = Actor(user_id="benchmark-linker", username="benchmark-linker", is_staff=False, is_reviewer=False)
    ids = _documents(actor, documents)
    batched_target = assessment_services.assessment_create(actor=actor, title="Batched links")
    single_target = assessment_services.assessment_create(actor=actor, title="One write per link")
    progress(f"links: linking {documents:,} documents, batched and one UpdateItem each")

    meter.reset()
    started = time.perf_counter()
    outcome = assessment_services.document_link_many(
        actor=actor, assessment_id=batched_target.assessment_id, document_ids=ids
    )
    batched = _figures(started, outcome.linked)

    meter.reset()
    started = time.perf_counter()
    now = utc_now()
    for document_id in ids:
        link = DocumentLink(*DocumentLink.key(single_target.assessment_id, document_id))
        link.update(actions=[DocumentLink.linked_by.set(actor.user_id), DocumentLink.linked_at.set(now)])
    single = _figures(started, len(ids))
    return LinkResult(documents, batched, single)
