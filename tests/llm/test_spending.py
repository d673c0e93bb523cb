"""Who pays for a model call (llm/spending.py): only the request that leads it, once per request."""

import asyncio

import pytest

from llm import services
from tests.llm.test_providers import POLICY
from tra.errors import RateLimited


class Payer:
    """A charge that counts its calls and refuses once `budget` is spent."""

    def __init__(self, budget: int = 1_000):
        self.calls = 0
        self.budget = budget

    async def __call__(self) -> None:
        self.calls += 1
        if self.calls > self.budget:
            raise RateLimited("over the budget", retry_after=60)


async def test_only_the_leader_of_100_identical_summaries_is_charged_and_a_second_wave_is_free(fake_bedrock):
    fake_bedrock.latency = 0.05  # the flight is still in the air when the others arrive
    payers = [Payer() for _ in range(100)]
    await asyncio.gather(*(services.summarize_text(text=POLICY, charge=payer) for payer in payers))
    assert [payer.calls for payer in payers].count(1) == 1 and sum(payer.calls for payer in payers) == 1
    again = [Payer(budget=0) for _ in range(100)]  # over the limit, a cached answer is still answered
    results = await asyncio.gather(*(services.summarize_text(text=POLICY, charge=payer) for payer in again))
    assert {summary.cache for summary in results} == {"hit"}
    assert sum(payer.calls for payer in again) == 0
    assert fake_bedrock.converse_calls == 1


async def test_a_waiter_whose_leader_is_refused_calls_on_its_own_account(fake_bedrock):
    fake_bedrock.latency = 0.05
    refused, paying = Payer(budget=0), Payer()
    leader = asyncio.ensure_future(services.summarize_text(text=POLICY, charge=refused))
    await asyncio.sleep(0)  # the leader's flight starts first
    waiter = asyncio.ensure_future(services.summarize_text(text=POLICY, charge=paying))
    with pytest.raises(RateLimited):
        await leader
    summary = await waiter
    assert summary.text and summary.cache == "miss"
    assert (refused.calls, paying.calls, fake_bedrock.converse_calls) == (1, 1, 1)


async def test_one_request_is_charged_once_however_many_calls_it_makes(fake_bedrock, settings, corpus):
    settings.LLM_SUMMARY_CHUNK_CHARS = 200  # a map-reduce: several part calls and a combine call
    payer = Payer()
    summary = await services.summarize_text(text=POLICY * 4, charge=payer)
    assert summary.chunks > 1 and fake_bedrock.converse_calls > 2
    assert payer.calls == 1
    bulk = Payer()  # a bulk suggestion: one request, several questions answered concurrently
    shared = services.charge_once(bulk)
    questions = ["Is customer data encrypted at rest?", "How long are backups kept?"]
    await asyncio.gather(*(services.suggest_answer(question=q, candidates=corpus, charge=shared) for q in questions))
    assert bulk.calls == 1 and fake_bedrock.converse_calls > 3


async def test_the_offline_provider_charges_each_computation_and_nothing_without_a_payer(corpus):
    payer = Payer()
    await services.summarize_text(text=POLICY, charge=payer)
    await services.suggest_answer(question="How long are backups kept?", candidates=corpus, charge=payer)
    assert payer.calls == 2  # nothing is cached offline: each result is computed, so each is charged
    with pytest.raises(RateLimited):
        await services.summarize_text(text=POLICY, charge=Payer(budget=0))
    await services.summarize_text(text=POLICY)  # no payer: free (a management command, a counted chat message)
