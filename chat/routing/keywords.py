"""Tier 2: weighted keyword scoring, which passes on anything it is not sure of."""

import difflib
import functools
import re

from .arguments import DOCUMENT_ID, FILENAME, extract_arguments
from .routes import Route
from .text import WORD, normalise, without_quotes
from .vocabulary import INTENTS, NEUTRAL, PHRASES, STATE_PATTERNS, WEIGHTS

_QUESTION_REF = re.compile(r"^(q|#)?\d+$")  # "q3", "#14", "7"

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
# A word the router cannot account for means the message says more than the router understands
# ("submit a ticket to IT", "summarize the risks"): the model decides.
MAX_UNEXPLAINED_WORDS = 0

KEYWORD_THRESHOLD = 3.0  # the top intent needs at least one anchor's worth of evidence...
KEYWORD_MARGIN = 1.5  # ...and a clear lead over the runner-up, or the message goes on


@functools.lru_cache(maxsize=8192)
def _canonical(token: str) -> str:
    """The vocabulary word a token stands for: exact, plural, or a one-typo spelling; else itself."""
    if token in WEIGHTS or token.isdigit():
        return token
    for singular in (token[:-1] if token.endswith("s") else "", token[:-2] if token.endswith("es") else ""):
        if singular in WEIGHTS:
            return singular
    if len(token) >= 4:
        for word in WEIGHTS:
            if len(word) == len(token) and _is_transposition(token, word):
                return word
    if len(token) >= 5:
        # 0.8 keeps to one or two slips in a word of five or more letters ("staus", "sumarize").
        close = difflib.get_close_matches(token, WEIGHTS.keys(), n=1, cutoff=0.8)
        # A word that extends a vocabulary word ("highlight"/"highlights", "documented") is another
        # word, not a typo: inflections the router accepts are listed in WEIGHTS explicitly.
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
    for token in WORD.findall(message):
        for intent, weight in WEIGHTS.get(_canonical(token), {}).items():
            scores[intent] += weight
    for pattern, weights in PHRASES:
        if pattern.search(message):
            for intent, weight in weights.items():
                scores[intent] += weight
    for _state, pattern in STATE_PATTERNS:
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
    named += " " + " ".join(FILENAME.findall(text)).lower()
    message = DOCUMENT_ID.sub(" ", FILENAME.sub(" ", message))
    for pattern, weights in PHRASES:
        if any(weight > 0 for weight in weights.values()):
            message = pattern.sub(" ", message)  # a recognised phrase explains its own words
    return [
        token
        for token in WORD.findall(message)
        if not _QUESTION_REF.match(token)
        and token not in NEUTRAL
        and not WEIGHTS.get(_canonical(token))
        and token not in named.lower()
        and not any(pattern.search(token) for _state, pattern in STATE_PATTERNS)
    ]


def route_keyword(text: str) -> Route | None:
    """Weighted keyword scoring; None unless one intent clearly leads (precision over coverage)."""
    message = without_quotes(normalise(text))
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
