"""Text extraction from evidence files, bounded so no upload can cost unbounded work.

`extract()` checks an upload (`check_upload`: size, type sniffed from the bytes,
the declared type), parses it (PDF with pypdf, DOCX with python-docx, UTF-8
text and Markdown as they are), normalizes the text and cuts it into
overlapping passages for retrieval and citations. It is a pure library (no
storage, no HTTP), CPU-bound and sync: callers run it off the event loop.

Safety limits, all from settings, each refusal an `ExtractionError` whose
status and message suit a 4xx response:

- DOCUMENT_MAX_BYTES: larger uploads are 413, before anything is parsed.
- DOCUMENT_ALLOWED_TYPES: the type comes from the bytes (magic numbers), never
  from the client; a declared type that contradicts them is 415.
- DOCUMENT_MAX_PAGES: a PDF with more pages is 422 before any page is read.
  pypdf's own per-stream decompression limits are lowered to
  DOCUMENT_MAX_UNCOMPRESSED_BYTES (pypdf's default is 75 MB per stream).
- DOCUMENT_MAX_UNCOMPRESSED_BYTES, MAX_ZIP_MEMBERS, MAX_COMPRESSION_RATIO: a
  DOCX is a zip; its directory is read before any member is inflated, so a zip
  bomb is refused without being decompressed. (Python's zipfile also never
  inflates a member past the size its directory declares: a lying entry fails
  its CRC check, which is 422 here.)
- DOCUMENT_MAX_EXTRACTED_CHARS: more text than this is 422 (PDF pages are
  counted as they are read, so extraction stops early).

No parser exception escapes: pypdf, zipfile, python-docx and lxml raise many
types on damaged files, and every one of them becomes a 422 `corrupt_file`.
"""

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass

import docx
from django.conf import settings
from docx.table import Table
from docx.text.paragraph import Paragraph
from pypdf import PdfReader, apply_configuration
from pypdf.errors import LimitReachedError

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TEXT = "text/plain"
MARKDOWN = "text/markdown"

# Declared types that say nothing about the content (curl and many clients send these).
UNDECLARED = {"", "application/octet-stream", "binary/octet-stream"}
# Declared types accepted as naming the detected type: common aliases, and a DOCX is a zip.
ALIASES = {
    PDF: {PDF, "application/x-pdf"},
    DOCX: {DOCX, "application/zip", "application/x-zip-compressed"},
}

# A real DOCX has a few dozen parts; thousands of members is an attack on the zip directory.
MAX_ZIP_MEMBERS = 2_000
# Deflate rarely exceeds ~20:1 on real documents; zip bombs run at 1000:1.
MAX_COMPRESSION_RATIO = 100
# Small members (XML styles, settings) can compress well legitimately; the ratio
# check only applies to members larger than this.
RATIO_CHECKED_FROM_BYTES = 1_048_576

MEGABYTE = 1_048_576


class ExtractionError(Exception):
    """A file we refuse, with a message fit for a 4xx response naming what is wrong."""

    status_code: int  # 413 too large, 415 unsupported/mismatched type, 422 corrupt/empty/unreadable/bomb
    code: str  # short machine code, e.g. "file_too_large", "corrupt_file"

    def __init__(self, message: str, *, status_code: int, code: str):
        super().__init__(message)
        self.status_code = status_code
        self.code = code


@dataclass(frozen=True)
class Passage:
    number: int  # 0-based, contiguous
    text: str
    page: int | None  # 1-based page for PDFs, None otherwise
    start_offset: int  # into Extracted.text: text[start_offset:end_offset] == passage.text
    end_offset: int


@dataclass(frozen=True)
class Extracted:
    content_type: str  # detected from the bytes
    text: str  # full normalized text; PDF pages are separated by a blank line
    page_count: int | None  # PDFs only
    passages: list[Passage]


# --- Checking an upload ------------------------------------------------------------


def _shown(filename: str) -> str:
    """The file's name as quoted in messages (a client can send any name, of any length)."""
    return repr(filename if len(filename) <= 100 else filename[:97] + "...")


def _unsupported(filename: str) -> ExtractionError:
    allowed = ", ".join(settings.DOCUMENT_ALLOWED_TYPES)
    return ExtractionError(
        f"{_shown(filename)} is not a supported file type; allowed types: {allowed}",
        status_code=415,
        code="unsupported_type",
    )


def _corrupt(filename: str, why: str) -> ExtractionError:
    return ExtractionError(f"{_shown(filename)} {why}", status_code=422, code="corrupt_file")


def _too_much_text(filename: str) -> ExtractionError:
    return ExtractionError(
        f"{_shown(filename)} holds more than {settings.DOCUMENT_MAX_EXTRACTED_CHARS:,} characters of text",
        status_code=422,
        code="too_much_text",
    )


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return True


def detect_content_type(data: bytes, filename: str) -> str:
    """The file's real type, from its bytes; the name only tells Markdown from plain text."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"PK\x03\x04"):
        # Reading a zip's directory is cheap (no member is inflated).
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                is_docx = "word/document.xml" in archive.namelist()
        except Exception as error:  # noqa: BLE001 - zipfile raises several types on damaged archives
            raise _corrupt(filename, "looks like a zip archive (DOCX) but could not be opened") from error
        if is_docx:
            return DOCX
        raise _unsupported(filename)
    if _is_text(data):
        return MARKDOWN if filename.lower().endswith((".md", ".markdown")) else TEXT
    raise _unsupported(filename)


def _media_type(declared: str) -> str:
    return declared.split(";", 1)[0].strip().lower()[:100]  # drop parameters such as "; charset=utf-8"


def _compatible(declared: str, detected: str) -> bool:
    if declared in UNDECLARED or declared == detected:
        return True
    if detected in (TEXT, MARKDOWN):
        return declared.startswith("text/")  # text/plain vs text/markdown (or text/csv) is not a contradiction
    return declared in ALIASES.get(detected, ())


def check_upload(*, data: bytes, filename: str, declared_type: str | None) -> str:
    """Size, type and declared-type checks, without parsing. Returns the detected type."""
    limit = settings.DOCUMENT_MAX_BYTES
    if len(data) > limit:
        raise ExtractionError(
            f"{_shown(filename)} is larger than the {limit / MEGABYTE:.3g} MB limit",
            status_code=413,
            code="file_too_large",
        )
    if not data:
        raise ExtractionError(f"{_shown(filename)} is empty", status_code=422, code="empty_file")
    detected = detect_content_type(data, filename)
    if detected not in settings.DOCUMENT_ALLOWED_TYPES:
        raise _unsupported(filename)
    declared = _media_type(declared_type or "")
    if not _compatible(declared, detected):
        raise ExtractionError(
            f"{_shown(filename)} was sent as {declared} but its content is {detected}",
            status_code=415,
            code="type_mismatch",
        )
    return detected


# --- Extracting --------------------------------------------------------------------


def extract(data: bytes, *, filename: str, declared_type: str | None = None) -> Extracted:
    """Check, parse, normalize and chunk one upload. Raises ExtractionError, nothing else."""
    content_type = check_upload(data=data, filename=filename, declared_type=declared_type)
    if content_type == PDF:
        raw_pages = _pdf_pages(data, filename)
    elif content_type == DOCX:
        raw_pages = [_docx_text(data, filename)]
    else:
        raw_pages = [data.decode("utf-8-sig")]  # already known to decode (check_upload)

    pages = [normalize(page) for page in raw_pages]
    text = "\n\n".join(page for page in pages if page)
    if len(text) > settings.DOCUMENT_MAX_EXTRACTED_CHARS:
        raise _too_much_text(filename)
    if not text:
        raise ExtractionError(
            f"No text could be extracted from {_shown(filename)}; scanned images would need OCR, "
            "which is not supported",
            status_code=422,
            code="empty_file",
        )
    return Extracted(
        content_type=content_type,
        text=text,
        page_count=len(pages) if content_type == PDF else None,
        passages=_passages(pages, numbered=content_type == PDF),
    )


def _pdf_pages(data: bytes, filename: str) -> list[str]:
    # pypdf bounds each decoded stream (75 MB by default; 0 would mean no limit, hence max(1, ...)).
    # apply_configuration sets a ContextVar, so concurrent extractions in other threads are unaffected.
    stream_limit = max(1, min(settings.DOCUMENT_MAX_UNCOMPRESSED_BYTES, 75_000_000))
    limits = apply_configuration(
        zlib_maximum_output_length=stream_limit,
        lzw_maximum_output_length=stream_limit,
        run_length_maximum_output_length=stream_limit,
        brotli_maximum_output_length=stream_limit,
    )
    try:
        with limits:
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted and not _decrypts_without_password(reader):
                raise _corrupt(filename, "is password-protected; remove the password and upload it again")
            count = len(reader.pages)
            if count > settings.DOCUMENT_MAX_PAGES:
                raise ExtractionError(
                    f"{_shown(filename)} has {count:,} pages; the limit is {settings.DOCUMENT_MAX_PAGES:,}",
                    status_code=422,
                    code="too_many_pages",
                )
            pages = []
            budget = settings.DOCUMENT_MAX_EXTRACTED_CHARS
            for page in reader.pages:
                text = page.extract_text() or ""
                budget -= len(text)
                if budget < 0:  # stop reading pages as soon as the text limit is passed
                    raise _too_much_text(filename)
                pages.append(text)
            return pages
    except ExtractionError:
        raise
    except LimitReachedError as error:
        raise _corrupt(filename, "exceeds the PDF decompression and parsing limits") from error
    except Exception as error:  # noqa: BLE001 - pypdf raises many types (and RecursionError) on damaged files
        raise _corrupt(filename, "could not be read as a PDF") from error


def _decrypts_without_password(reader: PdfReader) -> bool:
    """Many PDFs are encrypted with an empty user password (permissions only); those we can read."""
    try:
        return bool(reader.decrypt(""))
    except Exception:  # noqa: BLE001 - unknown or broken encryption is the same answer: we cannot read it
        return False


def _docx_text(data: bytes, filename: str) -> str:
    _check_zip(data, filename)
    try:
        document = docx.Document(io.BytesIO(data))
        blocks = [_block_text(block) for block in document.iter_inner_content()]
    except Exception as error:  # noqa: BLE001 - python-docx/lxml raise many types on damaged parts
        raise _corrupt(filename, "could not be read as a DOCX document") from error
    return "\n\n".join(block for block in blocks if block.strip())


def _check_zip(data: bytes, filename: str) -> None:
    """Refuse zip bombs from the zip directory alone, before any member is decompressed."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except Exception as error:  # noqa: BLE001 - zipfile raises several types on damaged archives
        raise _corrupt(filename, "could not be opened as a DOCX (zip) file") from error
    if len(members) > MAX_ZIP_MEMBERS:
        raise ExtractionError(
            f"{_shown(filename)} has {len(members):,} parts; a DOCX may have at most {MAX_ZIP_MEMBERS:,}",
            status_code=422,
            code="zip_bomb",
        )
    inflated = sum(member.file_size for member in members)
    if inflated > settings.DOCUMENT_MAX_UNCOMPRESSED_BYTES:
        raise ExtractionError(
            f"{_shown(filename)} would expand to {inflated / MEGABYTE:,.1f} MB; "
            f"the limit is {settings.DOCUMENT_MAX_UNCOMPRESSED_BYTES / MEGABYTE:.3g} MB",
            status_code=422,
            code="zip_bomb",
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > RATIO_CHECKED_FROM_BYTES and ratio > MAX_COMPRESSION_RATIO:
            raise ExtractionError(
                f"{_shown(filename)} contains a part compressed {ratio:,.0f}:1 ({member.filename}); "
                f"more than {MAX_COMPRESSION_RATIO}:1 is refused",
                status_code=422,
                code="zip_bomb",
            )


def _block_text(block: Paragraph | Table) -> str:
    """A paragraph's text, or a table as one line per row with its cells separated by " | "."""
    if not isinstance(block, Table):
        return block.text
    rows = []
    seen = set()  # merged cells: python-docx repeats the spanning cell for every grid position it covers
    for row in block.rows:
        cells = []
        for cell in row.cells:
            if cell._tc in seen:
                continue
            seen.add(cell._tc)
            # A cell holds paragraphs and possibly nested tables; keep the row on one line.
            cells.append(" ".join(_block_text(inner) for inner in cell.iter_inner_content()).replace("\n", " "))
        if any(cell.strip() for cell in cells):
            rows.append(" | ".join(cell.strip() for cell in cells))
    return "\n".join(rows)


# --- Normalizing -------------------------------------------------------------------

# Line and page separators (vertical tab, form feed, NEL, U+2028) become line breaks;
# U+2029 is a paragraph separator.
_LINE_BREAKS = str.maketrans({"\r": "\n", "\x0b": "\n", "\x0c": "\n", "\x85": "\n", "\u2028": "\n", "\u2029": "\n\n"})
# C0/C1 control characters other than tab and newline, and the BOM / zero-width no-break space.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\ufeff]")
_SPACES = re.compile(r"[^\S\n]+")  # any whitespace but a newline (tabs, NBSP, thin spaces...)
_BLANK_LINES = re.compile(r"\n{3,}")


def normalize(text: str) -> str:
    """NFC text without control characters, runs of spaces collapsed, lines stripped,
    at most one blank line between paragraphs, no leading or trailing whitespace."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").translate(_LINE_BREAKS))
    text = _CONTROL.sub("", text)
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", text).strip()


# --- Chunking ----------------------------------------------------------------------

_WORD = re.compile(r"\S+")
_SENTENCE_END = re.compile(r"[.!?][\"'\u201d\u2019)\]]*$")  # "done." 'done?' done.) done."

# How good a place to end a passage the gap after a word is; higher is better.
_PIECE, _WORD_GAP, _SENTENCE, _LINE, _PARAGRAPH = -1, 0, 1, 2, 3


@dataclass(frozen=True)
class _Word:
    start: int
    end: int
    gap: int  # the quality of the break after this word


def _words(text: str, size: int) -> list[_Word]:
    """The text as words, each with the quality of the break after it.

    A word longer than a passage is cut into passage-sized pieces: the only place
    a passage may end mid-word."""
    matches = list(_WORD.finditer(text))
    words = []
    for index, match in enumerate(matches):
        following = text[match.end() : matches[index + 1].start()] if index + 1 < len(matches) else ""
        if "\n\n" in following:
            gap = _PARAGRAPH
        elif "\n" in following:
            gap = _LINE
        elif _SENTENCE_END.search(match.group()):
            gap = _SENTENCE
        else:
            gap = _WORD_GAP
        for piece_start in range(match.start(), match.end(), size):
            piece_end = min(piece_start + size, match.end())
            words.append(_Word(piece_start, piece_end, gap if piece_end == match.end() else _PIECE))
    return words


def _spans(text: str, size: int, overlap: int) -> list[tuple[int, int]]:
    """(start, end) offsets of passages of at most `size` characters, each but the first
    starting at most `overlap` characters before the previous one ended.

    A passage ends at the best break that leaves it at least half full: a paragraph,
    then a line, then a sentence, then a word. The next one starts at a sentence
    (or else a word) inside the last `overlap` characters of the previous one."""
    words = _words(text, size)
    spans: list[tuple[int, int]] = []
    first = 0  # index of the passage's first word
    not_before = 0  # index of the first word a passage may end at (it must go past the previous one)
    while first < len(words):
        start = words[first].start
        last = not_before
        while last + 1 < len(words) and words[last + 1].end - start <= size:
            last += 1
        if last == len(words) - 1:
            end_word = last  # the rest fits
        else:
            shortest = min(size // 2, words[last].end - start)
            candidates = range(not_before, last + 1)
            end_word = max(
                (index for index in candidates if words[index].end - start >= shortest),
                key=lambda index: (words[index].gap, index),
            )
        spans.append((start, words[end_word].end))
        if end_word == len(words) - 1:
            break
        first = _overlap_start(words, first, end_word, size, overlap)
        not_before = end_word + 1
    return spans


def _overlap_start(words: list[_Word], first: int, end_word: int, size: int, overlap: int) -> int:
    """The first word of the next passage: inside the previous passage's last `overlap`
    characters, preferring a sentence start, so long as the next word still fits
    after it; otherwise no overlap."""
    end = words[end_word].end
    following = words[end_word + 1].end
    candidates = [
        index
        for index in range(first + 1, end_word + 1)
        if end - words[index].start <= overlap and following - words[index].start <= size
    ]
    sentence_starts = [index for index in candidates if words[index - 1].gap >= _SENTENCE]
    if sentence_starts:
        return sentence_starts[0]
    return candidates[0] if candidates else end_word + 1


def _passages(pages: list[str], *, numbered: bool) -> list[Passage]:
    """Passages over the text as `extract` joins it (pages separated by "\\n\\n").
    For PDFs each page is chunked on its own, so a passage never spans pages."""
    size = settings.DOCUMENT_CHUNK_CHARS
    overlap = min(settings.DOCUMENT_CHUNK_OVERLAP_CHARS, size // 2)  # an overlap must leave room for new text
    passages: list[Passage] = []
    base = 0
    for page_number, page in enumerate(pages, start=1):
        if not page:
            continue  # empty pages are left out of the joined text
        for start, end in _spans(page, size, overlap):
            passages.append(
                Passage(
                    number=len(passages),
                    text=page[start:end],
                    page=page_number if numbered else None,
                    start_offset=base + start,
                    end_offset=base + end,
                )
            )
        base += len(page) + len("\n\n")
    return passages
