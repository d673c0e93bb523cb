"""Evidence files built in code for the extraction tests (no binary fixtures in the repository).

`pdf()` writes a minimal PDF by hand: no PDF-writing library is a dependency,
and pypdf can read but not lay out text.
"""

import io
import zipfile
import zlib

import docx
from pypdf import PdfReader, PdfWriter


def _pdf_string(line: str) -> str:
    return "(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def _content_stream(lines: list[str]) -> bytes:
    if not lines:
        # A page with no text layer, like a scan: it draws a line and shows no text.
        return b"0 0 m 200 200 l S"
    operators = ["BT", "/F1 11 Tf", "14 TL", "72 760 Td"]
    for line in lines:
        operators += [f"{_pdf_string(line)} Tj", "T*"]
    operators.append("ET")
    return "\n".join(operators).encode("latin-1")


def pdf(*pages: list[str], padding: int = 0) -> bytes:
    """A valid PDF with one page per argument, each page a list of text lines in Helvetica.

    With `padding`, each content stream also holds that many spaces and is
    Flate-compressed: a small file that inflates to a large stream."""
    page_ids = [4 + 2 * index for index in range(len(pages))]
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (b" ".join(b"%d 0 R" % page_id for page_id in page_ids), len(pages)),
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    }
    for page_id, lines in zip(page_ids, pages, strict=True):
        content = _content_stream(lines)
        stream_filter = b""
        if padding:
            content = zlib.compress(content + b"\n" + b" " * padding, 9)
            stream_filter = b" /Filter /FlateDecode"
        objects[page_id] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (page_id + 1)
        )
        objects[page_id + 1] = b"<< /Length %d%s >>\nstream\n%s\nendstream" % (len(content), stream_filter, content)

    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = out.tell()
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, objects[number]))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for number in sorted(objects):
        out.write(b"%010d 00000 n \n" % offsets[number])
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def encrypted_pdf(data: bytes, *, user_password: str, owner_password: str = "owner") -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=user_password, owner_password=owner_password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx_file(*paragraphs: str, table: list[list[str]] | None = None, after_table: str | None = None) -> bytes:
    """A DOCX with the given paragraphs, then optionally a table and a paragraph after it."""
    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    if table is not None:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for row, values in zip(grid.rows, table, strict=True):
            for cell, value in zip(row.cells, values, strict=True):
                cell.text = value
    if after_table is not None:
        document.add_paragraph(after_table)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def zip_file(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


def docx_with(data: bytes, replacements: dict[str, bytes]) -> bytes:
    """The DOCX `data` with some members replaced or added (e.g. a broken XML part, a bomb)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    return zip_file(members | replacements)


def with_declared_size(data: bytes, member: str, size: int) -> bytes:
    """The zip `data` with `member`'s uncompressed size understated in the central directory,
    as a zip bomb would do to slip past a check of the directory."""
    out = bytearray(data)
    position = out.find(b"PK\x01\x02")  # central directory headers (APPNOTE 4.3.12)
    while position != -1:
        name_length = int.from_bytes(out[position + 28 : position + 30], "little")
        name = bytes(out[position + 46 : position + 46 + name_length]).decode()
        if name == member:
            out[position + 24 : position + 28] = size.to_bytes(4, "little")  # uncompressed size
            return bytes(out)
        position = out.find(b"PK\x01\x02", position + 46)
    raise ValueError(f"{member} is not in the zip")
