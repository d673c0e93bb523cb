"""Questions from a CSV file: parsed into drafts (errors name the row and column), then
imported like any other batch of drafts."""

import csv
import io

from tra.errors import PayloadTooLarge, ValidationFailed
from tra.http.auth import Actor

from ..models import Question
from .questions import QuestionDraft, question_import

MAX_CSV_BYTES = 2 * 1024 * 1024
CSV_COLUMNS = {"text", "category", "order"}


def parse_questions_csv(data: bytes) -> list[QuestionDraft]:
    """Rows of a CSV with a header (text required; category, order optional) as drafts.

    Errors name the row and column, so a user can fix the file."""
    if len(data) > MAX_CSV_BYTES:
        raise PayloadTooLarge(
            f"the CSV file is larger than {MAX_CSV_BYTES // (1024 * 1024)} MB", extra={"field": "file"}
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed("the CSV file must be UTF-8 text", extra={"field": "file"}) from None
    try:
        reader = csv.DictReader(io.StringIO(text))
        header = {name.strip().lower() for name in reader.fieldnames or []}
        if "text" not in header:
            raise ValidationFailed("the CSV file needs a header row with a 'text' column", extra={"field": "file"})
        drafts = []
        for line, row in enumerate(reader, start=2):
            row = {(key or "").strip().lower(): (value or "").strip() for key, value in row.items() if key}
            drafts.append(_draft_from_row(row, line))
    except csv.Error as error:
        raise ValidationFailed(f"the CSV file is malformed: {error}", extra={"field": "file"}) from None
    return drafts


def _draft_from_row(row: dict[str, str], line: int) -> QuestionDraft:
    text = row.get("text", "")
    if not text:
        raise ValidationFailed(f"row {line}: 'text' is empty", extra={"field": "file", "row": line, "column": "text"})
    if len(text) > 2_000:
        raise ValidationFailed(
            f"row {line}: 'text' is longer than 2000 characters", extra={"field": "file", "row": line}
        )
    order = row.get("order") or None
    if order is not None:
        try:
            order = int(order)
        except ValueError:
            raise ValidationFailed(
                f"row {line}: 'order' must be a whole number", extra={"field": "file", "row": line, "column": "order"}
            ) from None
    return QuestionDraft(text=text, category=(row.get("category") or None), order=order)


def question_import_csv(*, actor: Actor, assessment_id: str, data: bytes) -> list[Question]:
    return question_import(actor=actor, assessment_id=assessment_id, drafts=parse_questions_csv(data))
