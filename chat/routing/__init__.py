"""Cheapest-first intent routing for the chat assistant.

    INTENTS                          the eight intent names
    Route(intent, tier, confidence, arguments, answer=None)
    route_regex(text) -> Route | None      tier 1: explicit commands and unmistakable phrasings
    route_keyword(text) -> Route | None    tier 2: weighted keyword scoring with a threshold
    route_fast(text) -> Route | None       tier 1, then tier 2
    extract_arguments(text, intent) -> dict
    async route(text, passages=None) -> Route
                                     the fast tiers, else one LLM call that classifies and, for an
                                     open question, answers it from the passages `passages()` finds
    async route_llm(text, passages=None) -> Route   the LLM tier alone (route_fast found nothing)

Why three tiers: most chat messages are commands ("/summarize soc2.pdf") or plain
requests ("list my submitted assessments") that a regular expression or a handful
of weighted keywords recognise in microseconds, for free. Only what is left goes to
the model, in one Converse call that both names the intent and, for an open
question, answers it (ARCHITECTURE.md section 6), and that call is cached by the
LLM layer.

Why precision beats coverage: a message the fast tiers pass on costs one LLM call
(a fraction of a cent, usually a cache hit); a message they route wrongly runs the
wrong tool ("what does the SOC 2 report say about encryption?" answered with a
summary of the whole report) and the user has to notice and ask again. So each
fast tier returns None whenever it is unsure: questions about what documents say,
negations, thanks, messages with any word the router cannot account for, and
scores below the threshold or too close to a rival intent.
"""

import difflib
import functools
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

from django.conf import settings

from llm import services as llm

INTENTS = (
    "summarize_document",
    "suggest_answer",
    "list_assessments",
    "assessment_status",
    "submit_assessment",
    "list_documents",
    "help",
    "general",
)
STATES = (
    "draft",
    "in_progress",
    "submitted",
    "under_review",
    "approved",
    "rejected",
    "changes_requested",
    "archived",
)


@dataclass(frozen=True)
class Route:
    intent: str
    tier: str  # regex | keyword | llm
    confidence: float  # 0..1
    arguments: dict = field(default_factory=dict)
    answer: str | None = None  # set only when the LLM tier answered an open question directly
    citations: tuple = ()  # llm Citations of the passages that answer cites
    grounding: float = 0.0  # how well those passages match the question (0..1)


# --- Normalising --------------------------------------------------------------

_QUOTED = re.compile(r"\"([^\"]+)\"|“([^”]+)”|(?<![a-z])'([^']{3,})'(?![a-z])", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_QUESTION_REF = re.compile(r"^(q|#)?\d+$")  # "q3", "#14", "7"


def _normalise(text: str) -> str:
    text = text.strip().lower().replace("’", "'")
    text = re.sub(r"\btl\s*[;:]?\s*dr\b", "tldr", text)
    return re.sub(r"\s+", " ", text)


def _without_quotes(text: str) -> str:
    """The message with quoted text blanked: a quoted question's words are not the user's request."""
    return _QUOTED.sub(" ", text)


# --- Tier 1: regular expressions ----------------------------------------------

# Slash commands: the user said exactly what they want.
_COMMANDS = {
    "summarize": "summarize_document",
    "summarise": "summarize_document",
    "summary": "summarize_document",
    "suggest": "suggest_answer",
    "answer": "suggest_answer",
    "list": "list_assessments",
    "assessments": "list_assessments",
    "status": "assessment_status",
    "submit": "submit_assessment",
    "docs": "list_documents",
    "documents": "list_documents",
    "files": "list_documents",
    "help": "help",
}
_COMMAND = re.compile(r"^/(?P<name>[a-z]+)\b\s*(?P<rest>.*)$", re.DOTALL)

_CLOSING = r"[\s!.?:)(]*"
_GREETING = re.compile(
    r"^(hi|hello|hey|hiya|howdy|yo|good (morning|afternoon|evening)|thanks|thank you|thank u|thx|ty|cheers"
    r"|ok|okay|great|nice|cool|perfect|awesome|bye|goodbye|good job|well done)"
    r"( there| so much| a lot| all| again| team)?"
    r"(,? (thanks|thank you|that helps|that helped|that's helpful|that works))?" + _CLOSING + "$"
)
_HELP = re.compile(
    r"^((i'?m lost|i'?m confused|sorry|hi|hey|hello),? )?(help|hlep|halp|\?|usage|instructions|commands"
    r"|(what|which) (else )?(kind of |sort of )?(things )?(can|could) (you|i ask( you)?|this (bot|assistant)"
    r"|the (bot|assistant))( do| help( me)? with| ask)?( for me)?"
    r"|what are you able to (do|help with)"
    r"|(can|could) you help( me)?"
    r"|how (do|can|should) (i|we) (use (this|you|the (assistant|bot|chat))|get started|start|ask( you)? for [a-z ]+)"
    r"|how (does|do) (this|the|you) ?(chat|assistant|bot|thing)? work"
    r")( please)?" + _CLOSING + "$"
)


def route_regex(text: str) -> Route | None:
    """Explicit commands, greetings and the unmistakable help phrasings; None when unsure."""
    message = _normalise(text)
    if not message:
        return Route("general", "regex", 1.0, {})  # nothing to route; never worth a model call
    command = _COMMAND.match(message)
    if command:
        intent = _COMMANDS.get(command["name"])
        if intent is None:
            return None  # an unknown command is not ours to guess
        rest = command["rest"].strip()
        arguments = extract_arguments(f"{command['name']} {rest}", intent)
        # "/status Acme", "/submit Acme", "/list Acme": what follows the command names the assessment.
        named = intent in ("assessment_status", "submit_assessment", "list_assessments")
        if named and rest and "state" not in arguments and "assessment" not in arguments:
            arguments["assessment"] = text.strip().split(None, 1)[1].strip(" \"'?.!")
        if intent == "suggest_answer" and re.fullmatch(r"[\d\s,&-]+|(and|to|q|#|\d|\s|,|-)+", rest or "x"):
            arguments = extract_arguments(f"questions {rest}", intent)  # "/suggest 3" means question 3
        return Route(intent, "regex", 1.0, arguments)
    if _GREETING.match(message):
        return Route("general", "regex", 0.95, {})
    # "hlep me", "help me answer q6" are not requests for the help text: only whole-message matches.
    if _HELP.match(message):
        return Route("help", "regex", 0.95, {})
    return None


# --- Tier 2: weighted keywords ------------------------------------------------

# Every word that carries weight, in the forms users type. Anchors weigh 3 or more
# (one alone can route a message); supporting words weigh less and only add up.
_WEIGHTS: dict[str, dict[str, float]] = {
    # summarize_document
    "summarize": {"summarize_document": 4},
    "summarise": {"summarize_document": 4},
    "summary": {"summarize_document": 4},
    "summaries": {"summarize_document": 4},
    "overview": {"summarize_document": 4},
    "tldr": {"summarize_document": 4},
    "gist": {"summarize_document": 3.5},
    "recap": {"summarize_document": 3.5},
    "takeaways": {"summarize_document": 3.5},
    "synopsis": {"summarize_document": 4},
    "highlights": {"summarize_document": 3},
    "report": {"summarize_document": 1},
    "policy": {"summarize_document": 1},
    "pentest": {"summarize_document": 1},
    # suggest_answer
    "suggest": {"suggest_answer": 3},
    "suggested": {"suggest_answer": 3},
    "suggestion": {"suggest_answer": 3},
    "suggestions": {"suggest_answer": 3},
    "answer": {"suggest_answer": 2},
    "answers": {"suggest_answer": 2},
    "draft": {"suggest_answer": 1.5},
    "propose": {"suggest_answer": 2},
    "response": {"suggest_answer": 1.5},
    "responses": {"suggest_answer": 1.5},
    "fill": {"suggest_answer": 2},
    "prefill": {"suggest_answer": 2},
    "autofill": {"suggest_answer": 2},
    "unanswered": {"suggest_answer": 1.5},
    "questions": {"suggest_answer": 0.5},
    # list_assessments
    "assessments": {"list_assessments": 3},
    "drafts": {"list_assessments": 2.5},
    "list": {"list_assessments": 1.5, "list_documents": 1.5},
    "show": {"list_assessments": 1, "list_documents": 1},
    "my": {"list_assessments": 0.5},
    "all": {"list_assessments": 0.5},
    "which": {"list_assessments": 0.5, "list_documents": 0.5},
    # assessment_status
    "status": {"assessment_status": 3.5},
    "progress": {"assessment_status": 3.5},
    "stage": {"assessment_status": 3.5},
    "percentage": {"assessment_status": 3.5},
    "percent": {"assessment_status": 3.5},
    "assessment": {"assessment_status": 0.5, "submit_assessment": 0.5},
    # submit_assessment
    "submit": {"submit_assessment": 4},
    "finalize": {"submit_assessment": 2},
    "finalise": {"submit_assessment": 2},
    # list_documents
    "documents": {"list_documents": 3, "summarize_document": 1},
    "document": {"summarize_document": 1},
    "docs": {"list_documents": 3, "summarize_document": 1},
    "files": {"list_documents": 3},
    "uploads": {"list_documents": 3},
    "uploaded": {"list_documents": 3, "summarize_document": 1},
    "linked": {"list_documents": 1.5},
    "attached": {"list_documents": 1.5},
    "evidence": {"list_documents": 2},
    "processing": {"list_documents": 3},
    "processed": {"list_documents": 3},
    "process": {"list_documents": 2},
    "indexed": {"list_documents": 3},
    # help
    "help": {"help": 3.5},
    "commands": {"help": 3.5},
    "features": {"help": 3},
    "usage": {"help": 3.5},
    "instructions": {"help": 3.5},
    "statuses": {"assessment_status": 3.5},
    # Words that look like anchors but are not: kept so typo matching leaves them alone.
    "submitted": {},
    "helps": {},
    "helped": {},
    "helpful": {},
    "processes": {},
}

# Phrases weigh like keywords; each is a sure sign of its intent.
_PHRASES: tuple[tuple[re.Pattern, dict[str, float]], ...] = tuple(
    (re.compile(pattern), weights)
    for pattern, weights in (
        (r"\b(key|main) (points|takeaways|findings of)\b", {"summarize_document": 4}),
        (r"\bsum (it |this |that )?up\b", {"summarize_document": 4}),
        (r"\bpen ?test\b", {"summarize_document": 1}),
        (r"\b(q|question|questions|#) ?\d+", {"suggest_answer": 2}),
        (r"\bhelp me (answer|fill|draft)\b", {"help": -3.5}),
        (r"\b(every|each|all (of )?(my|the)?) ?assessment\b", {"list_assessments": 2}),
        (r"\b(how many|what|which) assessments\b", {"list_assessments": 1}),
        (r"\bhow many questions\b.*\b(left|remaining|unanswered|to go|open)\b", {"assessment_status": 4}),
        (r"\bhow far\b", {"assessment_status": 4}),
        (r"\bwhat state\b", {"assessment_status": 3.5}),
        (r"\bready to submit\b", {"assessment_status": 4}),
        (r"\bwhere (is|are) (my|the|this|our) (assessment|review|questionnaire)", {"assessment_status": 4}),
        (r"\bwhere are we with\b.*\b(assessment|review|questionnaire)\b", {"assessment_status": 4}),
        (
            r"^(has|is|was) (it|this|my|the|our) ?(assessment|questionnaire)? (been |still |now )*"
            r"(approved|rejected|reviewed|submitted|under review|in review|complete|completed|done|finished)\b",
            {"assessment_status": 4},
        ),
        (
            r"\b(has|have) (anyone|someone|the reviewers?) (reviewed|approved|rejected|looked at)\b",
            {"assessment_status": 4},
        ),
        (r"\bhas the review (started|begun|finished|ended)\b", {"assessment_status": 4}),
        (r"\bhow is the (review|assessment) going\b", {"assessment_status": 4}),
        (r"\bsend (it|this|the assessment|this assessment|the questionnaire) (in|to|for)\b", {"submit_assessment": 3}),
        (r"\bsend (it |this )?(for|to) (review|approval|the reviewers?)\b", {"submit_assessment": 3}),
        (r"\b(hand|pass) (it|this|the assessment|this assessment) over\b", {"submit_assessment": 3}),
        (r"\b(for|to) (review|approval|the reviewers?)\b", {"submit_assessment": 1}),
        (r"\b(what|which) (docs|documents|files|evidence)\b", {"list_documents": 0.5}),
        (r"\bwhat have (i|we) uploaded\b", {"list_documents": 1}),
        (r"\b[\w-]+\.(pdf|docx?|xlsx?|csv|txt|pptx?)\b", {"summarize_document": 1, "list_documents": 1}),
        (r"\bwhat (can|could) (you|i)\b", {"help": 1}),
    )
)

# Questions about what the documents or the vendor say are general, whatever
# summary-ish or document words they contain: a fast tier leaves them to the model.
_CONTENT_QUESTION = (
    re.compile(r"^(does|do|did|according|who|whom|whose|why|when|explain|compare|tell me|in the|is there|are there)\b"),
    re.compile(r"^(what|where|which)('s| is| are)? (does|do|did)\b"),
    re.compile(r"\b(does|do|did) (the|they|their|it|its|this|that|our|these|those|any)\b"),
    re.compile(
        r"\b(say|says|said|saying|mention|mentions|mentioned|cover|covers|covered|describe|describes|described"
        r"|require|requires|required|conclude|concluded|flag|flagged|mean|means|allow|allows|contain|contains"
        r"|prove|proves|proved|supports|shows|states|explains|includes|discuss|discusses|address|addresses)\b"
    ),
    re.compile(r"\b(about|regarding|concerning|according to|per the|with respect to|in terms of)\b"),
)
# Messages about the vendor itself ("can the vendor show...", "the vendor's status page") are
# questions about its evidence, not about the user's assessment.
_ABOUT_VENDOR = re.compile(r"\bvendor'?s\b|\b(the|this|our|a) vendors?\b(?! (assessment|questionnaire|review))")
# Negated or cancelled requests ("don't submit yet") must never run the tool.
_NEGATION = re.compile(r"\b(don'?t|do not|dont|never|not|cancel|stop|undo|withdraw|without)\b")
# A thank-you with more after it ("thanks, that summary was useful") is chat, not a request.
_THANKS = re.compile(r"^(thanks|thank you|thank u|thx|ty|cheers)\b")

# Words a request may contain without the router needing to understand them: function
# words, politeness, request verbs, and the nouns users name documents and assessments with.
_NEUTRAL_WORDS = """
    a an the this that these those my our your me i we us you it its they them there here of for to in on
    at by with from and or as so up out into over be is are was were been being am do does did have has had
    can could would will should shall may might must please pls plz thanks kindly just also now yet still
    already so far quick quickly brief briefly short full whole each every all any some more one ones
    what which who how where when whats what's i'd i'm id im like want need get give gimme go ahead let lets
    let's tell see check find send hand off kick ok okay hey hi hello u ur r well then right using use
    got make sure done left remaining open current currently latest new many much far along
    question questions q no number item items questionnaire assessment review reviewer reviewers approval
    document doc file pdf docx xlsx uploaded upload linked attached evidence them
    report soc soc2 type ii i 1 2 pen test penetration iso 27001 certificate bridge letter dpa data
    processing agreement policy policies plan contract security information isms incident response
    disaster recovery business continuity privacy access control vendor executive main key points
    findings finding named called note notes that's it's they've we've i've there's everything
    through thru whether anyone someone reviewed request requested changes good something available own their
    auto pre ready complete completed finished started going failed waiting ask able"""
_NEUTRAL = frozenset(_NEUTRAL_WORDS.split())
# A word the router cannot account for means the message says more than the router understands
# ("submit a ticket to IT", "summarize the risks"): the model decides.
MAX_UNEXPLAINED_WORDS = 0

KEYWORD_THRESHOLD = 3.0  # the top intent needs at least one anchor's worth of evidence...
KEYWORD_MARGIN = 1.5  # ...and a clear lead over the runner-up, or the message goes on


@functools.lru_cache(maxsize=8192)
def _canonical(token: str) -> str:
    """The vocabulary word a token stands for: exact, plural, or a one-typo spelling; else itself."""
    if token in _WEIGHTS or token.isdigit():
        return token
    for singular in (token[:-1] if token.endswith("s") else "", token[:-2] if token.endswith("es") else ""):
        if singular in _WEIGHTS:
            return singular
    if len(token) >= 4:
        for word in _WEIGHTS:
            if len(word) == len(token) and _is_transposition(token, word):
                return word
    if len(token) >= 5:
        # 0.8 keeps to one or two slips in a word of five or more letters ("staus", "sumarize").
        close = difflib.get_close_matches(token, _WEIGHTS.keys(), n=1, cutoff=0.8)
        # A word that extends a vocabulary word ("highlight"/"highlights", "documented") is another
        # word, not a typo: inflections the router accepts are listed in _WEIGHTS explicitly.
        if close and not _is_inflection(token, close[0]):
            return close[0]
    return token


def _is_inflection(token: str, word: str) -> bool:
    shorter, longer = sorted((token, word), key=len)
    return longer.startswith(shorter) and longer[len(shorter) :] in {"s", "es", "d", "ed", "ing", "er", "ers", "ly"}


def _is_transposition(token: str, word: str) -> bool:
    """True when swapping two adjacent letters of token gives word ("hlep" -> "help")."""
    differences = [index for index, (a, b) in enumerate(zip(token, word, strict=True)) if a != b]
    return (
        len(differences) == 2
        and differences[1] == differences[0] + 1
        and token[differences[0]] == word[differences[1]]
        and token[differences[1]] == word[differences[0]]
    )


def _scores(message: str) -> dict[str, float]:
    scores = dict.fromkeys(INTENTS, 0.0)
    for token in _WORD.findall(message):
        for intent, weight in _WEIGHTS.get(_canonical(token), {}).items():
            scores[intent] += weight
    for pattern, weights in _PHRASES:
        if pattern.search(message):
            for intent, weight in weights.items():
                scores[intent] += weight
    for _state, pattern in _STATE_PATTERNS:
        if pattern.search(message):
            scores["list_assessments"] += 1
            scores["assessment_status"] += 0.5
    return scores


def _is_content_question(message: str) -> bool:
    clauses = [clause.strip() for clause in re.split(r"[:;.!?]|,\s|\s-\s", message) if clause.strip()]
    return any(pattern.search(clause) for clause in clauses for pattern in _CONTENT_QUESTION)


def _unexplained_words(message: str, text: str) -> list[str]:
    """Words that neither weigh for an intent, nor are neutral, nor belong to a name the message gives."""
    named = " ".join(str(value) for value in extract_arguments(text, "list_assessments").values())
    named += " " + " ".join(_FILENAME.findall(text)).lower()
    message = _DOCUMENT_ID.sub(" ", _FILENAME.sub(" ", message))
    for pattern, weights in _PHRASES:
        if any(weight > 0 for weight in weights.values()):
            message = pattern.sub(" ", message)  # a recognised phrase explains its own words
    return [
        token
        for token in _WORD.findall(message)
        if not _QUESTION_REF.match(token)
        and token not in _NEUTRAL
        and not _WEIGHTS.get(_canonical(token))
        and token not in named.lower()
        and not any(pattern.search(token) for _state, pattern in _STATE_PATTERNS)
    ]


def route_keyword(text: str) -> Route | None:
    """Weighted keyword scoring; None unless one intent clearly leads (precision over coverage)."""
    message = _without_quotes(_normalise(text))
    if not message or _THANKS.match(message) or _NEGATION.search(message) or _is_content_question(message):
        return None
    if _ABOUT_VENDOR.search(message) or len(_unexplained_words(message, text)) > MAX_UNEXPLAINED_WORDS:
        return None
    scores = _scores(message)
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    (intent, top), (_runner_up, second) = ranked[0], ranked[1]
    if top < KEYWORD_THRESHOLD or top - second < KEYWORD_MARGIN:
        return None
    confidence = round(min(0.95, top / (top + max(second, 0.0) + 1.0)), 2)
    return Route(intent, "keyword", confidence, extract_arguments(text, intent))


def route_fast(text: str) -> Route | None:
    """The free tiers: regex, then keywords; None when neither is sure."""
    return route_regex(text) or route_keyword(text)


# --- Arguments ----------------------------------------------------------------

_FILENAME = re.compile(r"[\w][\w.-]*\.(?:pdf|docx?|xlsx?|csv|txt|pptx?|md|json|zip)\b", re.IGNORECASE)
_DOCUMENT_ID = re.compile(r"\b(?:document|doc|file)\s+(?:id\s+)?#?([a-z0-9-]*\d[a-z0-9-]*)\b", re.IGNORECASE)
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
_STATE_PATTERNS: tuple[tuple[str, re.Pattern], ...] = tuple(
    (state, re.compile(pattern))
    for state, pattern in (
        ("changes_requested", r"\b(changes requested|changes_requested|need(s|ing)? changes|requested changes)\b"),
        ("under_review", r"\b(under review|under_review|in review|being reviewed|waiting for review)\b"),
        ("in_progress", r"\b(in progress|in-progress|in_progress|ongoing|open)\b"),
        ("draft", r"\b(drafts?|in draft)\b"),
        ("submitted", r"\bsubmitted\b"),
        ("approved", r"\bapproved\b"),
        ("rejected", r"\b(rejected|declined)\b"),
        ("archived", r"\barchived\b"),
    )
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
    message = _normalise(text)
    if intent in ("summarize_document", "suggest_answer", "list_documents"):
        document = _document(text, intent)
        if document:
            arguments["document"] = document
    if intent == "suggest_answer":
        questions = _questions(text)
        if questions is not None:
            arguments["questions"] = questions
    if intent in ("list_assessments", "assessment_status"):
        for state, pattern in _STATE_PATTERNS:
            if pattern.search(message):
                arguments["state"] = state
                break
    if intent in ("list_assessments", "assessment_status", "submit_assessment"):
        name = _assessment_name(text)
        if name:
            arguments["assessment"] = name
    return arguments


def _document(text: str, intent: str) -> str | None:
    filename = _FILENAME.search(text)
    if filename:
        return filename.group(0)
    identifier = _DOCUMENT_ID.search(text)
    if identifier:
        return identifier.group(1)
    if intent == "summarize_document":
        quoted = _QUOTED.search(text)
        if quoted:
            return next(group for group in quoted.groups() if group)
    if intent == "suggest_answer":
        return None  # "answer q11 using the soc 2 report": the document is evidence, not the target
    named = _NAMED_DOCUMENT.search(text)
    return named.group(1).strip() if named else None


def _questions(text: str) -> list[int] | str | dict | None:
    quoted = _QUOTED.search(text)
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
    if _UNANSWERED.search(_normalise(text)):
        return "unanswered"
    return None


def _assessment_name(text: str) -> str | None:
    for pattern in _ASSESSMENT_NAMES:
        match = pattern.search(text.strip())
        name = match.group(1).strip() if match else ""
        if name and name.lower().split()[0] not in _NOT_NAMES and name.lower() not in STATES:
            return name
    quoted = _QUOTED.search(text)
    return next(group for group in quoted.groups() if group).strip() if quoted else None


# --- Tier 3: the model ----------------------------------------------------------

ROUTER_SYSTEM_PROMPT = (
    "You route messages sent to the chat assistant of TRA, a tool for technology-risk assessments "
    "(vendor questionnaires with uploaded evidence such as SOC 2 reports and policies).\n"
    "Reply with a first line of exactly `INTENT: <name>`, where <name> is one of:\n"
    "- summarize_document: the user wants a summary, overview or key points of a document or of all documents.\n"
    "- suggest_answer: the user wants proposed answers to questionnaire questions.\n"
    "- list_assessments: the user wants a list of their assessments, possibly filtered by state or name.\n"
    "- assessment_status: the user asks about the state, progress or review status of an assessment.\n"
    "- submit_assessment: the user wants to submit an assessment for review.\n"
    "- list_documents: the user asks which documents are uploaded or linked, or their processing status.\n"
    "- help: the user asks what the assistant can do or how to use it.\n"
    "- general: anything else, including questions about what the documents say, greetings and thanks.\n"
    "For general only, answer the message after the first line, briefly and factually. When numbered "
    "passages from the user's documents come with the message, answer from them only and cite the "
    "passages you rely on by number in square brackets, for example [2]; when they do not answer it, "
    "say so. For every other intent, write nothing after the first line."
)
ROUTER_MAX_TOKENS = 800  # room for a short answer to an open question; intents alone need a dozen
# "INTENT: list_documents", "**Intent:** list documents", "intent = general - The report says..."
_INTENT_LINE = re.compile(r"^[\W_]*intent[\W_]*[:=]\W*(?P<rest>.*)$", re.IGNORECASE | re.MULTILINE)
_INTENT_NAME = re.compile(
    r"(?P<name>" + "|".join(name.replace("_", r"[\s_-]+") for name in INTENTS) + r")\b\W*", re.IGNORECASE
)


async def route(text: str, passages: Callable[[], Awaitable[llm.Retrieval | None]] | None = None) -> Route:
    """The fast tiers, else one cached LLM call that classifies and, for open questions, answers.

    `passages`, called only when the fast tiers pass the message on, finds the
    document passages an open question may be answered from: they go into the same
    call, so a question about the evidence is classified and answered, with
    citations, by one model call rather than two. Without a generative model
    (LLM_PROVIDER is not bedrock) the message is general and the chat layer answers
    it from the documents offline. ServiceUnavailable from the model propagates:
    the API turns it into a 503.
    """
    return route_fast(text) or await route_llm(text, passages)


async def route_llm(text: str, passages: Callable[[], Awaitable[llm.Retrieval | None]] | None = None) -> Route:
    """The LLM tier alone, for a message route_fast has passed on (see route)."""
    if settings.LLM_PROVIDER != "bedrock":
        return Route("general", "llm", 0.0, {})
    found = await passages() if passages else None
    prompt = text
    if found is not None and found.passages:
        numbered = "\n\n".join(f"[{n}] {passage.text}" for n, passage in enumerate(found.passages, start=1))
        prompt = f"Passages from the user's documents:\n\n{numbered}\n\nMessage: {text}"
    completion = await llm.converse(
        messages=[{"role": "user", "content": [{"text": prompt}]}],
        system=ROUTER_SYSTEM_PROMPT,
        task="chat.route",
        max_tokens=ROUTER_MAX_TOKENS,
        temperature=0.0,
    )
    routed = parse_llm_reply(text, completion.text)
    if routed.answer and found is not None and found.passages:
        answer, citations, grounding = llm.cite(routed.answer, found)
        routed = replace(routed, answer=answer, citations=tuple(citations), grounding=grounding)
    return routed


def parse_llm_reply(text: str, reply: str) -> Route:
    """The Route in a model's reply; an unknown or garbled intent is general, without an answer."""
    line = _INTENT_LINE.search(reply)
    name = _INTENT_NAME.match(line["rest"]) if line else None
    if name is None:
        return Route("general", "llm", 0.3, {})  # no answer either: a garbled reply is not one to show
    intent = re.sub(r"[\s-]+", "_", name["name"].lower())
    if intent != "general":
        return Route(intent, "llm", 0.9, extract_arguments(text, intent))
    # The answer is whatever follows the intent, on its line or below it.
    answer = (line["rest"][name.end() :] + reply[line.end() :]).strip()
    return Route("general", "llm", 0.9, {}, answer or None)
