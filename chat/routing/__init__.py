"""Cheapest-first intent routing for the chat assistant.

    INTENTS                          the eight intent names (chat.models.Intent)
    Route(intent, tier, confidence, arguments, answer=None)
    route_regex(text) -> Route | None      tier 1: explicit commands and unmistakable phrasings
    route_keyword(text) -> Route | None    tier 2: weighted keyword scoring with a threshold
    route_fast(text) -> Route | None       tier 1, then tier 2
    extract_arguments(text, intent) -> dict
    async route(text, passages=None) -> Route
                                     the fast tiers, else one LLM call that classifies and, for an
                                     open question, answers it from the passages `passages()` finds
    async route_llm(text, passages=None) -> Route   the LLM tier alone (route_fast found nothing)

The modules: `vocabulary` (word tables; intent and state names derived from the models),
`text` (normalising a message), `routes` (Route), `commands` (tier 1), `keywords` (tier 2),
`llm_tier` (tier 3), `arguments` (what a tool needs from the message).

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

from collections.abc import Awaitable, Callable

from llm import services as llm

from .arguments import extract_arguments
from .commands import route_regex
from .keywords import KEYWORD_MARGIN, KEYWORD_THRESHOLD, MAX_UNEXPLAINED_WORDS, route_keyword
from .llm_tier import ROUTER_MAX_TOKENS, ROUTER_SYSTEM_PROMPT, parse_llm_reply, route_llm
from .routes import Route
from .vocabulary import INTENTS, STATES

__all__ = [
    "INTENTS",
    "KEYWORD_MARGIN",
    "KEYWORD_THRESHOLD",
    "MAX_UNEXPLAINED_WORDS",
    "ROUTER_MAX_TOKENS",
    "ROUTER_SYSTEM_PROMPT",
    "STATES",
    "Route",
    "extract_arguments",
    "parse_llm_reply",
    "route",
    "route_fast",
    "route_keyword",
    "route_llm",
    "route_regex",
]


def route_fast(text: str) -> Route | None:
    """The free tiers: regex, then keywords; None when neither is sure."""
    return route_regex(text) or route_keyword(text)


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
