"""The LLM layer's public interface: summarize_text, suggest_answer, converse, stats."""

import asyncio
import dataclasses

import pytest

from llm import services
from llm.metrics import COUNTERS
from llm.prompts import user_message
from llm.providers import NOTHING_FOUND
from tests.llm.test_providers import POLICY, grounded_model
from tra.errors import ServiceUnavailable, ValidationFailed

# question -> (document id, chunk, words the quote must contain)
ANSWERS = {
    "How long are backups kept?": ("policy", 1, "35 days"),
    "Is customer data encrypted at rest?": ("soc2", 1, "AES-256"),
    "How often is security awareness training done?": ("policy", 0, "every year"),
    "What was the audit period?": ("soc2", 0, "January to December 2024"),
}


async def test_100_concurrent_identical_summaries_make_one_bedrock_call_and_a_second_wave_none(fake_bedrock):
    fake_bedrock.latency = 0.05  # the flight is still in the air when the others arrive
    first_wave = await asyncio.gather(*(services.summarize_text(text=POLICY) for _ in range(100)))
    assert fake_bedrock.converse_calls == 1
    second_wave = await asyncio.gather(*(services.summarize_text(text=POLICY) for _ in range(100)))
    assert fake_bedrock.converse_calls == 1
    assert len({summary.text for summary in first_wave + second_wave}) == 1
    assert sorted(summary.cache for summary in first_wave).count("coalesced") == 99
    assert {summary.cache for summary in second_wave} == {"hit"}
    counters = services.stats()
    assert (counters["misses"], counters["coalesced"], counters["hits"], counters["bedrock_calls"]) == (1, 99, 100, 1)
    assert counters["saved_input_tokens"] == 199 * first_wave[0].input_tokens


async def test_the_default_provider_is_extractive_and_says_so(settings):
    assert settings.LLM_PROVIDER == "extractive"
    summary = await services.summarize_text(text=POLICY)
    assert (summary.provider, summary.model, summary.cache) == ("extractive", None, None)
    assert "multi-factor authentication" in summary.text
    assert services.provider_name() == "extractive"


@pytest.mark.parametrize("question", ANSWERS)
async def test_an_extractive_suggestion_cites_the_passage_holding_the_answer(question, corpus):
    document_id, chunk, words = ANSWERS[question]
    suggestion = await services.suggest_answer(question=question, candidates=corpus)
    citation = suggestion.citations[0]
    assert (citation.document_id, citation.chunk) == (document_id, chunk)
    assert words in citation.quote and words in suggestion.text
    assert (suggestion.provider, suggestion.model, suggestion.retrieval) == ("extractive", None, "bm25")
    assert suggestion.confidence > 0


@pytest.mark.parametrize("question", ANSWERS)
async def test_a_bedrock_suggestion_cites_the_passage_holding_the_answer(question, corpus, fake_bedrock):
    fake_bedrock.responder = grounded_model
    document_id, chunk, words = ANSWERS[question]
    suggestion = await services.suggest_answer(question=question, candidates=corpus)
    [citation] = suggestion.citations
    assert (citation.document_id, citation.chunk) == (document_id, chunk)
    assert words in citation.quote
    assert (suggestion.provider, suggestion.model) == ("bedrock", "anthropic.claude-3-5-haiku-20241022-v1:0")


async def test_a_bedrock_suggestion_over_the_knowledge_base_cites_the_passage_holding_the_answer(
    corpus, fake_bedrock, settings
):
    settings.BEDROCK_KB_ID = "KB12345678"
    fake_bedrock.knowledge_base = [
        {"text": candidate.text, "document_id": candidate.document_id, "chunk": candidate.chunk} for candidate in corpus
    ]
    fake_bedrock.responder = grounded_model
    suggestion = await services.suggest_answer(question="How long are backups kept?", candidates=corpus)
    [citation] = suggestion.citations
    assert (citation.document_id, citation.chunk, citation.filename) == ("policy", 1, "security-policy.docx")
    assert (suggestion.retrieval, fake_bedrock.retrieve_calls, fake_bedrock.converse_calls) == ("knowledge_base", 1, 1)


@pytest.mark.parametrize("provider", ["extractive", "bedrock"])
async def test_a_question_nothing_answers_gets_no_citations_and_zero_confidence(
    provider, corpus, fake_bedrock, settings
):
    settings.LLM_PROVIDER = provider
    suggestion = await services.suggest_answer(question="Which quantum teleportation vendor?", candidates=corpus)
    assert (suggestion.text, suggestion.citations, suggestion.confidence) == (NOTHING_FOUND, [], 0.0)
    assert suggestion.provider == provider
    assert fake_bedrock.converse_calls == 0


async def test_an_empty_question_is_refused(corpus):
    with pytest.raises(ValidationFailed) as raised:
        await services.suggest_answer(question="  ", candidates=corpus)
    assert raised.value.extra == {"field": "question"}


async def test_the_same_question_over_the_same_passages_is_answered_once(corpus, fake_bedrock):
    fake_bedrock.responder = grounded_model
    first = await services.suggest_answer(question="How long are backups kept?", candidates=corpus)
    # The key covers the passages' text, not which documents they came from.
    renamed = [dataclasses.replace(candidate, document_id=f"copy-{candidate.document_id}") for candidate in corpus]
    second = await services.suggest_answer(question="How long are backups kept?", candidates=renamed)
    assert fake_bedrock.converse_calls == 1
    assert (first.cache, second.cache) == ("miss", "hit")
    assert second.citations[0].document_id == "copy-policy"


async def summary_calls(fake_bedrock, text: str = POLICY) -> int:
    before = fake_bedrock.converse_calls
    await services.summarize_text(text=text)
    return fake_bedrock.converse_calls - before


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("BEDROCK_MODEL_ID", "anthropic.claude-3-haiku-20240307-v1:0"),
        ("LLM_PROMPT_VERSION", "2"),
        ("LLM_MAX_OUTPUT_TOKENS", 512),
    ],
)
async def test_changing_the_model_prompt_version_or_parameters_summarises_again(fake_bedrock, settings, setting, value):
    assert await summary_calls(fake_bedrock) == 1
    setattr(settings, setting, value)
    assert await summary_calls(fake_bedrock) == 1


async def test_changing_the_text_summarises_again_but_nothing_else_does(fake_bedrock, settings):
    assert await summary_calls(fake_bedrock) == 1
    assert await summary_calls(fake_bedrock, POLICY + " One more sentence.") == 1
    settings.LLM_CACHE_TTL_SECONDS = {"summary": 60, "suggestion": 60, "chat": 60}
    settings.LLM_LOCK_TIMEOUT_SECONDS = 10
    settings.LLM_MAX_CONCURRENCY = 2
    settings.AWS_MAX_POOL_CONNECTIONS = 5
    settings.AWS_MAX_ATTEMPTS = 3
    assert await summary_calls(fake_bedrock, "  " + POLICY + "\n") == 0


async def test_refresh_summarises_again_and_bypass_leaves_the_cache_alone(fake_bedrock):
    original = await services.summarize_text(text=POLICY)
    fake_bedrock.responder = lambda request: "a newer summary"
    refreshed = await services.summarize_text(text=POLICY, refresh=True)
    fake_bedrock.responder = lambda request: "a bypassing summary"
    bypassed = await services.summarize_text(text=POLICY, bypass_cache=True)
    after = await services.summarize_text(text=POLICY)
    assert (original.text, refreshed.text, bypassed.text, after.text) == (
        original.text,
        "a newer summary",
        "a bypassing summary",
        "a newer summary",
    )
    assert (refreshed.cache, bypassed.cache, after.cache) == ("miss", "bypassed", "hit")
    assert fake_bedrock.converse_calls == 3


async def test_a_summary_while_bedrock_throttles_throughout_is_503_and_not_cached(fake_bedrock, settings):
    settings.AWS_MAX_ATTEMPTS = 3
    fake_bedrock.throttle_always = True
    results = await asyncio.gather(*(services.summarize_text(text=POLICY) for _ in range(10)), return_exceptions=True)
    assert all(isinstance(result, ServiceUnavailable) for result in results)
    assert fake_bedrock.converse_calls == 3  # one flight, three attempts
    fake_bedrock.throttle_always = False
    assert (await services.summarize_text(text=POLICY)).cache == "miss"


async def test_converse_is_cached_for_the_chat_app(fake_bedrock):
    messages = [user_message("Which documents are missing?")]
    first = await services.converse(messages=messages, system="You help with assessments.")
    second = await services.converse(messages=messages, system="You help with assessments.")
    assert (first.cache, second.cache, fake_bedrock.converse_calls) == ("miss", "hit", 1)
    assert fake_bedrock.requests[0].body["inferenceConfig"]["maxTokens"] == 1024


async def test_converse_needs_the_bedrock_provider(settings):
    settings.LLM_PROVIDER = "extractive"
    with pytest.raises(ServiceUnavailable):
        await services.converse(messages=[user_message("hello")])


async def test_stats_report_every_counter_shared_through_the_cache(fake_bedrock):
    await services.summarize_text(text=POLICY)
    await services.summarize_text(text=POLICY)
    counters = services.stats()
    assert set(COUNTERS) <= set(counters)
    assert (counters["misses"], counters["hits"], counters["bedrock_calls"]) == (1, 1, 1)
    assert counters["cost_usd"] == counters["cost_micro_usd"] / 1_000_000 > 0
    assert counters["saved_cost_usd"] == counters["cost_usd"]
    assert counters["hit_ratio"] == 0.5
    assert await services.astats() == counters
