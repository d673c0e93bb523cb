"""Plain-text analysis shared by retrieval, extractive answers and summaries.

- `terms(text)`: index terms: lowercase words, stop words dropped, plurals lightly
  stripped (`policies` -> `policy`, `backups` -> `backup`, `access` stays).
- `sentences(text)`: the sentences of a text, each a verbatim slice of it (so a
  quote built from them is always found in the source).
- `chunks(text, max_chars)`: consecutive slices of at most `max_chars`, cut at
  sentence ends where possible (for map-reduce summaries).
"""

import re

_WORD = re.compile(r"[^\W_]+")
# A sentence ends at . ! ? (and closing quotes/brackets) before whitespace, at a
# blank line, or before a bullet on a new line.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\n\s*\n|\n(?=\s*(?:[-*•]|\d+[.)])\s)")

_STOP_WORDS_TEXT = """
a about all also an and any are as at be been being but by can could did do does done for from had has have how
i if in into is it its may me might must my no nor not of on or our ours shall should so such than that the their
them then there these they this those to under upon us was we were what when where which while who whom why will
with would yes you your
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())


def singular(word: str) -> str:
    """Light plural stripping: enough to match `policies`/`policy`, `keys`/`key`, not a stemmer."""
    if len(word) <= 3 or word.isdigit():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "zes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def terms(text: str) -> list[str]:
    return [singular(word) for word in words(text) if word not in STOP_WORDS]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each non-blank sentence, whitespace trimmed."""
    spans = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        closing = len(match[0]) - len(match[0].lstrip("\"')]"))  # quotes and brackets end the sentence
        spans.append((start, match.start() + closing))
        start = match.end()
    spans.append((start, len(text)))
    trimmed = []
    for begin, end in spans:
        segment = text[begin:end]
        stripped = segment.strip()
        if stripped:
            offset = begin + (len(segment) - len(segment.lstrip()))
            trimmed.append((offset, offset + len(stripped)))
    return trimmed


def sentences(text: str) -> list[str]:
    return [text[begin:end] for begin, end in sentence_spans(text)]


def chunks(text: str, max_chars: int) -> list[str]:
    """Consecutive slices of `text` of at most `max_chars`, cut after a sentence where one fits."""
    text = text.strip()
    if len(text) <= max_chars:
        return [text] if text else []
    pieces: list[str] = []
    start = 0  # start of the chunk being filled
    end = 0  # end of the last sentence that fits in it
    for sentence_start, sentence_end in sentence_spans(text):
        if sentence_end - start <= max_chars:
            end = sentence_end
            continue
        if end > start:
            pieces.append(text[start:end])
            start = sentence_start
        # A sentence longer than a chunk is cut at the last space that fits.
        while sentence_end - start > max_chars:
            cut = text.rfind(" ", start + 1, start + max_chars)
            cut = cut if cut > start else start + max_chars
            pieces.append(text[start:cut])
            start = cut
        end = sentence_end
    if end > start:
        pieces.append(text[start:end])
    return [piece.strip() for piece in pieces if piece.strip()]
