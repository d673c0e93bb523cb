"""The LLM layer's public interface: summaries, cited answer suggestions, chat turns, stats.

    async summarize_text(*, text: str, refresh=False, bypass_cache=False, charge=None) -> Summary
    async summarize_content(*, fingerprint: str, load_text, refresh=False, charge=None) -> Summary
    summary_version() -> str
    charge_once(charge) -> charge       one charge shared by several calls of one request
    async suggest_answer(*, question: str, candidates: list[Candidate], refresh=False,
                         bypass_cache=False, charge=None) -> Suggestion
    async converse(*, messages: list[dict], system="", task="chat", max_tokens=None, temperature=0.0,
                   refresh=False, bypass_cache=False, charge=None) -> Completion
    rank_passages(question, candidates, k=5) -> list[Passage]
    async retrieve_passages(*, question, candidates, k=5) -> Retrieval
    cite(answer_text, retrieval) -> (text, citations, confidence)
    stats() -> dict;  async astats() -> dict
    provider_name() -> str

Values: Summary, Suggestion, Citation (llm.results), Candidate, Passage
Retrieval (llm.retrieval), Completion (llm.bedrock). Failures after retries raise
tra.errors.ServiceUnavailable (503 with Retry-After); nothing failed is cached.

The provider is LLM_PROVIDER: `extractive` (default, offline) or `bedrock`.
Retrieval is the Bedrock Knowledge Base BEDROCK_KB_ID when set (filtered to the
candidates' documents), else BM25 over the candidates. `refresh` recomputes and
replaces a cached answer; `bypass_cache` neither reads nor writes the cache.
`charge` (an async callable, e.g. the caller's rate-limit charge) is awaited
once, right before the first model call the request itself makes: cache hits
and waits on an identical call in flight are free (llm/spending.py).
`summarize_content` is keyed on a content fingerprint the caller keeps (a
document's text hash): a hit reads no text, only a leader awaits `load_text()`;
`summary_version()` is what else a stored summary must match to be current.
See llm/cache.py for the cache key and single-flight, llm/metrics.py for stats.
"""

from django.conf import settings

from llm import bedrock, providers, retrieval, spending
from llm.bedrock import Completion, InferenceParameters
from llm.metrics import astats, stats
from llm.providers import cite
from llm.results import Citation, Suggestion, Summary
from llm.retrieval import Candidate, Passage, Retrieval, rank_passages
from llm.spending import once as charge_once
from tra.errors import ServiceUnavailable, ValidationFailed

__all__ = [
    "Candidate",
    "Citation",
    "Completion",
    "Passage",
    "Retrieval",
    "Suggestion",
    "Summary",
    "astats",
    "charge_once",
    "cite",
    "converse",
    "provider_name",
    "rank_passages",
    "retrieve_passages",
    "stats",
    "suggest_answer",
    "summarize_content",
    "summarize_text",
    "summary_version",
]

SUGGESTION_PASSAGES = 5  # passages given to the model: enough to answer, few enough to stay cheap


def provider_name() -> str:
    return providers.current().name


async def summarize_text(
    *, text: str, refresh: bool = False, bypass_cache: bool = False, charge: spending.Charge | None = None
) -> Summary:
    with spending.paid_by(charge):
        return await providers.current().summarize(text=text, refresh=refresh, bypass_cache=bypass_cache)


async def summarize_content(
    *, fingerprint: str, load_text, refresh: bool = False, charge: spending.Charge | None = None
) -> Summary:
    with spending.paid_by(charge):
        return await providers.current().summarize_content(
            fingerprint=fingerprint, load_text=load_text, refresh=refresh
        )


def summary_version() -> str:
    """Provider, model and prompt version: with the text, what a summary depends on."""
    provider = providers.current()
    return f"{provider.name}|{provider.model or ''}|{settings.LLM_PROMPT_VERSION}"


async def retrieve_passages(*, question: str, candidates: list[Candidate], k: int = SUGGESTION_PASSAGES) -> Retrieval:
    """The passages most relevant to a question (Knowledge Base or local BM25), for a prompt of your own."""
    return await retrieval.retrieve(question=question, candidates=candidates, k=k)


async def suggest_answer(
    *,
    question: str,
    candidates: list[Candidate],
    refresh: bool = False,
    bypass_cache: bool = False,
    charge: spending.Charge | None = None,
) -> Suggestion:
    question = question.strip()
    if not question:
        raise ValidationFailed("the question is empty", extra={"field": "question"})
    provider = providers.current()
    found = await retrieval.retrieve(question=question, candidates=candidates, k=SUGGESTION_PASSAGES)
    with spending.paid_by(charge):
        return await provider.answer(question=question, retrieval=found, refresh=refresh, bypass_cache=bypass_cache)


async def converse(
    *,
    messages: list[dict],
    system: str = "",
    task: str = "chat",
    max_tokens: int | None = None,
    temperature: float = 0.0,
    refresh: bool = False,
    bypass_cache: bool = False,
    charge: spending.Charge | None = None,
) -> Completion:
    """One cached, single-flight Converse turn (messages in Bedrock's shape), for the chat app."""
    if settings.LLM_PROVIDER != "bedrock":
        raise ServiceUnavailable("No generative model is configured (LLM_PROVIDER is not bedrock).", retry_after=3600)
    with spending.paid_by(charge):
        return await bedrock.converse(
            task=task,
            system=system,
            messages=messages,
            parameters=InferenceParameters(max_tokens=max_tokens, temperature=temperature),
            refresh=refresh,
            bypass_cache=bypass_cache,
        )
