"""The arguments a tool needs, read from the message: document, questions, state, assessment name."""

import re

from .text import QUOTED, normalise
from .vocabulary import STATE_PATTERNS, STATES

FILENAME = re.compile(r"[\w][\w.-]*\.(?:pdf|docx?|xlsx?|csv|txt|pptx?|md|json|zip)\b", re.IGNORECASE)
DOCUMENT_ID = re.compile(r"\b(?:document|doc|file)\s+(?:id\s+)?#?([a-z0-9-]*\d[a-z0-9-]*)\b", re.IGNORECASE)
_NAMED_DOCUMENT = re.compile(
    r"\b(?:the|my|our)\s+((?:[a-z0-9-]+\s+){0,4}?(?:pen ?test|penetration test|soc ?2(?: type (?:ii|2|i|1))?|dpa"
    r"|(?:[a-z0-9-]+\s+)?(?:report|policy|plan|contract|certificate|questionnaire|letter|agreement)))\b",
    re.IGNORECASE,
)
_UNANSWERED = re.compile(r"\b(unanswered|remaining|open|empty|blank)\b")
_QUESTION_LIST = re.compile(
    r"(?:\bq|\bquestions?|#|\bno\.?)\s*(\d+(?:\s*(?:,|and|&|-|to|through|thru)\s*(?:q|#|question)?\s*\d+)*)",
    re.IGNORECASE,
)
_ASSESSMENT_NAMES = (
    # "assessments named Acme", "the vendor assessment for Okta" (the name ends the message)
    re.compile(
        r"\b(?:assessments?|review)\s+(?:named|called|for|of)\s+\"?([a-z0-9][\w .&-]*?)\"?\s*(?:assessment)?[?.!]*$",
        re.IGNORECASE,
    ),
    # "the Acme assessment", "the Acme review"
    re.compile(r"\bthe\s+([a-z0-9][\w&-]*(?:\s+[\w&-]+)?)\s+(?:vendor\s+)?(?:assessment|review)\b", re.IGNORECASE),
)
_NOT_NAMES = {"my", "this", "the", "current", "vendor", "whole", "last", "latest", "same", "first", "next", "that"}


def extract_arguments(text: str, intent: str) -> dict:
    """The arguments a tool needs, where the message gives them; absent keys mean "not said"."""
    arguments: dict = {}
    message = normalise(text)
    if intent in ("summarize_document", "suggest_answer", "list_documents"):
        document = _document(text, intent)
        if document:
            arguments["document"] = document
    if intent == "suggest_answer":
        questions = _questions(text)
        if questions is not None:
            arguments["questions"] = questions
    if intent in ("list_assessments", "assessment_status"):
        for state, pattern in STATE_PATTERNS:
            if pattern.search(message):
                arguments["state"] = state
                break
    if intent in ("list_assessments", "assessment_status", "submit_assessment"):
        name = _assessment_name(text)
        if name:
            arguments["assessment"] = name
    return arguments


def _document(text: str, intent: str) -> str | None:
    filename = FILENAME.search(text)
    if filename:
        return filename.group(0)
    identifier = DOCUMENT_ID.search(text)
    if identifier:
        return identifier.group(1)
    if intent == "summarize_document":
        quoted = QUOTED.search(text)
        if quoted:
            return next(group for group in quoted.groups() if group)
    if intent == "suggest_answer":
        return None  # "answer q11 using the soc 2 report": the document is evidence, not the target
    named = _NAMED_DOCUMENT.search(text)
    return named.group(1).strip() if named else None


def _questions(text: str) -> list[int] | str | dict | None:
    quoted = QUOTED.search(text)
    if quoted:
        return {"text": next(group for group in quoted.groups() if group).strip()}
    numbers: list[int] = []
    for match in _QUESTION_LIST.finditer(text):
        for start, end in re.findall(r"(\d+)\s*(?:-|to|through|thru)\s*(?:q|#|question)?\s*(\d+)", match.group(1)):
            if int(start) <= int(end) <= int(start) + 100:  # a range, not a typo'd year
                numbers.extend(range(int(start), int(end) + 1))
        numbers.extend(int(number) for number in re.findall(r"\d+", match.group(1)))
    if numbers:
        return sorted(set(numbers))
    if _UNANSWERED.search(normalise(text)):
        return "unanswered"
    return None


def _assessment_name(text: str) -> str | None:
    for pattern in _ASSESSMENT_NAMES:
        match = pattern.search(text.strip())
        name = match.group(1).strip() if match else ""
        if name and name.lower().split()[0] not in _NOT_NAMES and name.lower() not in STATES:
            return name
    quoted = QUOTED.search(text)
    return next(group for group in quoted.groups() if group).strip() if quoted else None
