"""The providers behind summaries and suggestions, chosen by LLM_PROVIDER.

    current() -> ExtractiveProvider | BedrockProvider
    provider.name, provider.model
    async provider.summarize(*, text, refresh=False, bypass_cache=False) -> Summary
    async provider.summarize_content(*, fingerprint, load_text, refresh=False) -> Summary
    async provider.answer(*, question, retrieval, refresh=False, bypass_cache=False) -> Suggestion
    extractive_summary(text) -> str

`extractive` (the default; offline, deterministic, no AWS): a summary is the
text's top sentences by a word-frequency score, in document order (through the
cache and its single-flight only by `summarize_content`); an answer
is the best sentence(s) of the best retrieved passage, quoted, with the
passage's BM25 relevance as confidence.

`bedrock`: a summary is one Converse call, or for a text longer than
LLM_SUMMARY_CHUNK_CHARS a map-reduce (each part summarised, then the part
summaries combined, repeated while they are still too long); every step and
the whole document are cached by content. An answer is grounded in the
numbered passages and cites them as [n]; each citation's quote is taken
verbatim from the passage, never from the model. `summarize_content` keys the
cache on a content fingerprint the caller already has (a document's text hash),
so a hit reads no text; only the flight's leader calls `load_text()`.

Every computation is charged to the payer of llm/spending.py right before it
runs: a Converse call by its flight's leader, an extractive result always.

Nothing relevant retrieved, or a model that says the passages do not answer:
NOTHING_FOUND, confidence 0, no citations.
"""

import asyncio
import math
import re
from collections import Counter

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from llm import bedrock, cache, metrics, prompts, spending
from llm import text as text_analysis
from llm.results import Citation, Suggestion, Summary
from llm.retrieval import Retrieval, best_sentences

NOTHING_FOUND = "No passage in the documents answers this question."
# About what a model's 200-word summary takes; at most this many sentences.
EXTRACTIVE_SUMMARY_CHARS = 1200
EXTRACTIVE_SUMMARY_SENTENCES = 5
# What a document-level cache entry keeps of a Summary (provider, model and cache are the reader's).
_STORED_SUMMARY_FIELDS = ("text", "chunks", "truncated", "input_tokens", "output_tokens", "cost_usd")


def _cached_summary(summary: "Summary") -> cache.Computed:
    """A summary as the LLM cache stores it; a truncated one is answered but never cached."""
    return cache.Computed(
        value={name: getattr(summary, name) for name in _STORED_SUMMARY_FIELDS},
        input_tokens=summary.input_tokens,
        output_tokens=summary.output_tokens,
        cost_micro_usd=round(summary.cost_usd * 1_000_000),
        cacheable=not summary.truncated,
    )


_MARKER = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")


def _nothing_found(provider, retrieval: Retrieval, cache_source: str | None = None) -> Suggestion:
    return Suggestion(
        text=NOTHING_FOUND,
        citations=[],
        confidence=0.0,
        provider=provider.name,
        model=provider.model,
        retrieval=retrieval.source,
        cache=cache_source,
    )


def extractive_summary(text: str) -> str:
    # Extracted PDFs break lines mid-sentence and carry tables: summarise the running prose only.
    text = text_analysis.prose(text)
    spans = text_analysis.sentence_spans(text)
    sentence_terms = [text_analysis.terms(text[start:end]) for start, end in spans]
    frequency = Counter(term for terms in sentence_terms for term in terms)
    if not frequency:
        return _clip(text.strip(), EXTRACTIVE_SUMMARY_CHARS)
    top = max(frequency.values())

    def score(position: int) -> float:
        terms = sentence_terms[position]
        start, end = spans[position]
        if len(terms) < 3 or not text[start:end].rstrip("\"')]").endswith((".", "!", "?")):
            return 0.0  # headings and fragments say little
        # Frequent words mark the document's subject; the square root keeps long sentences from winning by length.
        return sum(frequency[term] for term in terms) / top / math.sqrt(len(terms))

    ranked = sorted(range(len(spans)), key=lambda position: (-score(position), position))
    if any(score(position) for position in ranked):
        ranked = [position for position in ranked if score(position)]
    chosen: list[int] = []
    size = 0
    for position in ranked:
        length = spans[position][1] - spans[position][0]
        if chosen and size + length > EXTRACTIVE_SUMMARY_CHARS:
            continue
        chosen.append(position)
        size += length + 1
        if len(chosen) == EXTRACTIVE_SUMMARY_SENTENCES:
            break
    summary = " ".join(" ".join(text[spans[p][0] : spans[p][1]].split()) for p in sorted(chosen))
    return _clip(summary, EXTRACTIVE_SUMMARY_CHARS)


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > 0 else limit] + " …"


class ExtractiveProvider:
    name = "extractive"
    model = None

    async def summarize(self, *, text: str, refresh: bool = False, bypass_cache: bool = False) -> Summary:
        # Local and deterministic: nothing to cache. Scoring a long text is CPU work, done off the loop.
        if not text.strip():
            return Summary(text="", provider=self.name, model=None, chunks=0)
        await spending.spend()  # its "model call" is this computation
        await metrics.add(offline_calls=1)
        summary = await asyncio.to_thread(extractive_summary, text)
        return Summary(text=summary, provider=self.name, model=None, chunks=1 if summary else 0)

    async def summarize_content(self, *, fingerprint: str, load_text, refresh: bool = False) -> Summary:
        """Cached under the fingerprint like a model's summary, so that concurrent identical requests
        compute (and are charged) once and a long text is scored once, not once per request."""
        key = cache.cache_key(
            task="summary.content",
            model_id=self.name,
            system="",
            messages=[{"fingerprint": fingerprint}],
            parameters={"chars": EXTRACTIVE_SUMMARY_CHARS, "sentences": EXTRACTIVE_SUMMARY_SENTENCES},
        )

        async def compute() -> cache.Computed:
            await spending.spend()  # charged before the text is read: a refused request reads nothing more
            summary = await self.summarize(text=await load_text())
            return cache.Computed(value={name: getattr(summary, name) for name in _STORED_SUMMARY_FIELDS})

        lookup = await cache.get_or_compute(key, ttl=cache.ttl_for("summary"), compute=compute, refresh=refresh)
        return Summary(**lookup.value, provider=self.name, model=None, cache=lookup.source)

    async def answer(
        self, *, question: str, retrieval: Retrieval, refresh: bool = False, bypass_cache: bool = False
    ) -> Suggestion:
        if not retrieval.passages:
            return _nothing_found(self, retrieval)
        await spending.spend()
        await metrics.add(offline_calls=1)
        best = retrieval.passages[0]
        quote = best_sentences(best.text, retrieval.term_weights)
        return Suggestion(
            text=quote,
            citations=[Citation(document_id=best.document_id, chunk=best.chunk, quote=quote, filename=best.filename)],
            confidence=best.relevance,
            provider=self.name,
            model=None,
            retrieval=retrieval.source,
        )


class BedrockProvider:
    name = "bedrock"

    @property
    def model(self) -> str:
        return settings.BEDROCK_MODEL_ID

    async def summarize(self, *, text: str, refresh: bool = False, bypass_cache: bool = False) -> Summary:
        text = text.strip()
        if not text:
            return Summary(text="", provider=self.name, model=self.model, chunks=0)
        chunk_chars = settings.LLM_SUMMARY_CHUNK_CHARS
        parts = text_analysis.chunks(text, chunk_chars)
        if len(parts) == 1:
            completion = await bedrock.converse(
                task="summary",
                system=prompts.SUMMARY_SYSTEM,
                messages=[prompts.user_message(text)],
                refresh=refresh,
                bypass_cache=bypass_cache,
            )
            return self._summary(completion.text, [completion], chunks=1, cache_source=completion.cache)

        # The whole document is one cache entry too: a repeat costs one read, not one per part.
        parameters = bedrock.InferenceParameters().to_config()
        key = cache.cache_key(
            task="summary.document",
            model_id=self.model,
            system=prompts.SUMMARY_SYSTEM,
            messages=[prompts.user_message(text)],
            parameters={**parameters, "chunk_chars": chunk_chars},
        )

        async def compute() -> cache.Computed:
            return _cached_summary(await self._map_reduce(parts, refresh=refresh, bypass_cache=bypass_cache))

        lookup = await cache.get_or_compute(
            key, ttl=cache.ttl_for("summary"), compute=compute, refresh=refresh, bypass=bypass_cache
        )
        return Summary(**lookup.value, provider=self.name, model=self.model, cache=lookup.source)

    async def summarize_content(self, *, fingerprint: str, load_text, refresh: bool = False) -> Summary:
        """The summary of the text whose fingerprint is `fingerprint`, cached under that fingerprint:
        a hit needs neither the text nor a call; only the flight's leader awaits `load_text()`."""
        parameters = bedrock.InferenceParameters().to_config()
        key = cache.cache_key(
            task="summary.content",
            model_id=self.model,
            system=prompts.SUMMARY_SYSTEM,
            messages=[{"fingerprint": fingerprint}],
            parameters={**parameters, "chunk_chars": settings.LLM_SUMMARY_CHUNK_CHARS},
        )

        async def compute() -> cache.Computed:
            return _cached_summary(await self.summarize(text=await load_text(), refresh=refresh))

        lookup = await cache.get_or_compute(key, ttl=cache.ttl_for("summary"), compute=compute, refresh=refresh)
        return Summary(**lookup.value, provider=self.name, model=self.model, cache=lookup.source)

    async def _map_reduce(self, parts: list[str], *, refresh: bool, bypass_cache: bool) -> Summary:
        chunk_chars = settings.LLM_SUMMARY_CHUNK_CHARS
        completions: list[bedrock.Completion] = []

        async def summarize_parts(texts: list[str]) -> list[str]:
            done = await asyncio.gather(
                *(
                    bedrock.converse(
                        task="summary.part",
                        system=prompts.SUMMARY_PART_SYSTEM,
                        messages=[prompts.user_message(part)],
                        refresh=refresh,
                        bypass_cache=bypass_cache,
                    )
                    for part in texts
                )
            )
            completions.extend(done)
            return [completion.text for completion in done]

        summaries = await summarize_parts(parts)
        combined = prompts.combine_prompt(summaries)
        previous = sum(len(part) for part in parts)
        # Part summaries still too long to combine in one call are summarised again,
        # as long as each round shrinks them.
        while len(combined) > chunk_chars and len(combined) < previous:
            previous = len(combined)
            summaries = await summarize_parts(text_analysis.chunks(combined, chunk_chars))
            combined = prompts.combine_prompt(summaries)
        final = await bedrock.converse(
            task="summary.combine",
            system=prompts.SUMMARY_COMBINE_SYSTEM,
            messages=[prompts.user_message(combined)],
            refresh=refresh,
            bypass_cache=bypass_cache,
        )
        completions.append(final)
        return self._summary(final.text, completions, chunks=len(parts), cache_source="miss")

    def _summary(self, text: str, completions: list, *, chunks: int, cache_source: str | None) -> Summary:
        return Summary(
            text=text,
            provider=self.name,
            model=self.model,
            chunks=chunks,
            truncated=any(completion.truncated for completion in completions),
            cache=cache_source,
            input_tokens=sum(completion.input_tokens for completion in completions),
            output_tokens=sum(completion.output_tokens for completion in completions),
            cost_usd=sum(completion.cost_micro_usd for completion in completions) / 1_000_000,
        )

    async def answer(
        self, *, question: str, retrieval: Retrieval, refresh: bool = False, bypass_cache: bool = False
    ) -> Suggestion:
        passages = retrieval.passages
        if not passages:
            return _nothing_found(self, retrieval)
        prompt = prompts.suggestion_prompt(question, [passage.text for passage in passages])
        completion = await bedrock.converse(
            task="suggestion",
            system=prompts.SUGGESTION_SYSTEM,
            messages=[prompts.user_message(prompt)],
            refresh=refresh,
            bypass_cache=bypass_cache,
        )
        raw = completion.text.strip()
        if not raw or raw.startswith(prompts.NOT_FOUND):
            return _nothing_found(self, retrieval, completion.cache)

        text, citations, confidence = cite(raw, retrieval)
        return Suggestion(
            text=text,
            citations=citations,
            confidence=confidence,
            provider=self.name,
            model=completion.model,
            retrieval=retrieval.source,
            cache=completion.cache,
        )


def cite(raw: str, retrieval: Retrieval) -> tuple[str, list[Citation], float]:
    """A model's answer that cites numbered passages ([2], [1, 3]) as (text, citations, confidence).

    Passage numbers become citation numbers in order of first mention; numbers that name no
    passage are dropped; each citation quotes, verbatim, the passage's sentences that best
    match the question and the answer. Confidence is the best cited passage's relevance, or
    half the top passage's when the answer cites none.
    """
    passages = retrieval.passages
    cited: dict[int, int] = {}

    def renumber(match: re.Match) -> str:
        labels = []
        for number in (int(part) for part in re.split(r"\s*[,;]\s*", match[1])):
            if 1 <= number <= len(passages):
                labels.append(cited.setdefault(number, len(cited) + 1))
        return "[" + ", ".join(str(label) for label in dict.fromkeys(labels)) + "]" if labels else ""

    text = re.sub(r"\s+([.,;:])", r"\1", _MARKER.sub(renumber, raw)).strip()
    weights = {term: 1.0 for term in text_analysis.terms(text)} | retrieval.term_weights
    citations = [
        Citation(
            document_id=passages[number - 1].document_id,
            chunk=passages[number - 1].chunk,
            quote=best_sentences(passages[number - 1].text, weights),
            filename=passages[number - 1].filename,
        )
        for number in cited
    ]
    if citations:
        confidence = max(passages[number - 1].relevance for number in cited)
    elif passages:
        confidence = round(passages[0].relevance / 2, 2)  # an answer it did not ground: trust it less
    else:
        confidence = 0.0
    return text, citations, confidence


_PROVIDERS = {"extractive": ExtractiveProvider, "bedrock": BedrockProvider}


def current() -> ExtractiveProvider | BedrockProvider:
    try:
        return _PROVIDERS[settings.LLM_PROVIDER]()
    except KeyError:
        raise ImproperlyConfigured(
            f"LLM_PROVIDER must be one of {', '.join(_PROVIDERS)}, got {settings.LLM_PROVIDER!r}"
        ) from None
