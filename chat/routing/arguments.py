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
_STATE_NAME = re.compile("|".join(pattern.pattern for _state, pattern in STATE_PATTERNS))
_TOPICS = tuple(
    (re.compile(rf"\b({words})"), topic)
    for words, topic in (
        (
            r"submit|send (it|this|them|the \w+)? ?(in|off|for|to)|hand (it |this )?in|turn (it |this )?in|finali[sz]e",
            "submit",
        ),
        (r"upload|attach|add (a |the |more |some )?(doc|file|evidence|pdf)|link (a |the )?(doc|file)", "upload"),
        (r"summari[sz]|summary|sum up|recap|overview", "summarize"),
        (r"answer|fill|suggest|draft|respond|complete the questionnaire", "answer"),
        (r"delete|remove|get rid", "delete"),
        (r"withdraw|recall|unsubmit|take (it|this) back", "withdraw"),
        (r"reopen|re-open", "reopen"),
        (r"approve", "approve"),
        (r"create|start|set up|open a new|new (assessment|review)", "create"),
        (r"share|invite", "share"),
        (r"export|download", "export"),
        (r"status|progress|track", "status"),
        (r"list|see|find|view", "list"),
    )
)
_HOW_TO_LEAD = re.compile(
    r"^.*?\b(how (do|can|could|should|would) (i|we|you)|(can|could|should|may) (i|we)|when (can|should) (i|we)"
    r"|am i (allowed|able) to|is it (ok|okay|possible) to|what's the (process|way) to|how to)\b"
)
_UNANSWERED = re.compile(r"\b(unanswered|remaining|open|empty|blank)\b")
_QUESTION_LIST = re.compile(
    r"(?:\bq|\bquestions?|#|\bno\.?)\s*(\d+(?:\s*(?:,|and|&|-|to|through|thru)\s*(?:q|#|question)?\s*\d+)*)",
    re.IGNORECASE,
)
# A name is one to four words, none of them a function word or a generic noun ("the status of the
# Zoom assessment" names "Zoom"); it ends where the message ends or a filler or "for review" starts.
_STOP = (
    r"the|a|an|of|for|on|in|to|at|by|with|and|or|then|my|our|your|their|this|that|these|those|it|its|me|us|we|i|you"
    r"|anyone|someone|anything|everything|all|any|every|each|status|review|reviews|approval|assessment|assessments"
    r"|questionnaire|questionnaires|current|whole|last|latest|same|first|next|vendor|one|ones|now|please|pls|yet"
    r"|reviewers?|team|so|far|is|are|was|been|be|has|have|had|did|does|do|documents?|docs?|files?|attachments?"
    r"|pdfs?|uploads?|evidence|folder|still|already|just|here|there|what|which|who|how|where|when|why|sign-?off"
)
_WORD = rf"(?!(?:{_STOP})\b)[a-z0-9][\w&.'-]*"
_NAME = rf"(?P<name>{_WORD}(?:\s+{_WORD}){{0,3}}?)"
_NOUN = r"(?:vendor\s+|security\s+|risk\s+|onboarding\s+)?(?:assessment|review|questionnaire|due diligence)s?"
_FILES = r"(?:documents|docs|files|attachments|pdfs|uploads|evidence|folder)"
_END = (
    r"(?=\s*(?:$|[?.!,;:)]|\s(?:for|to|please|pls|now|and|then|yet|already|today|thanks|thank|before|asap|so|if"
    r"|when|cheers|ty|thx|been|at|get|got|is|was|still|in|under|approved|rejected|done|finished|complete|off|over"
    r"|through|submitted|ready|stand|going)\b))"
)
_ASSESSMENT_NAMES = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        # "assessments named Acme", "the review called Payroll vendor"
        rf"\b(?:assessments?|reviews?|questionnaires?)\s+(?:named|called|titled)\s+\"?{_NAME}\"?{_END}",
        # "the Acme Cloud assessment", "the okta review", "the Stripe one"
        rf"\bthe\s+{_NAME}\s+(?:{_NOUN}|one)\b",
        # "status of okta", "update on the Datadog review", "files for Okta", "submit it for Acme"
        rf"\b(?:of|on|for|with|about|to)\s+(?:the\s+)?{_NAME}(?:\s+{_NOUN})?{_END}",
        # "submit Stripe now", "has Datadog been approved", "where's Figma at", "is Figma done"
        rf"^(?:\W*(?:please|pls|ok|okay|go ahead and)\s+)?(?:submit|send|file|finali[sz]e)\s+"
        rf"{_NAME}(?:\s+{_NOUN})?{_END}",
        rf"\b(?:has|is|did|was|where's|where is|how's|how is)\s+{_NAME}(?:\s+{_NOUN})?\s+"
        r"(?:been|approved|rejected|at|get|got|still|done|finished|complete|under|in|going|ready|submitted)\b",
    )
)
_DOCUMENT_OWNER = re.compile(rf"\bthe\s+{_NAME}\s+{_FILES}\b", re.IGNORECASE)  # "pull up the Okta files"


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
    if intent in ("list_assessments", "assessment_status", "submit_assessment", "list_documents", "how_to"):
        name = _assessment_name(text, intent)
        if name:
            arguments["assessment"] = name
    if intent == "how_to":
        arguments["topic"] = _topic(message)
    return arguments


def _document(text: str, intent: str) -> str | None:
    quoted = _quoted(text)
    if quoted and (intent == "summarize_document" or FILENAME.search(quoted)):
        return quoted  # "Okta Pen Test Results.pdf": a quoted name is kept whole, spaces and all
    filename = FILENAME.search(text)
    if filename:
        return filename.group(0)
    identifier = DOCUMENT_ID.search(text)
    if identifier:
        return identifier.group(1)
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


def _quoted(text: str) -> str | None:
    quoted = QUOTED.search(text)
    return next(group for group in quoted.groups() if group).strip() if quoted else None


def _assessment_name(text: str, intent: str) -> str | None:
    """The assessment a message names, as written ("Acme Cloud", "okta"); None when it names none."""
    message = FILENAME.sub(" ", QUOTED.sub(" ", text.strip()))
    patterns = (*_ASSESSMENT_NAMES, _DOCUMENT_OWNER) if intent == "list_documents" else _ASSESSMENT_NAMES
    for pattern in patterns:
        for match in pattern.finditer(message):
            name = match.group("name").strip(" .,'")
            if name and name.lower() not in STATES and not _STATE_NAME.fullmatch(name.lower()):
                return name
    quoted = _quoted(text)
    if quoted and not FILENAME.search(quoted) and intent != "list_documents":
        return quoted
    return None


def _topic(message: str) -> str:
    """What a how-to question asks about: the action's name ("submit"), else the words after its lead."""
    found = [(match.start(), topic) for pattern, topic in _TOPICS for match in [pattern.search(message)] if match]
    if any(topic == "submit" for _start, topic in found):
        return "submit"  # "do I need to answer every question before submitting?" asks about submitting
    if found:
        return min(found)[1]
    lead = _HOW_TO_LEAD.search(message)
    words = (message[lead.end() :] if lead else message).strip(" ?.!").split()
    return " ".join(words[:4])
