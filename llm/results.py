"""What the LLM layer returns: summaries and answer suggestions.

    Summary(text, provider, model, chunks, truncated, cache, input_tokens, output_tokens, cost_usd)
    Citation(document_id, chunk, quote, filename=None)
    Suggestion(text, citations, confidence, provider, model, retrieval, cache)

`provider` is "bedrock" or "extractive"; an extractive result has model None
and no tokens: it quotes the documents and never poses as a generative model.
`cache` says how a Bedrock result was obtained: "hit", "miss" (a call was
made), "coalesced" (waited on an identical request in flight), "bypassed";
None for extractive results, which are computed locally (but a document summary
through `summarize_content` is cached and single-flight like a model's); "stored" when the caller
answered from a summary it had stored (documents: a current `summary_key`). Token and cost
figures are those of the calls that produced the result, whenever they ran.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Summary:
    text: str
    provider: str
    model: str | None
    chunks: int  # parts summarised separately before being combined (1 = the whole text at once)
    truncated: bool = False  # a step stopped at max tokens: returned, never cached
    cache: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


@dataclass(frozen=True)
class Citation:
    document_id: str
    chunk: int
    quote: str  # verbatim from the passage
    filename: str | None = None


@dataclass(frozen=True)
class Suggestion:
    text: str
    citations: list[Citation]
    confidence: float  # 0..1, from the retrieval scores of the passages relied on
    provider: str
    model: str | None
    retrieval: str  # bm25 | knowledge_base
    cache: str | None = None
