"""Plain-text analysis shared by retrieval, extractive answers and summaries.

- `terms(text)`: index terms: lowercase words, stop words dropped, plurals lightly
  stripped (`policies` -> `policy`, `backups` -> `backup`, `access` stays).
- `sentences(text)`: the sentences of a text, each a verbatim slice of it (so a
  quote built from them is always found in the source).
- `chunks(text, max_chars)`: consecutive slices of at most `max_chars`, cut at
  sentence ends where possible (for map-reduce summaries).
- `prose(text)`: the running text of an extracted document (a PDF's hard line
  breaks joined, table and binary-looking rows dropped), for extractive summaries.
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


# A "code" token of a table or binary row: a number (12, 0x1F, 3.5%, 2024-01-31), an identifier with
# digits or underscores (CARD32, N_PARENTS, u_int8), or an all-capitals token (WINDOW, ATOM).
_NUMBER = re.compile(r"^[#+\-]?(?:0x[0-9a-f]+|[\d.,:/%\-]*\d[\d.,:/%\-]*)$", re.IGNORECASE)
_IDENTIFIER = re.compile(r"^(?=.*[\d_])[A-Za-z0-9_]+$")
_SENTENCE_CLOSE = (".", "!", "?", '."', ".)", ",")
HEADING_CHARS = 60  # a line this short, not ending a sentence, before a capitalised line: a heading


def _is_code(token: str) -> bool:
    token = token.strip("()[]{},;")
    if not token:
        return True
    return bool(
        _NUMBER.match(token) or _IDENTIFIER.match(token) or (len(token) > 1 and token.isupper() and token.isalpha())
    )


def is_table_row(line: str) -> bool:
    """A row of a table or of binary-looking text rather than prose: mostly numbers, codes and capitals
    (`4 CARD32 N_PARENTS number of parents`), or mostly characters that are not letters."""
    visible = "".join(line.split())
    if not visible:
        return False
    letters = sum(character.isalpha() for character in visible)
    if letters / len(visible) < 0.5:
        return True
    tokens = line.split()
    if len(tokens) < 2 or line.rstrip().endswith((".", "!", "?")):
        return False
    codes = sum(_is_code(token) for token in tokens)
    return codes >= 2 and codes / len(tokens) >= 0.4


def prose(text: str) -> str:
    """The running text of an extracted document: the lines of a paragraph joined into one (a word
    hyphenated across lines rejoined), table and binary-looking rows dropped, headings and
    paragraphs kept apart by a blank line."""
    paragraphs: list[str] = []
    current: list[str] = []

    def close() -> None:
        if current:
            paragraphs.append(" ".join(current))
            current.clear()

    lines = [line.strip() for line in text.splitlines()]
    for position, line in enumerate(lines):
        if not line or is_table_row(line):
            close()
            continue
        line = " ".join(line.split())
        if current and current[-1].endswith("-") and line[:1].islower() and current[-1][-2:-1].isalpha():
            current[-1] = current[-1][:-1] + line  # "encryp-" + "tion at rest"
        else:
            current.append(line)
        following = lines[position + 1] if position + 1 < len(lines) else ""
        if len(line) <= HEADING_CHARS and not line.endswith(_SENTENCE_CLOSE) and following[:1].isupper():
            close()  # a heading or a list item: not the start of the next sentence
    close()
    return "\n\n".join(paragraphs)


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
