"""Bedrock Converse through the pooled aioboto3 client, against the fake Bedrock server."""

import asyncio

import pytest

from devtools.local_dynamo.server import free_port
from llm import bedrock, metrics
from llm.bedrock import InferenceParameters
from llm.prompts import user_message
from tests.support.loop_guard import blocking_calls_on_event_loop
from tra.errors import ServiceUnavailable

MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"


async def ask(text: str, **kwargs) -> bedrock.Completion:
    return await bedrock.converse(task="chat", system="Be brief.", messages=[user_message(text)], **kwargs)


async def test_converse_sends_the_request_and_returns_text_usage_and_cost(fake_bedrock, settings):
    settings.LLM_MAX_OUTPUT_TOKENS = 300
    completion = await ask("What is SOC 2?")
    request = fake_bedrock.requests[0]
    assert request.model_id == MODEL
    assert request.body["system"] == [{"text": "Be brief."}]
    assert request.body["messages"] == [{"role": "user", "content": [{"text": "What is SOC 2?"}]}]
    assert request.body["inferenceConfig"] == {"maxTokens": 300, "temperature": 0.0}
    assert completion.text == f"FAKE {request.digest}"
    assert (completion.stop_reason, completion.model, completion.cache) == ("end_turn", MODEL, "miss")
    assert completion.cost_micro_usd == metrics.cost_micro_usd(MODEL, completion.input_tokens, completion.output_tokens)


async def test_every_call_is_metered(fake_bedrock):
    first = await ask("one")
    second = await ask("two")
    await ask("one")  # a hit: no call
    counters = await metrics.astats()
    assert counters["bedrock_calls"] == 2 == fake_bedrock.converse_calls
    assert counters["input_tokens"] == first.input_tokens + second.input_tokens
    assert counters["output_tokens"] == first.output_tokens + second.output_tokens
    assert counters["cost_micro_usd"] == first.cost_micro_usd + second.cost_micro_usd
    assert counters["saved_input_tokens"] == first.input_tokens


def test_cost_comes_from_the_price_table_in_micro_dollars(settings):
    settings.LLM_PRICES = {"m": {"input": 0.001, "output": 0.005}, "default": {"input": 0.01, "output": 0.01}}
    assert metrics.cost_micro_usd("m", 2000, 1000) == 7000  # $0.002 + $0.005
    assert metrics.cost_micro_usd("unpriced", 1000, 0) == 10_000


async def test_concurrent_distinct_requests_share_one_client_and_at_most_the_pool_of_connections(
    fake_bedrock, settings, aws_clients
):
    settings.AWS_MAX_POOL_CONNECTIONS = 10
    settings.LLM_MAX_CONCURRENCY = 500  # the HTTP pool, not the semaphore, is what this test bounds
    fake_bedrock.latency = 0.02
    created = aws_clients.created
    completions = await asyncio.gather(*(ask(f"question {n}") for n in range(200)))
    assert fake_bedrock.converse_calls == 200
    assert len({completion.text for completion in completions}) == 200
    assert (await metrics.astats())["bedrock_retries"] == 0
    assert fake_bedrock.connections <= 10
    assert fake_bedrock.max_in_flight <= 10
    assert aws_clients.created - created == 1


async def test_the_concurrency_limit_bounds_the_calls_in_flight(fake_bedrock, settings):
    settings.LLM_MAX_CONCURRENCY = 3
    fake_bedrock.latency = 0.02
    await asyncio.gather(*(ask(f"question {n}") for n in range(30)))
    assert fake_bedrock.converse_calls == 30
    assert fake_bedrock.max_in_flight == 3


async def test_throttling_twice_is_retried_with_backoff_and_the_third_attempt_succeeds(
    fake_bedrock, settings, retry_delays
):
    settings.AWS_MAX_ATTEMPTS = 3
    fake_bedrock.throttle_next = 2
    completion = await ask("busy?")
    assert completion.text.startswith("FAKE")
    assert fake_bedrock.converse_calls == 3
    assert len(retry_delays) == 2  # botocore asked for two backoffs (made instant by the fixture)
    counters = await metrics.astats()
    assert (counters["bedrock_calls"], counters["bedrock_retries"], counters["bedrock_errors"]) == (1, 2, 0)


async def test_throttling_on_every_attempt_is_service_unavailable_and_nothing_is_cached(fake_bedrock, settings):
    settings.AWS_MAX_ATTEMPTS = 3
    fake_bedrock.throttle_always = True
    with pytest.raises(ServiceUnavailable) as raised:
        await ask("busy?")
    assert fake_bedrock.converse_calls == 3
    assert raised.value.retry_after == 10
    assert "throttling" in raised.value.message and "3 attempt(s)" in raised.value.message
    assert raised.value.extra == {"error_code": "ThrottlingException", "attempts": 3}
    fake_bedrock.throttle_always = False
    assert (await ask("busy?")).cache == "miss"  # the failure was not cached
    assert fake_bedrock.converse_calls == 4
    assert (await metrics.astats())["bedrock_errors"] == 1


async def test_a_server_error_is_retried_then_succeeds(fake_bedrock, settings):
    settings.AWS_MAX_ATTEMPTS = 2
    fake_bedrock.fail_next = 1
    assert (await ask("flaky")).stop_reason == "end_turn"
    assert fake_bedrock.converse_calls == 2


async def test_server_errors_on_every_attempt_are_service_unavailable(fake_bedrock, settings):
    settings.AWS_MAX_ATTEMPTS = 2
    fake_bedrock.fail_next = 5
    with pytest.raises(ServiceUnavailable) as raised:
        await ask("down")
    assert fake_bedrock.converse_calls == 2
    assert "InternalServerException" in raised.value.message
    assert raised.value.retry_after == 5


async def test_a_read_timeout_is_service_unavailable_after_one_call(fake_bedrock, settings):
    # The model ran (and may be billed) even though its answer came too late: no retry.
    settings.AWS_MAX_ATTEMPTS = 4
    settings.BEDROCK_READ_TIMEOUT_SECONDS = 0.2
    fake_bedrock.latency = 1.0
    with pytest.raises(ServiceUnavailable) as raised:
        await ask("slow")
    assert fake_bedrock.converse_calls == 1
    assert raised.value.extra == {"error_code": "ReadTimeoutError", "attempts": 1}
    assert (await metrics.astats())["bedrock_errors"] == 1


async def test_an_unreachable_endpoint_is_service_unavailable(fake_bedrock, settings):
    settings.BEDROCK_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    settings.AWS_MAX_ATTEMPTS = 2
    with pytest.raises(ServiceUnavailable) as raised:
        await ask("anyone?")
    assert "unreachable" in raised.value.message
    assert await metrics.llm_cache().aget("anything") is None


async def test_a_truncated_reply_is_returned_but_never_cached(fake_bedrock):
    fake_bedrock.truncate = True
    first = await ask("long answer please", parameters=InferenceParameters(max_tokens=10))
    second = await ask("long answer please", parameters=InferenceParameters(max_tokens=10))
    assert (first.truncated, first.stop_reason) == (True, "max_tokens")
    assert (first.cache, second.cache) == ("miss", "miss")
    assert fake_bedrock.converse_calls == 2


@pytest.mark.parametrize("stop_reason", ["guardrail_intervened", "content_filtered"])
async def test_a_refusal_is_returned_but_never_cached(fake_bedrock, stop_reason):
    fake_bedrock.stop_reason = stop_reason
    first = await ask("something refused")
    second = await ask("something refused")
    assert (first.stop_reason, first.complete) == (stop_reason, False)
    assert (first.cache, second.cache, fake_bedrock.converse_calls) == ("miss", "miss", 2)


async def test_the_bedrock_path_makes_no_blocking_call_on_the_event_loop(fake_bedrock, settings, corpus):
    from llm import services

    settings.BEDROCK_KB_ID = "KB12345678"
    fake_bedrock.knowledge_base = [
        {"text": candidate.text, "document_id": candidate.document_id, "chunk": candidate.chunk} for candidate in corpus
    ]
    await bedrock.warm()  # as the ASGI lifespan does: creating a client loads its service model
    await services.suggest_answer(question="warm the knowledge base client", candidates=corpus)
    with blocking_calls_on_event_loop() as offences:
        await asyncio.gather(*(ask(f"question {n}") for n in range(5)))
        await ask("question 1")  # a hit
        await services.summarize_text(text="A policy. " * 3000)  # map-reduce
        await services.suggest_answer(question="How long are backups kept?", candidates=corpus)
        await metrics.astats()
    assert offences == []
    assert fake_bedrock.converse_calls >= 7
