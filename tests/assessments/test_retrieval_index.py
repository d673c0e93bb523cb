"""The per-assessment retrieval index (assessments/services/evidence.py): a suggestion's DynamoDB
calls and items do not grow with the linked documents, warm or with only the stored index; every
change of the link set is seen by the next suggestion; the ranking is the old path's."""

import threading

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.core.cache import caches

from assessments import selectors
from assessments.services import document_link_many, document_unlink_many, evidence
from documents import selectors as document_selectors
from llm import services as llm
from llm.retrieval import Candidate, Corpus
from tests.support import factories
from tra import shared_cache
from tra.dynamo.metering import meter
from tra.http.auth import Actor

pytestmark = [pytest.mark.usefixtures("dynamo_table", "aws_clients")]

QUESTION = "Is customer data encrypted at rest?"
ANSWER = "Customer data at rest is encrypted with AES-256."
READS = ("GetItem", "Query", "BatchGetItem")


@pytest.fixture(autouse=True)
def isolated(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    caches["llm"].clear()
    caches["default"].clear()
    evidence.forget_parsed_indexes()
    yield
    evidence.forget_parsed_indexes()


def actor_of(client) -> Actor:
    return Actor(user_id=client.user_id, username="owner", is_staff=False, is_reviewer=False)


def evidence_documents(owner_id: str, count: int, *, answer_in: int | None = None) -> list[str]:
    """`count` documents of two passages each; document `answer_in` (default the last) holds the answer."""
    answer_in = count - 1 if answer_in is None else answer_in
    ids = []
    for number in range(count):
        document = factories.document(owner_id=owner_id, filename=f"evidence-{number:03d}.txt", status="extracted")
        factories.chunk(document, number=0, text=f"Vendor note {number}: the office opens at nine.")
        factories.chunk(document, number=1, text=ANSWER if number == answer_in else "Staff badges are renewed yearly.")
        ids.append(document.document_id)
    return ids


async def new_assessment(client) -> tuple[str, str]:
    """An assessment with one question: its path and the question's id."""
    assessment = (await client.post("/assessments", {"title": "Acme Cloud"})).body
    path = f"/assessments/{assessment['id']}"
    imported = await client.post(f"{path}/questions/import", {"questions": [{"text": QUESTION}]})
    return path, imported.body["questions"][0]["id"]


async def suggest(client, path: str, question_id: str) -> dict:
    response = await client.post(f"{path}/questions/{question_id}/suggestion?refresh=true")
    assert response.status == 200, response.body
    return response.body["suggestion"]


def reads() -> tuple[int, int]:
    """(DynamoDB calls, items read) since the meter's last reset."""
    stats = meter.snapshot()
    items = sum(value.items for (operation, _), value in stats.items() if operation in READS)
    return meter.calls(), items


def old_path_candidates(assessment_id: str) -> list[Candidate]:
    """The candidates as suggestions built them before the index: T7, then the documents' evidence."""
    assessment = selectors.assessment_current(assessment_id)
    links = selectors.links_of(assessment)
    found = document_selectors.evidence_of([link.document_id for link in links])
    return [
        Candidate(document_id=document_id, chunk=number, text=text, filename=item["filename"])
        for document_id, item in found.items()
        for number, text in item["chunks"]
    ]


@pytest.mark.parametrize("documents", [1, 120])
async def test_a_suggestion_makes_the_same_calls_and_reads_the_same_items_at_1_and_120_documents(users, documents):
    """Once the index of the current version exists: T2 + T4 + T7b (the evidence version) + the
    UpdateItem, 3 items read, at 1 or 120 documents, whether the index is in this process or only
    in storage (cache emptied, a fresh process). The one rebuild after the link reads the links
    (T7's Query), the documents (BatchGetItem + T11 each, the evidence cache being cold) and T7b again."""
    owner = users["owner"]
    path, question_id = await new_assessment(owner)
    ids = await sync_to_async(evidence_documents)(owner.user_id, documents)
    assert (await owner.post(f"{path}/documents", {"document_ids": ids})).status == 200

    meter.reset()
    built = await suggest(owner, path, question_id)
    assert meter.calls() == 3 + 1 + 1 + -(-documents // 100) + documents + 1
    assert (meter.calls("Query"), meter.calls("GetItem")) == (1 + documents, 4)

    meter.reset()
    warm = await suggest(owner, path, question_id)
    assert reads() == (4, 3)
    assert (meter.calls("GetItem"), meter.calls("UpdateItem")) == (3, 1)

    caches["default"].clear()
    evidence.forget_parsed_indexes()
    meter.reset()
    stored = await suggest(owner, path, question_id)
    assert reads() == (4, 3)

    assert built["citations"] == warm["citations"] == stored["citations"]
    assert built["citations"][0]["document_id"] == ids[-1]
    assert "AES-256" in built["citations"][0]["quote"]


async def test_the_index_ranks_as_the_old_path_did(users):
    owner = users["owner"]
    path, question_id = await new_assessment(owner)
    ids = await sync_to_async(evidence_documents)(owner.user_id, 12, answer_in=4)
    await owner.post(f"{path}/documents", {"document_ids": ids})
    assessment_id = path.rsplit("/", 1)[-1]

    old = await sync_to_async(old_path_candidates)(assessment_id)
    corpus = await sync_to_async(evidence.evidence_corpus)(selectors.assessment_current(assessment_id))
    assert list(corpus) == old
    for question in (QUESTION, "When does the office open?", "Are badges renewed?"):
        assert llm.rank_passages(question, corpus, k=5) == llm.rank_passages(question, old, k=5)
        before = await llm.suggest_answer(question=question, candidates=old, bypass_cache=True)
        after = await llm.suggest_answer(question=question, candidates=corpus, bypass_cache=True)
        assert after.citations == before.citations and after.text == before.text
    suggestion = await suggest(owner, path, question_id)
    assert suggestion["citations"][0]["document_id"] == ids[4]


async def test_link_unlink_and_delete_are_seen_by_the_next_suggestion(users):
    owner = users["owner"]
    path, question_id = await new_assessment(owner)
    first, second = await sync_to_async(evidence_documents)(owner.user_id, 2, answer_in=1)
    await owner.post(f"{path}/documents", {"document_ids": [first]})
    assert (await suggest(owner, path, question_id))["citations"] == []  # no passage answers it yet

    await owner.post(f"{path}/documents", {"document_ids": [second]})
    assert (await suggest(owner, path, question_id))["citations"][0]["document_id"] == second

    await owner.post(f"{path}/documents/unlink", {"document_ids": [second]})
    assert (await suggest(owner, path, question_id))["citations"] == []

    await owner.post(f"{path}/documents", {"document_ids": [second]})
    assert (await suggest(owner, path, question_id))["citations"][0]["document_id"] == second
    assert (await owner.delete(f"/documents/{second}")).status == 409  # evidence in use: unlink first
    await owner.post(f"{path}/documents/unlink", {"document_ids": [second]})
    assert (await owner.delete(f"/documents/{second}")).status == 204
    assert (await suggest(owner, path, question_id))["citations"] == []


def test_two_threads_linking_two_documents_at_once_both_reach_the_index(users):
    owner = users["owner"]
    actor = actor_of(owner)
    path, _ = async_to_sync(new_assessment)(owner)
    assessment_id = path.rsplit("/", 1)[-1]
    first, second = evidence_documents(owner.user_id, 2)
    evidence.evidence_corpus(selectors.assessment_current(assessment_id))  # an index of version 0, kept
    start = threading.Barrier(2)
    errors = []

    def link(document_id: str) -> None:
        try:
            start.wait()
            document_link_many(actor=actor, assessment_id=assessment_id, document_ids=[document_id])
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=link, args=(i,)) for i in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert selectors.evidence_version(assessment_id) == 2
    corpus = evidence.evidence_corpus(selectors.assessment_current(assessment_id))
    assert sorted(corpus.document_ids) == sorted([first, second])


def test_an_index_read_while_a_link_commits_is_not_kept_under_the_older_version(users, monkeypatch):
    """The race: the version is read (1), a link commits (2) while the links are read: the rebuilt
    candidates answer this request but are stored under no version; the next reader builds version 1."""
    owner = users["owner"]
    actor = actor_of(owner)
    path, _ = async_to_sync(new_assessment)(owner)
    assessment_id = path.rsplit("/", 1)[-1]
    first, second = evidence_documents(owner.user_id, 2)
    document_link_many(actor=actor, assessment_id=assessment_id, document_ids=[first])
    real_links_of = selectors.links_of

    def links_then_a_concurrent_link(assessment, **kwargs):
        links = real_links_of(assessment, **kwargs)
        document_link_many(actor=actor, assessment_id=assessment_id, document_ids=[second])
        return links

    monkeypatch.setattr(selectors, "links_of", links_then_a_concurrent_link)
    raced = evidence.evidence_corpus(selectors.assessment_current(assessment_id))
    monkeypatch.setattr(selectors, "links_of", real_links_of)

    assert raced.document_ids == [first]
    stored = sorted(p.name for p in (evidence_storage(assessment_id)).iterdir())
    assert stored == []  # neither version 1 (whose link set it did not read) nor anything else
    corpus = evidence.evidence_corpus(selectors.assessment_current(assessment_id))
    assert sorted(corpus.document_ids) == sorted([first, second])
    assert sorted(p.name for p in evidence_storage(assessment_id).iterdir()) == ["2.json.gz"]


def evidence_storage(assessment_id: str):
    from django.conf import settings

    directory = settings.MEDIA_ROOT / evidence.STORAGE_DIRECTORY / assessment_id
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def test_storing_a_version_deletes_the_older_ones_and_a_repeated_question_reuses_the_parsed_index(users):
    owner = users["owner"]
    actor = actor_of(owner)
    path, _ = async_to_sync(new_assessment)(owner)
    assessment_id = path.rsplit("/", 1)[-1]
    ids = evidence_documents(owner.user_id, 3)
    for number, document_id in enumerate(ids, start=1):
        document_link_many(actor=actor, assessment_id=assessment_id, document_ids=[document_id])
        corpus = evidence.evidence_corpus(selectors.assessment_current(assessment_id))
        assert len(corpus.document_ids) == number
        assert sorted(p.name for p in evidence_storage(assessment_id).iterdir()) == [f"{number}.json.gz"]
    document_unlink_many(actor=actor, assessment_id=assessment_id, document_ids=ids)
    assert evidence.evidence_corpus(selectors.assessment_current(assessment_id)).document_ids == []
    assert sorted(p.name for p in evidence_storage(assessment_id).iterdir()) == ["4.json.gz"]

    document_link_many(actor=actor, assessment_id=assessment_id, document_ids=ids)
    corpus = evidence.evidence_corpus(selectors.assessment_current(assessment_id))
    again = evidence.evidence_corpus(selectors.assessment_current(assessment_id))
    assert again is corpus and again.index() is corpus.index()  # tokenised once for every question


async def test_without_the_shared_cache_suggestions_are_still_right(users, monkeypatch):
    owner = users["owner"]
    path, question_id = await new_assessment(owner)
    ids = await sync_to_async(evidence_documents)(owner.user_id, 3)
    await owner.post(f"{path}/documents", {"document_ids": ids})
    expected = (await suggest(owner, path, question_id))["citations"]

    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    cache = caches["default"]
    for name in ("get", "set", "get_many", "set_many", "add", "incr", "delete"):
        monkeypatch.setattr(cache, name, down)
    try:
        evidence.forget_parsed_indexes()
        assert (await suggest(owner, path, question_id))["citations"] == expected  # from storage
        document = await sync_to_async(evidence_documents)(owner.user_id, 1, answer_in=0)
        await owner.post(f"{path}/documents", {"document_ids": document})
        evidence.forget_parsed_indexes()
        fresh = await suggest(owner, path, question_id)  # rebuilt from DynamoDB
        assert fresh["citations"][0]["document_id"] in {document[0], ids[-1]}  # the same answer, twice
        assessment = await sync_to_async(selectors.assessment_current)(path.rsplit("/", 1)[-1])
        corpus = await sync_to_async(evidence.evidence_corpus)(assessment)
        assert sorted(corpus.document_ids) == sorted([*ids, *document])
    finally:
        monkeypatch.undo()
        shared_cache.succeeded()


def test_a_corpus_ranks_like_its_candidates():
    candidates = [
        Candidate(document_id="a", chunk=0, text="Backups are taken nightly.", filename="a.txt"),
        Candidate(document_id="b", chunk=0, text=ANSWER, filename="b.txt"),
        Candidate(document_id="b", chunk=1, text="Data is encrypted in transit too.", filename="b.txt"),
    ]
    corpus = Corpus(candidates)
    assert len(corpus) == 3 and list(corpus) == candidates and corpus[1] == candidates[1]
    assert corpus.document_ids == ["a", "b"]
    assert llm.rank_passages(QUESTION, corpus) == llm.rank_passages(QUESTION, candidates)
    assert not Corpus([])


async def test_the_knowledge_base_is_filtered_to_the_documents_of_the_index(users, settings):
    from devtools.fake_bedrock import FakeBedrock

    owner = users["owner"]
    path, _ = await new_assessment(owner)
    ids = await sync_to_async(evidence_documents)(owner.user_id, 3, answer_in=1)
    await owner.post(f"{path}/documents", {"document_ids": ids})
    assessment = await sync_to_async(selectors.assessment_current)(path.rsplit("/", 1)[-1])
    corpus = await sync_to_async(evidence.evidence_corpus)(assessment)
    with FakeBedrock() as fake:
        settings.BEDROCK_ENDPOINT_URL = fake.endpoint_url
        settings.LLM_PROVIDER = "bedrock"
        settings.BEDROCK_KB_ID = "KB12345678"
        fake.knowledge_base = [
            {"text": c.text, "document_id": c.document_id, "chunk": c.chunk} for c in corpus if c.chunk == 1
        ] + [{"text": "Someone else's data at rest is encrypted too.", "document_id": "someone-else", "chunk": 1}]
        found = await llm.retrieve_passages(question=QUESTION, candidates=corpus)
    search = fake.retrieve_requests[0]["retrievalConfiguration"]["vectorSearchConfiguration"]
    assert search["filter"] == {"in": {"key": "document_id", "value": sorted(ids)}}
    assert found.source == "knowledge_base"
    assert found.passages[0].document_id == ids[1] and found.passages[0].filename == "evidence-001.txt"
    assert {passage.document_id for passage in found.passages} <= set(ids)
