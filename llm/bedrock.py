"""AWS Bedrock through the shared aioboto3 clients: Converse (cached) and Knowledge Base Retrieve.

    InferenceParameters(max_tokens=None, temperature=0.0, top_p=None, stop_sequences=())
    Completion(text, stop_reason, model, input_tokens, output_tokens, latency_ms, cost_micro_usd, cache)
    async converse(*, task, system, messages, parameters=None, model_id=None,
                   refresh=False, bypass_cache=False, client=None) -> Completion     # through llm.cache
    async invoke(*, task, system, messages, parameters=None, model_id=None, client=None) -> Completion  # one call
    async retrieve(*, knowledge_base_id, query, k, document_ids, client=None) -> list[dict]
    async warm()                                                   # create the client outside a request

Clients come from `tra.aws.clients` (one per process, event loop and service,
pooled to AWS_MAX_POOL_CONNECTIONS, timeouts and retry mode from settings);
`client=` injects another. At most LLM_MAX_CONCURRENCY calls are in flight per
event loop (a worker process has one): the rest queue on a semaphore.

botocore retries throttling, 5xx and connection errors with exponential
backoff and jitter, up to AWS_MAX_ATTEMPTS tries, but not a Converse whose
answer did not come within BEDROCK_READ_TIMEOUT_SECONDS: the model may have run
and been billed, so one request makes at most one such call (tra/aws.py). A
call, its queueing and its retries together get BEDROCK_DEADLINE_SECONDS. What
is still failing after that becomes `tra.errors.ServiceUnavailable` with
`retry_after` (and is never cached). Every call that got an answer is metered: model,
tokens, latency, retries and cost (LLM_PRICES) in `llm.metrics`.

`messages` use the Converse shape: [{"role": "user", "content": [{"text": ...}]}].
"""

import asyncio
import time
import weakref
from dataclasses import asdict, dataclass

from botocore.exceptions import BotoCoreError, ClientError, ReadTimeoutError
from django.conf import settings

from llm import cache, metrics, spending
from tra.aws import clients
from tra.errors import ServiceUnavailable

# Stop reasons whose text is a complete answer; anything else (max_tokens,
# guardrail_intervened, content_filtered, ...) is returned but never cached.
COMPLETE = frozenset({"end_turn", "stop_sequence"})
_THROTTLED = frozenset({"ThrottlingException", "TooManyRequestsException", "ServiceQuotaExceededException"})
_TRANSIENT = frozenset(
    {"InternalServerException", "ServiceUnavailableException", "ModelNotReadyException", "ModelTimeoutException"}
)


@dataclass(frozen=True)
class InferenceParameters:
    max_tokens: int | None = None  # None: LLM_MAX_OUTPUT_TOKENS
    temperature: float = 0.0  # deterministic answers are what a cache wants
    top_p: float | None = None
    stop_sequences: tuple[str, ...] = ()

    def to_config(self) -> dict:
        """Bedrock's inferenceConfig; also the parameters part of the cache key."""
        config = {"maxTokens": self.max_tokens or settings.LLM_MAX_OUTPUT_TOKENS, "temperature": self.temperature}
        if self.top_p is not None:
            config["topP"] = self.top_p
        if self.stop_sequences:
            config["stopSequences"] = list(self.stop_sequences)
        return config


@dataclass(frozen=True)
class Completion:
    text: str
    stop_reason: str
    model: str
    input_tokens: int
    output_tokens: int
    latency_ms: int
    cost_micro_usd: int
    cache: str | None = None  # hit | miss | coalesced | bypassed

    @property
    def complete(self) -> bool:
        return self.stop_reason in COMPLETE and bool(self.text.strip())

    @property
    def truncated(self) -> bool:
        return self.stop_reason in {"max_tokens", "model_context_window_exceeded"}

    @property
    def cost_usd(self) -> float:
        return self.cost_micro_usd / 1_000_000

    def to_dict(self) -> dict:
        return {name: value for name, value in asdict(self).items() if name != "cache"}


# event loop -> (limit, semaphore): a semaphore belongs to the loop that first waits on it.
_limits: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[int, asyncio.Semaphore]]" = (
    weakref.WeakKeyDictionary()
)


def _concurrency_limit() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    limit = settings.LLM_MAX_CONCURRENCY
    current = _limits.get(loop)
    if current is None or current[0] != limit:
        current = (limit, asyncio.Semaphore(limit))
        _limits[loop] = current
    return current[1]


async def warm() -> None:
    await clients.warm("bedrock-runtime")


async def converse(
    *,
    task: str,
    system: str,
    messages: list[dict],
    parameters: InferenceParameters | None = None,
    model_id: str | None = None,
    refresh: bool = False,
    bypass_cache: bool = False,
    client=None,
) -> Completion:
    model_id = model_id or settings.BEDROCK_MODEL_ID
    parameters = parameters or InferenceParameters()
    key = cache.cache_key(
        task=task, model_id=model_id, system=system, messages=messages, parameters=parameters.to_config()
    )

    async def compute() -> cache.Computed:
        await spending.spend()  # the flight's leader is about to call: charge its payer
        completion = await invoke(
            task=task, system=system, messages=messages, parameters=parameters, model_id=model_id, client=client
        )
        return cache.Computed(
            value=completion.to_dict(),
            input_tokens=completion.input_tokens,
            output_tokens=completion.output_tokens,
            cost_micro_usd=completion.cost_micro_usd,
            cacheable=completion.complete,
        )

    lookup = await cache.get_or_compute(
        key, ttl=cache.ttl_for(task), compute=compute, refresh=refresh, bypass=bypass_cache
    )
    return Completion(**lookup.value, cache=lookup.source)


async def invoke(
    *,
    task: str,
    system: str,
    messages: list[dict],
    parameters: InferenceParameters | None = None,
    model_id: str | None = None,
    client=None,
) -> Completion:
    """One Converse call (botocore's retries included), metered; no cache."""
    model_id = model_id or settings.BEDROCK_MODEL_ID
    request = {
        "modelId": model_id,
        "messages": messages,
        "inferenceConfig": (parameters or InferenceParameters()).to_config(),
    }
    if system:
        request["system"] = [{"text": system}]  # Bedrock refuses an empty system block
    client = client or await clients.get("bedrock-runtime")
    deadline = settings.BEDROCK_DEADLINE_SECONDS
    try:
        async with asyncio.timeout(deadline), _concurrency_limit():
            started = time.monotonic()
            try:
                response = await client.converse(**request)
            except (ClientError, BotoCoreError) as error:
                await metrics.add(bedrock_calls=1, bedrock_errors=1, bedrock_retries=_retries(error))
                raise _unavailable("Converse", error) from error
            latency_ms = round((time.monotonic() - started) * 1000)
    except TimeoutError as error:
        await metrics.add(bedrock_calls=1, bedrock_errors=1)
        raise ServiceUnavailable(
            f"Bedrock Converse did not answer within the {deadline:g} s deadline (BEDROCK_DEADLINE_SECONDS).",
            retry_after=10,
            extra={"error_code": "DeadlineExceeded"},
        ) from error
    usage = response.get("usage", {})
    input_tokens, output_tokens = usage.get("inputTokens", 0), usage.get("outputTokens", 0)
    cost = metrics.cost_micro_usd(model_id, input_tokens, output_tokens)
    await metrics.record_call(
        task=task,
        model_id=model_id,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        latency_ms=latency_ms,
        retries=response.get("ResponseMetadata", {}).get("RetryAttempts", 0),
        cost=cost,
    )
    content = response.get("output", {}).get("message", {}).get("content", [])
    return Completion(
        text="".join(block.get("text", "") for block in content),
        stop_reason=response.get("stopReason", ""),
        model=model_id,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        latency_ms=latency_ms,
        cost_micro_usd=cost,
    )


async def retrieve(*, knowledge_base_id: str, query: str, k: int, document_ids: list[str], client=None) -> list[dict]:
    """The Knowledge Base's `k` best results for `query`, restricted to `document_ids` (metadata filter)."""
    search: dict = {"numberOfResults": k}
    if document_ids:
        search["filter"] = {"in": {"key": "document_id", "value": list(document_ids)}}
    client = client or await clients.get("bedrock-agent-runtime")
    async with _concurrency_limit():
        try:
            response = await client.retrieve(
                knowledgeBaseId=knowledge_base_id,
                retrievalQuery={"text": query},
                retrievalConfiguration={"vectorSearchConfiguration": search},
            )
        except (ClientError, BotoCoreError) as error:
            raise _unavailable("Retrieve", error) from error
    await metrics.add(knowledge_base_retrievals=1)
    return response.get("retrievalResults", [])


def _retries(error: Exception) -> int:
    if isinstance(error, ClientError):
        return error.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
    return 0


def _unavailable(operation: str, error: Exception) -> ServiceUnavailable:
    attempts = _retries(error) + 1
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "Unknown")
        message = error.response.get("Error", {}).get("Message", "")
        if code in _THROTTLED:
            reason, retry_after = "is throttling requests", 10
        elif code in _TRANSIENT or error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500:
            reason, retry_after = "is failing", 5
        else:
            # Access denied, unknown model, invalid request: retrying will not help soon.
            reason, retry_after = "refused the request", 60
        return ServiceUnavailable(
            f"Bedrock {operation} {reason} ({code}: {message}) after {attempts} attempt(s).",
            retry_after=retry_after,
            extra={"error_code": code, "attempts": attempts},
        )
    if isinstance(error, ReadTimeoutError) and operation == "Converse":
        timeout = settings.BEDROCK_READ_TIMEOUT_SECONDS
        return ServiceUnavailable(
            f"Bedrock {operation} did not answer within {timeout:g} s (BEDROCK_READ_TIMEOUT_SECONDS); "
            "not retried, as the model may have run.",
            retry_after=10,
            extra={"error_code": type(error).__name__, "attempts": attempts},
        )
    return ServiceUnavailable(
        f"Bedrock {operation} is unreachable ({type(error).__name__}: {error}).",
        retry_after=5,
        extra={"error_code": type(error).__name__},
    )
