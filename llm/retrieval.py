"""Finding the passages that answer a question.

    Candidate(document_id: str, chunk: int, text: str, filename: str | None = None)
    Passage(document_id, chunk, text, filename, score: float, relevance: float)
    Retrieval(passages: list[Passage], source: "bm25" | "knowledge_base", term_weights: dict[str, float])

    Corpus(candidates)                                             # candidates + their BM25, built once
    rank_passages(question, candidates, k=5) -> list[Passage]      # local BM25, sync
    local_retrieval(question, candidates, k=5) -> Retrieval        # BM25 with the weights kept
    async retrieve(*, question, candidates, k=5) -> Retrieval      # Knowledge Base when BEDROCK_KB_ID is set
    best_sentences(text, term_weights) -> str                      # the sentence(s) to quote

`candidates` is a list of Candidate or a Corpus: the same candidates whose tokenised
BM25 index is built on first use and kept with them, so a caller that keeps a Corpus
(assessments keeps one per assessment and evidence version) ranks repeated questions
without re-tokenising thousands of passages. The ranking is the same either way.

`score` is the raw BM25 (or Knowledge Base) score; `relevance` puts it on 0..1:
for BM25 it is the passage's score over the score of an ideal passage holding
every question term once at average length (the share of the question's IDF
mass the passage covers, saturated by term frequency); for the Knowledge Base it
is the service's own relevance score. Only passages with a positive score are
returned.

The Knowledge Base is always filtered to the candidates' documents: it holds
every owner's evidence, and a suggestion may only cite the assessment's own.
"""

import asyncio
import math
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from django.conf import settings

from llm import bedrock
from llm import text as text_analysis


@dataclass(frozen=True)
class Candidate:
    document_id: str
    chunk: int
    text: str
    filename: str | None = None


@dataclass(frozen=True)
class Passage:
    document_id: str
    chunk: int
    text: str
    filename: str | None
    score: float
    relevance: float


@dataclass(frozen=True)
class Retrieval:
    passages: list[Passage]
    source: str
    term_weights: dict[str, float] = field(default_factory=dict)  # IDF of each question term


class BM25:
    """Okapi BM25 over tokenised documents (k1 = 1.5, b = 0.75, the usual defaults)."""

    def __init__(self, documents: list[list[str]], *, k1: float = 1.5, b: float = 0.75):
        self.k1, self.b = k1, b
        self.frequencies = [Counter(document) for document in documents]
        self.lengths = [len(document) for document in documents]
        self.count = len(documents)
        self.average_length = (sum(self.lengths) / self.count) if self.count else 0.0
        self.document_frequency: Counter[str] = Counter()
        for frequency in self.frequencies:
            self.document_frequency.update(frequency.keys())

    def idf(self, term: str) -> float:
        # The "+1" form (Lucene's) never goes negative for terms in most documents.
        seen = self.document_frequency[term]
        return math.log(1 + (self.count - seen + 0.5) / (seen + 0.5))

    def score(self, query: list[str], index: int) -> float:
        frequency, length = self.frequencies[index], self.lengths[index]
        norm = self.k1 * (1 - self.b + self.b * length / (self.average_length or 1))
        total = 0.0
        for term in query:
            occurrences = frequency.get(term, 0)
            if occurrences:
                total += self.idf(term) * occurrences * (self.k1 + 1) / (occurrences + norm)
        return total

    def ideal_score(self, query: list[str]) -> float:
        """The score of an average-length document holding each query term once: sum of the IDFs."""
        return sum(self.idf(term) for term in query)


class Corpus(Sequence):
    """Retrieval candidates, in order, with their BM25 index built once on first use (under a
    lock: concurrent first questions tokenise once) and kept for every later question."""

    def __init__(self, candidates: Sequence[Candidate]):
        self._candidates = tuple(candidates)
        self._index: BM25 | None = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._candidates)

    def __getitem__(self, position):
        return self._candidates[position]

    def __iter__(self) -> Iterator[Candidate]:
        return iter(self._candidates)

    def __repr__(self) -> str:
        return f"Corpus({len(self._candidates)} candidates)"

    @property
    def document_ids(self) -> list[str]:
        """The candidates' documents, unique, in order (what a Knowledge Base query is filtered to)."""
        return list(dict.fromkeys(candidate.document_id for candidate in self._candidates))

    def index(self) -> BM25:
        if self._index is None:
            with self._lock:
                if self._index is None:
                    self._index = BM25([text_analysis.terms(candidate.text) for candidate in self._candidates])
        return self._index


def _bm25(candidates: Sequence[Candidate]) -> BM25:
    if isinstance(candidates, Corpus):
        return candidates.index()
    return BM25([text_analysis.terms(candidate.text) for candidate in candidates])


def _query_terms(question: str) -> list[str]:
    return list(dict.fromkeys(text_analysis.terms(question)))  # unique, in order


def local_retrieval(question: str, candidates: Sequence[Candidate], k: int = 5) -> Retrieval:
    query = _query_terms(question)
    if not query or not candidates:
        return Retrieval(passages=[], source="bm25")
    index = _bm25(candidates)
    ideal = index.ideal_score(query)
    scored = [(index.score(query, position), position) for position in range(len(candidates))]
    scored = sorted((item for item in scored if item[0] > 0), key=lambda item: (-item[0], item[1]))[:k]
    passages = [
        Passage(
            document_id=candidates[position].document_id,
            chunk=candidates[position].chunk,
            text=candidates[position].text,
            filename=candidates[position].filename,
            score=round(score, 4),
            relevance=round(min(1.0, score / ideal), 2) if ideal else 0.0,
        )
        for score, position in scored
    ]
    return Retrieval(passages=passages, source="bm25", term_weights={term: index.idf(term) for term in query})


def rank_passages(question: str, candidates: Sequence[Candidate], k: int = 5) -> list[Passage]:
    """The `k` candidates most relevant to `question` by BM25, best first (ties keep input order)."""
    return local_retrieval(question, candidates, k).passages


async def retrieve(*, question: str, candidates: Sequence[Candidate], k: int = 5) -> Retrieval:
    if not candidates:
        return Retrieval(passages=[], source="knowledge_base" if settings.BEDROCK_KB_ID else "bm25")
    if settings.BEDROCK_KB_ID:
        return await _knowledge_base_retrieval(question, candidates, k)
    # Tokenising thousands of chunks is CPU work: keep it off the event loop.
    return await asyncio.to_thread(local_retrieval, question, candidates, k)


async def _knowledge_base_retrieval(question: str, candidates: Sequence[Candidate], k: int) -> Retrieval:
    filenames = {candidate.document_id: candidate.filename for candidate in candidates}
    results = await bedrock.retrieve(
        knowledge_base_id=settings.BEDROCK_KB_ID, query=question, k=k, document_ids=sorted(filenames)
    )
    passages = []
    for result in results:
        metadata = result.get("metadata") or {}
        document_id = str(metadata.get("document_id") or "")
        text = (result.get("content") or {}).get("text") or ""
        score = float(result.get("score") or 0.0)
        if document_id not in filenames or not text or score <= 0:
            continue  # only the candidates' documents may be cited
        passages.append(
            Passage(
                document_id=document_id,
                chunk=int(metadata.get("chunk") or 0),
                text=text,
                filename=filenames[document_id],
                score=score,
                relevance=round(min(1.0, score), 2),
            )
        )
    passages.sort(key=lambda passage: -passage.score)
    # Weights for choosing sentences to quote, from the retrieved passages themselves.
    index = BM25([text_analysis.terms(passage.text) for passage in passages])
    weights = {term: index.idf(term) for term in _query_terms(question)} if passages else {}
    return Retrieval(passages=passages[:k], source="knowledge_base", term_weights=weights)


def best_sentences(text: str, term_weights: dict[str, float], *, limit: int = 2) -> str:
    """The sentence of `text` that best matches the weighted terms, with the runner-up when it
    scores at least half as well; in text order, verbatim. The first sentence if none matches."""
    spans = text_analysis.sentence_spans(text)
    if not spans:
        return text.strip()
    scores = []
    for position, (start, end) in enumerate(spans):
        present = set(text_analysis.terms(text[start:end]))
        scores.append((sum(weight for term, weight in term_weights.items() if term in present), position))
    ranked = sorted(scores, key=lambda item: (-item[0], item[1]))
    best_score = ranked[0][0]
    if best_score <= 0:
        return text[spans[0][0] : spans[0][1]]
    chosen = sorted(position for score, position in ranked[:limit] if score >= best_score / 2)
    # Quote one contiguous slice when the sentences are adjacent, else the best one alone.
    if len(chosen) == 2 and chosen[1] != chosen[0] + 1:
        chosen = [ranked[0][1]]
    return text[spans[chosen[0]][0] : spans[chosen[-1]][1]]
