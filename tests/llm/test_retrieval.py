"""Finding the passages that answer a question: local BM25 and the Bedrock Knowledge Base."""

import pytest

from llm.retrieval import BM25, Candidate, best_sentences, local_retrieval, rank_passages, retrieve


def test_bm25_ranks_the_passage_holding_the_rare_question_terms_first(corpus):
    ranked = rank_passages("Is customer data encrypted at rest?", corpus)
    assert (ranked[0].document_id, ranked[0].chunk) == ("soc2", 1)


def test_bm25_matches_plural_and_singular_forms(corpus):
    ranked = rank_passages("How often is a backup restore tested?", corpus)
    assert (ranked[0].document_id, ranked[0].chunk) == ("policy", 1)


def test_only_passages_sharing_a_term_with_the_question_are_returned_at_most_k(corpus):
    assert rank_passages("quantum teleportation", corpus) == []
    assert len(rank_passages("data security training access backups audit", corpus, k=2)) == 2


def test_ties_keep_the_candidates_order():
    candidates = [Candidate("a", 0, "firewall rules"), Candidate("b", 0, "firewall rules")]
    assert [passage.document_id for passage in rank_passages("firewall", candidates)] == ["a", "b"]


def test_idf_weighs_rare_terms_above_common_ones():
    index = BM25([["data", "encrypted"], ["data", "backup"], ["data", "training"]])
    assert index.idf("encrypted") > index.idf("data") > 0


def test_relevance_is_higher_when_the_passage_covers_more_of_the_question(corpus):
    full = local_retrieval("customer data encrypted rest keys rotated", corpus).passages[0]
    partial = local_retrieval("customer data encrypted quantum teleportation warp", corpus).passages[0]
    assert 0 < partial.relevance < full.relevance <= 1


def test_best_sentences_quote_the_matching_sentence_verbatim(corpus):
    retrieval = local_retrieval("How often are encryption keys rotated?", corpus)
    passage = retrieval.passages[0]
    quote = best_sentences(passage.text, retrieval.term_weights)
    assert quote == "Customer data is encrypted at rest with AES-256 and keys are rotated every 90 days."
    assert quote in passage.text


async def test_without_a_knowledge_base_retrieval_is_local_bm25(corpus, settings):
    settings.BEDROCK_KB_ID = ""
    found = await retrieve(question="When was the audit period?", candidates=corpus)
    assert found.source == "bm25"
    assert (found.passages[0].document_id, found.passages[0].chunk) == ("soc2", 0)


@pytest.fixture
def knowledge_base(fake_bedrock, settings, corpus):
    settings.BEDROCK_KB_ID = "KB12345678"
    fake_bedrock.knowledge_base = [
        {"text": candidate.text, "document_id": candidate.document_id, "chunk": candidate.chunk} for candidate in corpus
    ] + [{"text": "Another owner's backups are kept for ten years.", "document_id": "someone-else", "chunk": 0}]
    return fake_bedrock


async def test_the_knowledge_base_is_asked_once_filtered_to_the_candidates_documents(knowledge_base, corpus):
    found = await retrieve(question="How long are backups kept?", candidates=corpus)
    assert knowledge_base.retrieve_calls == 1
    request = knowledge_base.retrieve_requests[0]
    assert request["knowledge_base_id"] == "KB12345678"
    search = request["retrievalConfiguration"]["vectorSearchConfiguration"]
    assert search["filter"] == {"in": {"key": "document_id", "value": ["policy", "soc2"]}}
    assert found.source == "knowledge_base"
    assert {passage.document_id for passage in found.passages} <= {"policy", "soc2"}
    assert (found.passages[0].document_id, found.passages[0].chunk) == ("policy", 1)
    assert found.passages[0].filename == "security-policy.docx"


async def test_no_candidates_means_no_knowledge_base_call(knowledge_base):
    found = await retrieve(question="How long are backups kept?", candidates=[])
    assert found.passages == []
    assert knowledge_base.retrieve_calls == 0
