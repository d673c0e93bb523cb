"""Text extraction from evidence files, bounded so no upload can cost unbounded work.

`extract()` checks an upload (size, type sniffed from the bytes, the declared
type), parses it and cuts its text into overlapping passages for retrieval and
citations. It is CPU-bound and sync: callers run it off the event loop.

Safety limits (settings): DOCUMENT_MAX_BYTES (413 beyond), DOCUMENT_MAX_PAGES,
DOCUMENT_MAX_EXTRACTED_CHARS, and for DOCX (a zip) DOCUMENT_MAX_UNCOMPRESSED_BYTES
plus a compression-ratio check, both read from the zip directory before any
member is decompressed, so a zip bomb is refused without being inflated.
Every refusal is an ExtractionError carrying the HTTP status and a message that
says what is wrong; no parser exception escapes.
"""

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass

from django.conf import settings

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TEXT = "text/plain"
MARKDOWN = "text/markdown"
UNDECLARED = {"", "application/octet-stream", "binary/octet-stream"}
MAX_ZIP_MEMBERS = 2_000
MAX_COMPRESSION_RATIO = 100  # deflate rarely exceeds ~20:1 on real documents


class ExtractionError(Exception):
    """A file we refuse, with a message fit for a 4xx response."""

    def __init__(self, message: str, *, status_code: int, code: str):
        super().__init__(message)
        self.status_code = status_code
        self.code = code


@dataclass(frozen=True)
class Passage:
    number: int
    text: str
    page: int | None
    start_offset: int
    end_offset: int


@dataclass(frozen=True)
class Extracted:
    content_type: str
    text: str
    page_count: int | None
    passages: list[Passage]


def _unsupported(filename: str) -> ExtractionError:
    allowed = ", ".join(settings.DOCUMENT_ALLOWED_TYPES)
    return ExtractionError(
        f"{filename!r} is not a supported file type; allowed: {allowed}", status_code=415, code="unsupported_type"
    )


def _corrupt(filename: str, what: str) -> ExtractionError:
    return ExtractionError(f"{filename!r} could not be read as {what}", status_code=422, code="corrupt_file")


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
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                if "word/document.xml" in archive.namelist():
                    return DOCX
        except zipfile.BadZipFile:
            raise _corrupt(filename, "a DOCX (zip) file") from None
        raise _unsupported(filename)
    if _is_text(data):
        return MARKDOWN if filename.lower().endswith((".md", ".markdown")) else TEXT
    raise _unsupported(filename)


def _compatible(declared: str, detected: str) -> bool:
    declared = declared.split(";", 1)[0].strip().lower()
    if declared in UNDECLARED or declared == detected:
        return True
    return declared.startswith("text/") and detected in {TEXT, MARKDOWN}


def check_upload(*, data: bytes, filename: str, declared_type: str | None) -> str:
    """Size, type and declared-type checks, without parsing. Returns the detected type."""
    limit = settings.DOCUMENT_MAX_BYTES
    if len(data) > limit:
        raise ExtractionError(
            f"{filename!r} is larger than the {limit / 1_048_576:.0f} MB limit", status_code=413, code="file_too_large"
        )
    if not data:
        raise ExtractionError(f"{filename!r} is empty", status_code=422, code="empty_file")
    detected = detect_content_type(data, filename)
    if detected not in settings.DOCUMENT_ALLOWED_TYPES:
        raise _unsupported(filename)
    if declared_type and not _compatible(declared_type, detected):
        raise ExtractionError(
            f"{filename!r} was sent as {declared_type} but its content is {detected}",
            status_code=415,
            code="type_mismatch",
        )
    return detected


def extract(data: bytes, *, filename: str, declared_type: str | None = None) -> Extracted:
    content_type = check_upload(data=data, filename=filename, declared_type=declared_type)
    if content_type == PDF:
        pages = _pdf_pages(data, filename)
    elif content_type == DOCX:
        pages = [(None, _docx_text(data, filename))]
    else:
        pages = [(None, data.decode("utf-8-sig"))]
    pages = [(number, normalize(text)) for number, text in pages]
    total = sum(len(text) for _, text in pages)
    if total > settings.DOCUMENT_MAX_EXTRACTED_CHARS:
        raise ExtractionError(
            f"{filename!r} holds more than {settings.DOCUMENT_MAX_EXTRACTED_CHARS:,} characters of text",
            status_code=422,
            code="too_much_text",
        )
    if total == 0:
        raise ExtractionError(
            f"no text could be extracted from {filename!r} (scanned images need OCR, which is not supported)",
            status_code=422,
            code="empty_file",
        )
    text, passages = _passages(pages)
    page_count = len(pages) if content_type == PDF else None
    return Extracted(content_type=content_type, text=text, page_count=page_count, passages=passages)


def _pdf_pages(data: bytes, filename: str) -> list[tuple[int, str]]:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise ExtractionError(f"{filename!r} is password-protected", status_code=422, code="corrupt_file")
        count = len(reader.pages)
        if count > settings.DOCUMENT_MAX_PAGES:
            raise ExtractionError(
                f"{filename!r} has {count} pages; the limit is {settings.DOCUMENT_MAX_PAGES}",
                status_code=422,
                code="too_many_pages",
            )
        pages = []
        budget = settings.DOCUMENT_MAX_EXTRACTED_CHARS
        for number, page in enumerate(reader.pages, start=1):
            text = page.extract_text() or ""
            budget -= len(text)
            if budget < 0:
                raise ExtractionError(
                    f"{filename!r} holds more than {settings.DOCUMENT_MAX_EXTRACTED_CHARS:,} characters of text",
                    status_code=422,
                    code="too_much_text",
                )
            pages.append((number, text))
        return pages
    except ExtractionError:
        raise
    except Exception as error:  # noqa: BLE001 - pypdf raises many types on damaged files
        raise _corrupt(filename, "a PDF") from error


def _docx_text(data: bytes, filename: str) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > MAX_ZIP_MEMBERS:
                raise ExtractionError(f"{filename!r} has too many parts", status_code=422, code="zip_bomb")
            inflated = sum(member.file_size for member in members)
            if inflated > settings.DOCUMENT_MAX_UNCOMPRESSED_BYTES:
                raise ExtractionError(
                    f"{filename!r} would expand to {inflated / 1_048_576:.0f} MB; refused",
                    status_code=422,
                    code="zip_bomb",
                )
            for member in members:
                if member.file_size > 1_048_576 and member.file_size > MAX_COMPRESSION_RATIO * max(
                    member.compress_size, 1
                ):
                    raise ExtractionError(
                        f"{filename!r} contains a suspiciously compressed part ({member.filename}); refused",
                        status_code=422,
                        code="zip_bomb",
                    )
    except zipfile.BadZipFile as error:
        raise _corrupt(filename, "a DOCX file") from error

    import docx

    try:
        document = docx.Document(io.BytesIO(data))
        parts = [paragraph.text for paragraph in document.paragraphs]
        for table in document.tables:
            for row in table.rows:
                parts.append(" | ".join(cell.text for cell in row.cells))
    except Exception as error:  # noqa: BLE001 - python-docx/lxml raise many types on damaged files
        raise _corrupt(filename, "a DOCX file") from error
    return "\n\n".join(part for part in parts if part.strip())


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL.sub("", text)
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", text).strip()


_BREAKS = ("\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ")


def _cut(text: str, start: int, size: int) -> int:
    """Where a passage starting at `start` ends: at the latest good boundary within `size`."""
    end = start + size
    if end >= len(text):
        return len(text)
    window = text[start:end]
    for mark in _BREAKS:
        position = window.rfind(mark)
        if position > size // 3:
            return start + position + len(mark.rstrip())
    return end  # one unbroken word longer than a passage


def _passages(pages: list[tuple[int | None, str]]) -> tuple[str, list[Passage]]:
    size = settings.DOCUMENT_CHUNK_CHARS
    overlap = min(settings.DOCUMENT_CHUNK_OVERLAP_CHARS, size // 2)
    full = "\n\n".join(text for _, text in pages if text)
    passages: list[Passage] = []
    base = 0
    for number, text in pages:
        if not text:
            continue
        start = 0
        while start < len(text):
            end = _cut(text, start, size)
            piece = text[start:end].strip()
            if piece:
                offset = base + start + (len(text[start:end]) - len(text[start:end].lstrip()))
                passages.append(Passage(len(passages), piece, number, offset, offset + len(piece)))
            if end >= len(text):
                break
            next_start = max(end - overlap, start + 1)
            # Start the overlap at a word boundary.
            space = text.find(" ", next_start, end)
            start = space + 1 if space != -1 else next_start
        base += len(text) + 2  # the "\n\n" joining pages in `full`
    return full, passages
