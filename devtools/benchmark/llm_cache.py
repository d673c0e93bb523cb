"""Section 4: the LLM response cache on a replayed workload, against no cache.

The workload: `requests` document summaries of which `unique_share` are distinct
texts, the rest repeats drawn with a Zipf-like skew (a few documents are asked
about again and again, as popular vendors' SOC 2 reports are), replayed in waves
of `wave` concurrent requests, so some duplicates are in flight at the same time.
The design is the llm app as the API uses it (cache + single-flight, through the
`llm` cache: Redis when REDIS_URL is set, local memory otherwise); the baseline is
the same calls with `bypass_cache=True`. Calls are counted by the fake Bedrock
server, dollars by the LLM layer's own meter (LLM_PRICES).
"""

import asyncio
import random
import uuid
from dataclasses import dataclass

from devtools import demo
from llm import services as llm
from tra.aws import clients


@dataclass
class CacheFigures:
    requests: int
    bedrock_calls: int
    cost_usd: float
    hits: int = 0
    coalesced: int = 0


@dataclass
class CacheResult:
    unique: int
    wave: int
    cached: CacheFigures
    uncached: CacheFigures


def workload(requests: int, unique_share: float, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    run = uuid.uuid4().hex  # nothing from an earlier run is in the cache
    unique = max(1, round(requests * unique_share))
    texts = []
    for n in range(unique):
        vendor = rng.choice(demo.VENDORS)
        passages = [answer for _question, answer in rng.sample(demo.CONTROLS, 4)]
        texts.append(f"{vendor} evidence pack {n} ({run}).\n\n" + "\n\n".join(passages))
    weights = [1 / rank for rank in range(1, unique + 1)]
    requested = texts + rng.choices(texts, weights, k=requests - unique)
    rng.shuffle(requested)
    return requested


async def _replay(texts: list[str], wave: int, *, bypass: bool) -> None:
    for start in range(0, len(texts), wave):
        batch = texts[start : start + wave]
        await asyncio.gather(*(llm.summarize_text(text=text, bypass_cache=bypass) for text in batch))
    await clients.close()


def _measure(bedrock, texts: list[str], wave: int, *, bypass: bool) -> CacheFigures:
    before, calls = llm.stats(), bedrock.converse_calls
    asyncio.run(_replay(texts, wave, bypass=bypass))
    after = llm.stats()
    return CacheFigures(
        requests=len(texts),
        bedrock_calls=bedrock.converse_calls - calls,
        cost_usd=(after["cost_micro_usd"] - before["cost_micro_usd"]) / 1_000_000,
        hits=after["hits"] - before["hits"],
        coalesced=after["coalesced"] - before["coalesced"],
    )


def run(bedrock, requests: int = 1_000, unique_share: float = 0.3, wave: int = 20, *, progress=print) -> CacheResult:
    progress(f"llm cache: replaying {requests:,} summary requests ({unique_share:.0%} unique), {wave} at a time")
    bedrock.latency = 0.02  # long enough for concurrent duplicates to overlap
    try:
        cached = _measure(bedrock, workload(requests, unique_share), wave, bypass=False)
        uncached = _measure(bedrock, workload(requests, unique_share), wave, bypass=True)
    finally:
        bedrock.latency = 0.0
    return CacheResult(round(requests * unique_share), wave, cached, uncached)
