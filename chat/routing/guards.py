"""Tier 2's form checks: a tool route must read as a request for that tool, not a question about it.

    checked(route, text) -> Route | None    the classifier's route, turned into how_to, or None

The classifier learns which words go with which tool, so a message that uses a tool's words for
something else ("list five tips for faster reviews", "draft a slack message to the team",
"summarize the movie we watched", "what is a CAIQ?") can look like a sure request.
These checks are about the FORM of the message, which n-grams see poorly, and each one only ever
makes the fast tier abstain (the LLM tier then decides) or turns an asked-how into how_to:

- an open question (why..., what usually..., do you think..., what is a..., is X enough...) is
  general's, whatever words it uses;
- a list of N reasons / tips / examples is not a list of assessments or documents;
- a tool's verb on another object ("write a poem", "summarize the news") is not that tool, unless the
  tool's own object is named too ("draft a reply to question 3");
- a verdict ("the files for X look incomplete", "that answer looks wrong") asks for nothing;
- a feeling ("I'm exhausted by these reviews") or a question about limits ("max upload size?") lists
  nothing;
- "how do I X", "should I X", "can I upload X" ask how or whether: how_to, never the tool X;
- how_to itself needs a question form ("submit the Acme assessment, the deadline is today" is not);
- a yes/no question ("have the reviewers finished the X review?") never submits.
"""

import re
from dataclasses import replace

from .arguments import FILENAME, extract_arguments
from .routes import Route
from .safety import HOW_TO_FORM
from .text import QUOTED, normalise, request_clause

_LEAD = r"^(?:(?:ok|okay|so|hey|hi|hmm|um|quick question|honestly|and|but|also|btw)\W+)*"

# Questions that ask for an opinion, an explanation or a definition: never a tool. ("why can't I submit?"
# asks what blocks an action: how_to's, so it is left to the classifier.)
_OPEN_QUESTION = re.compile(
    _LEAD + r"(?:(?:why|how come)\b"
    r"(?! (?:i |we )?(?:can'?t|cannot|can i not|won'?t|doesn'?t|don'?t|isn'?t|am i|is it not|do i)\b)"
    r"|is it (?:true|normal|common|typical|bad)\b"
    r"|(?:what|which|who)(?:'s| is| are| do| does)? "
    r"(?:usually|typically|generally|normally|commonly|often|most often)\b"
    r"|(?:what|who)(?:'s| is| are) (?:an? (?!(?:good|better|decent|sensible|reasonable|possible|suggested|solid|quick"
    r"|short|nice|fair|safe|proper|way|summary|rundown|overview|breakdown|tl;?dr|draft|list)\b)"
    r"|the (?:difference|meaning|point|purpose)\b)"
    r"|(?:what|who)(?:'s| is| are) \w+(?:-\w+)? (?:mean|stand for)\b)"
    r"|\b(?:do|did) you (?:th?i?n?k|reckon|believe|feel)\b"
    r"|\bin your (?:opinion|view)\b"
    r"|^(?:is|are|was|were|does|do)\b.*\b(?:enough|sufficient|adequate|acceptable|reasonable|worth it)\b"
)
# "I'm so tired of questionnaires", "I hate reviews": a feeling, not a request (unless it says what it wants).
_FEELING = re.compile(
    _LEAD + r"(?:(?:i'?m|i am|i feel|feeling)(?: so| really| very| just| kind of| a bit| totally)? (?:tired|sick|bored"
    r"|exhausted|stressed|overwhelmed|fed up|frustrated|annoyed|sad|happy|excited|burnt out|burned out|drowning)"
    r"|i (?:hate|love|can'?t stand))\b"
    r"(?!.*\b(?:looking|need|want|wanna|trying|after|searching|hoping|wondering|would like|show|list|see|find|get)\b)"
)
# "what's the maximum file size?", "which formats are supported?": a question about the product's limits.
_LIMITS = re.compile(
    _LEAD + r"(?:what|which|is|are|can|how (?:big|large|many))\b.*\b(?:max|maximum|minimum|size limit|limits?"
    r"|supported|accepted|file types?|formats?)\b"
)
# "list three reasons...", "give me 5 tips...": a list of ideas, not of the user's records ("examples of
# what I can ask" is help's, and left to the classifier).
_LIST_OF_IDEAS = re.compile(
    r"\b(?:list|give me|name|tell me|share|what are)(?: me| us)?(?: the)?"
    r" (?:a few|a couple of|some|several|top|the top|\d+|two|three|four|five|six|seven|eight|nine|ten)"
    r"(?: \w+)? (?:reasons|ways|tips|examples|ideas|things|steps|mistakes|best practices|pros|cons|benefits"
    r"|risks|red flags|factors|signs|questions to ask|common)\b(?! of what (?:i|we|you) can)"
)
# Writing that is not an answer, summaries of what is not a document: the tool's verb, another object.
_GENRE = (
    r"e-?mails?|posts?|letters? to|poems?|messages?|notes? to|tweets?|memos?|essays?|stor(?:y|ies)|jokes?|songs?"
    r"|bios?|slack|linkedin|blog|speech|toast|cover letter|resumes?|cv|tickets?|invites?|invitations?|agendas?"
    r"|haiku|limerick|plot|novel|book|movie|film|tv show|episode|news|headlines|meeting"
    r"|call|conversation|thread|chat|discussion|podcast|video|article|wikipedia|history of|life of|game|weather"
    r"|in your own words"
)
# The genre must be the verb's object, within a few words of it ("summarize the plot of", "write me an
# email"), not a filler after it ("summarize the DPA for tomorrow's meeting").
_GENRE_OBJECT = (
    r"\b(?:summari[sz]e|recap|sum up|tl;?dr|write|draft|compose|give me|tell me)"
    rf"(?:\s+(?!for\b|before\b|after\b|by\b|ahead\b|on\b)\S+){{0,4}}?\s+(?:{_GENRE})\b"
)
_NOT_THE_TOOL_OBJECT = {
    "suggest_answer": re.compile(rf"{_GENRE_OBJECT}|\btalk about\b"),
    "summarize_document": re.compile(_GENRE_OBJECT),
}
# ...unless the message also names the tool's own object ("draft a reply to the vendor's question 3").
_TOOL_OBJECT = {
    "suggest_answer": re.compile(
        r"answer|respon|question|\bq\W{0,2}\d|#\s?\d|\b(?:no|nos|number|numbers|nr)\W{0,2}\d|blank|unanswered"
        r"|\bitems?\b|\bcontrols?\b|questionnaire|\bsection\b|\bsig\b|\bcaiq\b|\bddq\b|\bhecvat\b|\bthe rest\b"
    ),
    "summarize_document": re.compile(
        r"report|\bsoc|pen ?test|pentest|polic(?:y|ies)|contract|certific|\bdocs?\b|document|\bfiles?\b|\bpdfs?\b"
        r"|attach|upload|evidence|filename|quoted"
    ),
}
# "the files for Jamf look incomplete", "the summary was too long", "that answer looks wrong": a verdict on
# something, not a request for it (unless the message also asks for something: "... look incomplete, list them").
_VERDICT = re.compile(
    _LEAD + r"(?:the|this|that|these|those|my|our|your|their|its)\b[^?]*?\b(?:looks?|seems?|was|were|is|are|feels?"
    r"|reads?|sounds?)(?: like)?(?: so| too| really| very| a bit| kind of| pretty| way| quite| still)?"
    r" (?:incomplete|wrong|off|outdated|out of date|old|stale|weird|odd|strange|bad|good|great|fine|empty|broken"
    r"|confusing|unclear|inaccurate|incorrect|long|short|thin|vague|generic|thorough|solid|shaky|suspicious)\b[^,;]*$"
)
_ASKS_FOR_SOMETHING = re.compile(
    r"\b(?:list|show|summari[sz]e|sum up|submit|send|draft|suggest|write|answer|fill|give|pull|get|display|find"
    r"|check|recap|can you|could you|would you|please|pls)\b"
)
# "how do I list my assessments?", "should I attach the pen test?", "can I upload excel files?" ("can we
# draft answers for q3" is a request to the assistant: "we" is the user and it).
_ASKS_HOW = re.compile(
    _LEAD + r"(?:how (?:do|can|could|should|would|does) (?:i|we|one)\b|how to\b|(?:should|shall) (?:i|we)\b"
    r"|(?:can|cn|could|may) i (?!(?:please |pls |just |quickly )?(?:see|get|have|view|look|grab|check|pull"
    r"|ask|read|know|hear|show|list|find|take|access|request|borrow|bother|trouble|pls|please|just|quickly)\b)[a-z])"
)
# A request to act, not a question: "submit the Acme assessment, the deadline is today", "can you write
# the answers before I send this off". how_to is never such a message.
_IMPERATIVE = re.compile(
    _LEAD + r"(?:please |pls |kindly )?(?:(?:can|could|would|will) you (?:please |pls |kindly )?)?"
    r"(?:submit|send|list|show|summari[sz]e|sum up|draft|write|answer|fill|give|pull|get|open|display|find|suggest"
    r"|propose|finali[sz]e|file|hand|push|mark|lock)\b"
)
# A sentence starting with an auxiliary asks whether something happened: it never submits.
_YES_NO_QUESTION = re.compile(_LEAD + r"(?:have|has|had|did|is|was|are|were|does|do)\b")


def _message(text: str) -> str:
    """The request clause, normalised, quoted text and file names kept as markers."""
    clause = QUOTED.sub(" quoted ", request_clause(text))
    return normalise(FILENAME.sub(" filename ", clause))


def checked(route: Route, text: str) -> Route | None:
    """The classifier's route if the message's form fits it; how_to if it asks how; else None."""
    message = _message(text)
    if _OPEN_QUESTION.search(message) or _LIST_OF_IDEAS.search(message) or _FEELING.match(message):
        return None
    if _VERDICT.match(message) and not _ASKS_FOR_SOMETHING.search(message):
        return None
    if route.intent in ("list_documents", "list_assessments") and _LIMITS.match(message):
        return None
    other = _NOT_THE_TOOL_OBJECT.get(route.intent)
    if other is not None and other.search(message) and not _TOOL_OBJECT[route.intent].search(message):
        return None
    if route.intent not in ("how_to", "help") and _ASKS_HOW.search(message):
        return replace(route, intent="how_to", arguments=extract_arguments(text, "how_to"))
    if route.intent == "how_to" and _IMPERATIVE.match(message) and not HOW_TO_FORM.search(message):
        return None
    if route.intent == "submit_assessment" and _YES_NO_QUESTION.match(message):
        return None
    return route
