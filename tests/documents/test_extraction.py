"""Evidence text extraction: upload checks, parsing within limits, normalization, passages.

Pure library tests: no DynamoDB, no HTTP. Fixture files are built in code (tests/documents/samples.py).
"""

import io
import random

import docx
import pytest
from pypdf import PageObject

from documents import extraction
from documents.extraction import DOCX, MARKDOWN, PDF, TEXT, ExtractionError, check_upload, detect_content_type, extract

from . import samples

POLICY = (
    "Information Security Policy\n\n"
    "All customer data at rest is encrypted with AES-256. Keys are rotated every 90 days.\n\n"
    "Multi-factor authentication is enforced for every administrative account.\n"
)


def refusal(data: bytes, filename: str = "evidence.bin", declared_type: str | None = None) -> ExtractionError:
    with pytest.raises(ExtractionError) as caught:
        extract(data, filename=filename, declared_type=declared_type)
    return caught.value


def prose(sentences: int, *, paragraph_every: int = 4, seed: int = 0) -> str:
    """Deterministic text of varied sentences and paragraphs."""
    rng = random.Random(seed)
    vocabulary = ["access", "audit", "backup", "control", "customer", "data", "encryption"]
    vocabulary += ["incident", "key", "log", "policy", "review", "vendor"]
    parts = []
    for number in range(sentences):
        words = [rng.choice(vocabulary) for _ in range(rng.randint(4, 30))]
        parts.append(" ".join(words).capitalize() + rng.choice([".", "?", "!", "."]))
        parts.append("\n\n" if number % paragraph_every == paragraph_every - 1 else " ")
    return "".join(parts).strip()


# --- Detecting the type from the bytes -----------------------------------------------


def test_a_pdf_is_detected_from_its_magic_bytes_whatever_its_name():
    assert detect_content_type(samples.pdf(["Hello"]), "notes.txt") == PDF


def test_a_docx_is_detected_as_a_zip_holding_word_document_xml():
    assert detect_content_type(samples.docx_file("Hello"), "upload") == DOCX


@pytest.mark.parametrize("filename", ["README.md", "notes.MARKDOWN", "soc2.Md"])
def test_markdown_is_detected_by_extension(filename):
    assert detect_content_type(b"# Controls\n\nMFA everywhere.", filename) == MARKDOWN


@pytest.mark.parametrize("filename", ["policy.txt", "policy", "policy.md.txt"])
def test_other_utf8_text_is_plain_text(filename):
    assert detect_content_type("Politique de sécurité".encode(), filename) == TEXT


def test_utf8_text_with_a_bom_is_text():
    assert detect_content_type(b"\xef\xbb\xbfPolicy", "policy.txt") == TEXT


def test_binary_junk_is_415():
    error = refusal(bytes(range(256)) * 4, filename="payload.exe")
    assert (error.status_code, error.code) == (415, "unsupported_type")
    assert "'payload.exe'" in str(error)


def test_text_with_nul_bytes_is_415():
    utf16 = "Policy".encode("utf-16")  # valid text to a person, but NUL bytes: not UTF-8 text
    assert refusal(utf16, filename="policy.txt").code == "unsupported_type"


def test_text_that_is_not_utf8_is_415():
    assert refusal("Sécurité".encode("latin-1"), filename="policy.txt").code == "unsupported_type"


def test_a_zip_that_is_not_a_docx_is_415():
    archive = samples.zip_file({"policy.txt": b"Policy"})
    assert refusal(archive, filename="evidence.zip").status_code == 415


def test_a_zip_signature_on_a_broken_archive_is_422_corrupt():
    error = refusal(b"PK\x03\x04" + b"\x00" * 100, filename="report.docx")
    assert (error.status_code, error.code) == (422, "corrupt_file")


# --- Checking an upload ---------------------------------------------------------------


def test_a_file_larger_than_the_limit_is_413(settings):
    settings.DOCUMENT_MAX_BYTES = 2 * 1_048_576
    error = refusal(b"a" * (2 * 1_048_576 + 1), filename="big.txt")
    assert (error.status_code, error.code) == (413, "file_too_large")
    assert "2 MB" in str(error)


def test_a_file_exactly_at_the_limit_is_accepted(settings):
    settings.DOCUMENT_MAX_BYTES = 1000
    assert check_upload(data=b"a" * 1000, filename="edge.txt", declared_type=None) == TEXT


def test_an_empty_file_is_422():
    error = refusal(b"", filename="empty.pdf", declared_type="application/pdf")
    assert (error.status_code, error.code) == (422, "empty_file")


def test_a_type_missing_from_the_allowed_list_is_415_and_the_message_lists_the_allowed_types(settings):
    settings.DOCUMENT_ALLOWED_TYPES = [PDF, DOCX]
    error = refusal(POLICY.encode(), filename="policy.txt")
    assert (error.status_code, error.code) == (415, "unsupported_type")
    assert PDF in str(error) and DOCX in str(error)


def test_a_text_file_declared_as_pdf_is_a_type_mismatch():
    error = refusal(POLICY.encode(), filename="policy.pdf", declared_type="application/pdf")
    assert (error.status_code, error.code) == (415, "type_mismatch")
    assert "application/pdf" in str(error) and "text/plain" in str(error)


def test_a_pdf_declared_as_text_is_a_type_mismatch():
    error = refusal(samples.pdf(["Hello"]), filename="policy.txt", declared_type="text/plain")
    assert (error.status_code, error.code) == (415, "type_mismatch")


def test_a_docx_declared_as_pdf_is_a_type_mismatch():
    assert refusal(samples.docx_file("Hello"), declared_type="application/pdf").code == "type_mismatch"


@pytest.mark.parametrize("declared_type", [None, "", "application/octet-stream"])
def test_no_declared_type_or_octet_stream_is_not_a_mismatch(declared_type):
    assert check_upload(data=samples.pdf(["Hello"]), filename="a.pdf", declared_type=declared_type) == PDF


@pytest.mark.parametrize(
    ("data", "filename", "declared_type"),
    [(b"# Notes", "notes.md", "text/plain"), (b"Notes", "notes.txt", "text/markdown")],
)
def test_text_plain_and_text_markdown_are_compatible(data, filename, declared_type):
    assert check_upload(data=data, filename=filename, declared_type=declared_type) in (TEXT, MARKDOWN)


def test_the_declared_types_case_and_parameters_are_ignored():
    assert check_upload(data=b"Notes", filename="notes.txt", declared_type="Text/Plain; charset=UTF-8") == TEXT


@pytest.mark.parametrize("declared_type", ["application/zip", "application/x-zip-compressed", DOCX])
def test_a_docx_declared_as_a_zip_or_as_docx_is_accepted(declared_type):
    assert check_upload(data=samples.docx_file("Hello"), filename="a.docx", declared_type=declared_type) == DOCX


def test_check_upload_does_not_parse_the_file():
    # A damaged PDF passes the cheap checks; only extract() parses and refuses it.
    assert check_upload(data=b"%PDF-1.7\n garbage", filename="report.pdf", declared_type=None) == PDF


def test_the_detected_type_is_reported_not_the_declared_one():
    extracted = extract(b"# Controls", filename="notes.md", declared_type="text/plain")
    assert extracted.content_type == MARKDOWN


# --- PDF ------------------------------------------------------------------------------


def test_a_pdf_yields_passages_with_page_numbers():
    data = samples.pdf(["SOC 2 Type II report", "Prepared for Acme."], ["Encryption at rest uses AES-256."])
    extracted = extract(data, filename="soc2.pdf", declared_type="application/pdf")
    assert (extracted.content_type, extracted.page_count) == (PDF, 2)
    assert extracted.text == "SOC 2 Type II report\nPrepared for Acme.\n\nEncryption at rest uses AES-256."
    assert [(passage.page, passage.text) for passage in extracted.passages] == [
        (1, "SOC 2 Type II report\nPrepared for Acme."),
        (2, "Encryption at rest uses AES-256."),
    ]


def test_a_pdf_page_without_text_is_counted_but_yields_no_passage():
    extracted = extract(samples.pdf(["Cover"], [], ["Findings"]), filename="report.pdf")
    assert extracted.page_count == 3
    assert [passage.page for passage in extracted.passages] == [1, 3]
    assert [extracted.text[p.start_offset : p.end_offset] for p in extracted.passages] == ["Cover", "Findings"]


def test_a_passage_never_spans_two_pdf_pages(settings):
    settings.DOCUMENT_CHUNK_CHARS, settings.DOCUMENT_CHUNK_OVERLAP_CHARS = 120, 30
    pages = [[f"Page {page} line {line} describes the backup control." for line in range(6)] for page in (1, 2, 3)]
    extracted = extract(samples.pdf(*pages), filename="report.pdf")
    assert {passage.page for passage in extracted.passages} == {1, 2, 3}
    page_texts = extracted.text.split("\n\n")  # pages are joined by a blank line
    for passage in extracted.passages:
        assert passage.text in page_texts[passage.page - 1]
        assert extracted.text[passage.start_offset : passage.end_offset] == passage.text


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n garbage",
        b"%PDF-",
        samples.pdf(["Hello"])[:150],  # truncated mid-object
        samples.pdf(["Hello"]).replace(b"/Type /Pages", b"/Type /Pagez"),
        samples.pdf(["Hello"]).replace(b"/Kids [4 0 R]", b"/Kids [2 0 R]"),  # a page tree that contains itself
        samples.pdf(["Hello"]).replace(b"stream\n", b"stream\n\xff\xfe(((", 1),
    ],
    ids=["garbage", "header-only", "truncated", "bad-pages-type", "cyclic-page-tree", "bad-content"],
)
def test_a_corrupt_pdf_is_422_not_a_crash(data):
    error = refusal(data, filename="report.pdf")
    assert error.status_code == 422
    assert error.code in {"corrupt_file", "empty_file"}  # a page tree pypdf half-recovers may show no text


def damaged_copies(original: bytes, *, count: int, seed: int) -> list[bytes]:
    """`count` copies of `original`, each with a few random bytes overwritten (the header kept)."""
    rng = random.Random(seed)
    copies = []
    for _ in range(count):
        damaged = bytearray(original)
        for _ in range(rng.randint(1, 8)):
            damaged[rng.randrange(5, len(damaged))] = rng.randrange(256)
        copies.append(bytes(damaged))
    return copies


@pytest.mark.parametrize(
    ("original", "filename"),
    [
        (samples.pdf(["Access reviews are quarterly."], ["Backups are tested."]), "report.pdf"),
        (samples.docx_file("Access reviews are quarterly.", table=[["Backups", "Tested"]]), "policy.docx"),
    ],
    ids=["pdf", "docx"],
)
def test_a_file_damaged_anywhere_gives_text_or_an_extraction_error_never_another_exception(original, filename):
    refused = 0
    for damaged in damaged_copies(original, count=150, seed=7):
        try:
            extract(damaged, filename=filename)
        except ExtractionError as error:
            assert error.status_code in (415, 422)
            refused += 1
    assert refused > 0  # the damage did reach the parsers


def test_a_password_protected_pdf_is_422():
    data = samples.encrypted_pdf(samples.pdf(["Secret"]), user_password="s3cret")
    error = refusal(data, filename="locked.pdf")
    assert (error.status_code, error.code) == (422, "corrupt_file")
    assert "password" in str(error)


def test_a_pdf_encrypted_with_an_empty_user_password_is_read():
    data = samples.encrypted_pdf(samples.pdf(["Readable by anyone"]), user_password="")
    assert extract(data, filename="permissions-only.pdf").text == "Readable by anyone"


def test_a_pdf_with_more_pages_than_the_limit_is_422(settings):
    settings.DOCUMENT_MAX_PAGES = 2
    error = refusal(samples.pdf(["one"], ["two"], ["three"]), filename="long.pdf")
    assert (error.status_code, error.code) == (422, "too_many_pages")
    assert "3 pages" in str(error) and "2" in str(error)


def test_a_pdf_without_a_text_layer_is_422():
    error = refusal(samples.pdf([], []), filename="scan.pdf")
    assert (error.status_code, error.code) == (422, "empty_file")
    assert "No text could be extracted" in str(error) and "OCR" in str(error)


def test_a_pdf_with_more_text_than_the_limit_stops_reading_pages_with_422(settings, monkeypatch):
    settings.DOCUMENT_MAX_EXTRACTED_CHARS = 100
    pages_read = []
    extract_text = PageObject.extract_text

    def counting(page, *args, **kwargs):
        pages_read.append(page)
        return extract_text(page, *args, **kwargs)

    monkeypatch.setattr(PageObject, "extract_text", counting)
    data = samples.pdf(*[["A line of sixty characters of text about the access control."]] * 10)
    error = refusal(data, filename="long.pdf")
    assert (error.status_code, error.code) == (422, "too_much_text")
    assert len(pages_read) == 2  # 60 + 60 > 100: the other eight pages are never read


def test_a_pdf_stream_inflating_past_the_uncompressed_limit_is_422(settings):
    data = samples.pdf(["Hello"], padding=200_000)  # under 1 KB on disk, 200 KB inflated
    assert extract(data, filename="ok.pdf").text == "Hello"
    settings.DOCUMENT_MAX_UNCOMPRESSED_BYTES = 50_000
    error = refusal(data, filename="bomb.pdf")
    assert (error.status_code, error.code) == (422, "corrupt_file")
    assert "limits" in str(error)


# --- DOCX -----------------------------------------------------------------------------


def test_docx_paragraphs_are_extracted_as_paragraphs():
    data = samples.docx_file("Access Control Policy", "Access is reviewed   every quarter.")
    extracted = extract(data, filename="policy.docx")
    assert (extracted.content_type, extracted.page_count) == (DOCX, None)
    assert extracted.text == "Access Control Policy\n\nAccess is reviewed every quarter."
    assert [passage.page for passage in extracted.passages] == [None]


def test_a_docx_table_text_is_extracted():
    data = samples.docx_file(
        "Controls",
        table=[["Control", "Status"], ["MFA", "Enforced"], ["Backups", "Tested monthly"]],
        after_table="Reviewed by the CISO.",
    )
    text = extract(data, filename="controls.docx").text
    assert text == "Controls\n\nControl | Status\nMFA | Enforced\nBackups | Tested monthly\n\nReviewed by the CISO."


def test_merged_docx_cells_are_read_once():
    document = docx.Document()
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).merge(table.cell(0, 1)).text = "Encryption"
    table.cell(1, 0).text, table.cell(1, 1).text = "At rest", "In transit"
    out = io.BytesIO()
    document.save(out)
    assert extract(out.getvalue(), filename="t.docx").text == "Encryption\nAt rest | In transit"


def test_a_docx_zip_bomb_is_refused_before_parsing(monkeypatch):
    bomb = samples.docx_with(samples.docx_file("Hello"), {"word/media/image1.png": b"\0" * 20_000_000})
    assert len(bomb) < 100_000  # 20 MB of zeros deflate to about 20 KB
    opened = []
    monkeypatch.setattr(extraction.docx, "Document", lambda *args, **kwargs: opened.append(args))
    error = refusal(bomb, filename="bomb.docx")
    assert (error.status_code, error.code) == (422, "zip_bomb")
    assert "word/media/image1.png" in str(error)
    assert opened == []


def test_a_docx_expanding_past_the_uncompressed_limit_is_422(settings):
    settings.DOCUMENT_MAX_UNCOMPRESSED_BYTES = 10_000
    error = refusal(samples.docx_file("Hello"), filename="policy.docx")
    assert (error.status_code, error.code) == (422, "zip_bomb")
    assert "expand" in str(error)


def test_a_docx_with_too_many_parts_is_422(monkeypatch):
    monkeypatch.setattr(extraction, "MAX_ZIP_MEMBERS", 50)
    parts = {f"customXml/item{number}.xml": b"<x/>" for number in range(60)}
    error = refusal(samples.docx_with(samples.docx_file("Hello"), parts), filename="parts.docx")
    assert (error.status_code, error.code) == (422, "zip_bomb")


def test_a_docx_whose_zip_understates_a_size_is_422_not_inflated_past_it():
    data = samples.docx_file("Hello " * 5000)
    lying = samples.with_declared_size(data, "word/document.xml", 100)
    error = refusal(lying, filename="lying.docx")
    assert (error.status_code, error.code) == (422, "corrupt_file")


@pytest.mark.parametrize(
    "document_xml",
    [
        b"<w:document><unclosed",
        b"\xff\xfe not xml at all",
        b"",
        b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        b"<w:body><w:tbl><w:tr><w:tc>",
    ],
    ids=["unclosed", "binary", "empty", "truncated-table"],
)
def test_a_docx_with_malformed_xml_is_422_not_a_crash(document_xml):
    data = samples.docx_with(samples.docx_file("Hello"), {"word/document.xml": document_xml})
    error = refusal(data, filename="broken.docx")
    assert (error.status_code, error.code) == (422, "corrupt_file")


def test_a_docx_missing_its_package_parts_is_422():
    data = samples.zip_file({"word/document.xml": b"<w:document/>"})  # no [Content_Types].xml, no rels
    assert refusal(data, filename="bare.docx").code == "corrupt_file"


def test_xml_entities_in_a_docx_are_not_expanded():
    entities = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "expanded"><!ENTITY b "&a;&a;&a;&a;">]>'
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        b"<w:body><w:p><w:r><w:t>Kept &b;</w:t></w:r></w:p></w:body></w:document>"
    )
    data = samples.docx_with(samples.docx_file("Hello"), {"word/document.xml": entities})
    try:
        text = extract(data, filename="entities.docx").text
    except ExtractionError as error:
        assert error.status_code == 422
    else:
        assert "expanded" not in text


def test_a_docx_without_text_is_422_empty():
    error = refusal(samples.docx_file(), filename="blank.docx")
    assert (error.status_code, error.code) == (422, "empty_file")


# --- Text and Markdown ----------------------------------------------------------------


def test_utf8_text_is_extracted_without_its_bom():
    extracted = extract(b"\xef\xbb\xbf" + "Politique de sécurité".encode(), filename="policy.txt")
    assert (extracted.content_type, extracted.text, extracted.page_count) == (TEXT, "Politique de sécurité", None)


def test_markdown_text_is_kept_as_written():
    extracted = extract(b"# Controls\n\n- MFA\n- Backups", filename="controls.md")
    assert (extracted.content_type, extracted.text) == (MARKDOWN, "# Controls\n\n- MFA\n- Backups")


def test_a_document_with_more_text_than_the_limit_is_422(settings):
    settings.DOCUMENT_MAX_EXTRACTED_CHARS = 50
    error = refusal(b"word " * 20, filename="long.txt")
    assert (error.status_code, error.code) == (422, "too_much_text")
    assert "50" in str(error)


def test_text_at_the_limit_after_normalization_is_accepted(settings):
    settings.DOCUMENT_MAX_EXTRACTED_CHARS = 9
    assert extract(b"  four\t\t four  \n", filename="short.txt").text == "four four"


def test_a_whitespace_only_text_file_is_422_empty():
    error = refusal(b" \n\t\n ", filename="blank.txt")
    assert (error.status_code, error.code) == (422, "empty_file")


# --- Normalization --------------------------------------------------------------------


def test_runs_of_spaces_and_tabs_collapse_and_lines_are_stripped():
    assert extraction.normalize("  Access\t\t control \u00a0 policy  \n  applies  ") == "Access control policy\napplies"


def test_paragraph_breaks_are_kept_as_one_blank_line():
    assert extraction.normalize("One.\n\n\n\n  \n\nTwo.\nThree.") == "One.\n\nTwo.\nThree."


def test_control_characters_and_nul_are_removed():
    assert extraction.normalize("Da\x00ta\x07 at\x1b rest\x7f\ufeff") == "Data at rest"


def test_windows_line_endings_and_form_feeds_become_newlines():
    assert extraction.normalize("One\r\nTwo\rThree\x0cFour") == "One\nTwo\nThree\nFour"


def test_text_is_unicode_composed():
    assert extraction.normalize("se\u0301curite\u0301") == "sécurité"


# --- Passages -------------------------------------------------------------------------

SAMPLE_TEXTS = [
    prose(3),
    prose(60, seed=1),
    prose(200, paragraph_every=50, seed=2),
    prose(80, paragraph_every=1000, seed=3),  # one long paragraph: sentence breaks only
    "\n".join(f"- item {number}: reviewed" for number in range(300)),  # many short lines
    " ".join(["word"] * 1200),  # no sentence or line breaks at all
    "Intro. " + "x" * 4000 + " outro words here.",  # one word longer than a passage
]


def passages_of(text: str) -> list[extraction.Passage]:
    return extract(text.encode(), filename="evidence.txt").passages


@pytest.mark.parametrize("chunk", [(1500, 200), (300, 60), (80, 20)], ids=["default", "small", "tiny"])
def test_chunks_overlap_and_offsets_point_into_the_text(settings, chunk):
    settings.DOCUMENT_CHUNK_CHARS, settings.DOCUMENT_CHUNK_OVERLAP_CHARS = chunk
    for sample in SAMPLE_TEXTS:
        extracted = extract(sample.encode(), filename="evidence.txt")
        passages = extracted.passages
        assert [passage.number for passage in passages] == list(range(len(passages)))
        for passage in passages:
            assert extracted.text[passage.start_offset : passage.end_offset] == passage.text
            assert 0 < len(passage.text) <= chunk[0]
            assert passage.text == passage.text.strip()
        for before, after in zip(passages, passages[1:], strict=False):
            assert before.start_offset < after.start_offset  # always progressing
            assert after.end_offset > before.end_offset  # never contained in the previous one
            assert before.end_offset - after.start_offset <= chunk[1]  # overlap at most the setting
        # Every word of the document is in some passage.
        covered = set()
        for passage in passages:
            covered.update(range(passage.start_offset, passage.end_offset))
        assert all(index in covered for index, char in enumerate(extracted.text) if not char.isspace())


def test_consecutive_passages_overlap_when_the_words_allow(settings):
    settings.DOCUMENT_CHUNK_CHARS, settings.DOCUMENT_CHUNK_OVERLAP_CHARS = 300, 60
    passages = passages_of(prose(60, seed=1))
    assert len(passages) > 5
    overlaps = [before.end_offset - after.start_offset for before, after in zip(passages, passages[1:], strict=False)]
    assert all(0 < overlap <= 60 for overlap in overlaps)


def test_a_passage_never_starts_or_ends_mid_word(settings):
    settings.DOCUMENT_CHUNK_CHARS, settings.DOCUMENT_CHUNK_OVERLAP_CHARS = 100, 30
    for sample in SAMPLE_TEXTS[:-1]:  # the last one holds a word longer than a passage
        extracted = extract(sample.encode(), filename="evidence.txt")
        text = extracted.text
        for passage in extracted.passages:
            assert passage.start_offset == 0 or text[passage.start_offset - 1].isspace()
            assert passage.end_offset == len(text) or text[passage.end_offset].isspace()


def test_a_word_longer_than_a_passage_is_cut_into_full_passages(settings):
    settings.DOCUMENT_CHUNK_CHARS, settings.DOCUMENT_CHUNK_OVERLAP_CHARS = 100, 20
    passages = passages_of("Intro. " + "x" * 250 + " outro.")
    assert [passage.text for passage in passages] == ["Intro.", "x" * 100, "x" * 100, "x" * 50 + " outro."]


def test_passages_end_at_paragraph_breaks_when_possible(settings):
    settings.DOCUMENT_CHUNK_CHARS, settings.DOCUMENT_CHUNK_OVERLAP_CHARS = 200, 0
    paragraph = "Backups run nightly. They are copied offsite. Restores are tested monthly."  # 74 chars
    text = "\n\n".join([paragraph] * 6)
    assert [passage.text for passage in passages_of(text)] == [f"{paragraph}\n\n{paragraph}"] * 3


def test_passages_end_at_sentence_ends_when_there_is_no_paragraph_break(settings):
    settings.DOCUMENT_CHUNK_CHARS, settings.DOCUMENT_CHUNK_OVERLAP_CHARS = 200, 40
    text = " ".join(f"Control {number} is tested {'every month' if number % 3 else 'yearly'}." for number in range(40))
    passages = passages_of(text)
    assert len(passages) > 5
    assert all(passage.text.endswith(".") for passage in passages)


def test_the_overlap_starts_at_a_sentence_when_one_is_in_reach(settings):
    settings.DOCUMENT_CHUNK_CHARS, settings.DOCUMENT_CHUNK_OVERLAP_CHARS = 120, 50
    text = " ".join(["Keys rotate yearly.", "Logs are kept.", "Access is reviewed."] * 10)  # short sentences
    for passage in passages_of(text):
        assert passage.text[0].isupper(), passage.text


def test_a_short_document_is_one_passage():
    passages = passages_of(POLICY)
    assert len(passages) == 1
    assert passages[0] == extraction.Passage(0, POLICY.strip(), None, 0, len(POLICY.strip()))


def test_chunking_is_deterministic(settings):
    settings.DOCUMENT_CHUNK_CHARS, settings.DOCUMENT_CHUNK_OVERLAP_CHARS = 250, 50
    text = prose(100, seed=5).encode()
    assert extract(text, filename="a.txt") == extract(text, filename="a.txt")


def test_passages_use_the_chunk_settings(settings):
    text = prose(120, seed=4)
    default = passages_of(text)
    settings.DOCUMENT_CHUNK_CHARS = 500
    smaller = passages_of(text)
    assert max(len(passage.text) for passage in default) > 500
    assert max(len(passage.text) for passage in smaller) <= 500
    assert len(smaller) > len(default)


def test_every_refusal_carries_a_status_and_a_code():
    for data, filename in [(b"", "a.txt"), (b"\x00\x01", "a.bin"), (b"%PDF-1.4 junk", "a.pdf")]:
        error = refusal(data, filename=filename)
        assert error.status_code in (413, 415, 422) and error.code and str(error)
