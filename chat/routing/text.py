"""Reading a message: one form for case, apostrophes, spacing and "tl;dr"; its quoted text; its words."""

import re

QUOTED = re.compile(r"\"([^\"]+)\"|“([^”]+)”|(?<![a-z])'([^']{3,})'(?![a-z])", re.IGNORECASE)
WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def normalise(text: str) -> str:
    text = text.strip().lower().replace("’", "'")
    text = re.sub(r"\btl\s*[;:]?\s*dr\b", "tldr", text)
    return re.sub(r"\s+", " ", text)


def without_quotes(text: str) -> str:
    """The message with quoted text blanked: a quoted question's words are not the user's request."""
    return QUOTED.sub(" ", text)


# "don't list the files, just summarize the SOC2 pdf" asks for the summary; "summarize the pen test,
# then list the files" asks first for the summary: the clause that carries the request.
_NEGATED_THEN = re.compile(
    r"^(?:.*?\b)?(?:don'?t|do not|dont|no need to|skip|not|never mind|instead of)\b[^,;]*?(?:,|;| - )\s*"
    r"(?:but |just |only |instead |rather )*(?P<request>.+)$",
    re.IGNORECASE,
)
_THEN = re.compile(r"^(?:first |first, )?(?P<request>.+?)(?:,? and then |,? then |, after that |; )", re.IGNORECASE)


def request_clause(text: str) -> str:
    """The part of a message that says what to do: after a negated clause, before a "then" (case kept)."""
    message = re.sub(r"\s+", " ", text.strip().replace("’", "'"))
    negated = _NEGATED_THEN.match(message)
    if negated and len(negated["request"].split()) >= 2:
        message = negated["request"]
    then = _THEN.match(message)
    return then["request"] if then and len(then["request"].split()) >= 2 else message


# "summarize the SOC 2 and list the files": two requests, each starting with a tool's verb. A plain "and"
# is not split in general ("go ahead and submit it", "read the HECVAT and give me the main points",
# "mark it as ready and submit it" are one request), only when both halves start with a request verb.
_VERB = (
    r"(?:please |pls |can you |could you |would you |also |then |quickly )*(?:list|show|summari[sz]e|sum up|submit"
    r"|send|draft|suggest|answer|fill in|pull up|check|recap|display)\b"
)
_TWO_REQUESTS = re.compile(
    rf"^(?P<first>{_VERB}.+?)(?:,? and (?:also |then )?|,? & |, plus |, also ){_VERB}", re.IGNORECASE
)


def first_request(text: str) -> str | None:
    """The first of two requests joined by "and" ("list my drafts and summarize the pen test"), else None."""
    two = _TWO_REQUESTS.match(request_clause(text))
    return two["first"] if two and len(two["first"].split()) >= 2 else None
