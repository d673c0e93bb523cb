"""Tier 3: one LLM call that names the intent and, for an open question, answers it."""

import re
from collections.abc import Awaitable, Callable
from dataclasses import replace

from django.conf import settings

from llm import services as llm

from ..models import Intent
from .arguments import extract_arguments
from .routes import Route
from .safety import never_act_on_a_question
from .vocabulary import INTENTS

_INTENT_DESCRIPTIONS = {
    Intent.SUMMARIZE_DOCUMENT: "the user wants a summary, overview or key points of a document or of all documents.",
    Intent.SUGGEST_ANSWER: "the user wants proposed answers to questionnaire questions.",
    Intent.LIST_ASSESSMENTS: "the user wants a list of their assessments, possibly filtered by state or name.",
    Intent.ASSESSMENT_STATUS: "the user asks about the state, progress or review status of an assessment.",
    Intent.SUBMIT_ASSESSMENT: "the user wants to submit an assessment for review.",
    Intent.LIST_DOCUMENTS: "the user asks which documents are uploaded or linked, or their processing status.",
    Intent.HELP: "the user asks what the assistant can do or how to use it.",
    Intent.HOW_TO: (
        'the user asks how, whether or when they can or should do something in TRA ("how do I submit?", '
        '"should I submit this assessment?"): they want to know how, not to have it done.'
    ),
    Intent.GENERAL: "anything else, including questions about what the documents say, greetings and thanks.",
}
ROUTER_SYSTEM_PROMPT = (
    "You route messages sent to the chat assistant of TRA, a tool for technology-risk assessments "
    "(vendor questionnaires with uploaded evidence such as SOC 2 reports and policies).\n"
    "Reply with a first line of exactly `INTENT: <name>`, where <name> is one of:\n"
    + "".join(f"- {intent}: {_INTENT_DESCRIPTIONS[intent]}\n" for intent in Intent)
    + "For general only, answer the message after the first line, briefly and factually. When numbered "
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
        routed = never_act_on_a_question(Route(intent, "llm", 0.9, extract_arguments(text, intent)), text)
        return routed or Route("general", "llm", 0.9, {})
    # The answer is whatever follows the intent, on its line or below it.
    answer = (line["rest"][name.end() :] + reply[line.end() :]).strip()
    return Route("general", "llm", 0.9, {}, answer or None)
