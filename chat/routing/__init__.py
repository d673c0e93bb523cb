"""Cheapest-first intent routing for the chat assistant.

    INTENTS                          the intent names (chat.models.Intent)
    Route(intent, tier, confidence, arguments, answer=None)
    route_regex(text) -> Route | None       tier 1: explicit commands, greetings, whole-message help
    route_classifier(text) -> Route | None  tier 2: a learned n-gram classifier that abstains when unsure
    route_fast(text) -> Route | None        tier 1, then tier 2 (both free)
    extract_arguments(text, intent) -> dict
    async route(text, passages=None) -> Route
                                     the fast tiers, else one LLM call that classifies and, for an
                                     open question, answers it from the passages `passages()` finds
    async route_llm(text, passages=None) -> Route   the LLM tier alone (route_fast found nothing)

The modules: `vocabulary` (commands and state names, derived from the models), `text`
(normalising a message, its request clause), `routes` (Route), `commands` (tier 1),
`classifier` (tier 2, weights in model.json made by `manage.py train_router`), `guards` (tier 2's
form checks: an open question or a tool's verb on another object is not a tool request), `llm_tier`
(tier 3), `safety` (no tier acts on a question), `arguments` (what a tool needs).

Why three tiers: most chat messages are commands ("/summarize soc2.pdf") or plain requests
("pull up the files for Okta") that a regular expression or a linear model recognises in well
under a millisecond, for free. Only what is left goes to the model, in one Converse call that
both names the intent and, for an open question, answers it (ARCHITECTURE.md section 6), and
that call is cached by the LLM layer.

Why precision beats coverage: a message the fast tiers pass on costs one LLM call (a fraction
of a cent, usually a cache hit); a message they route wrongly runs the wrong tool and the user
has to notice and ask again. So the classifier routes only above a probability threshold chosen
for precision, never routes `general` (open questions need the model), and no tier turns a
question about acting ("should I submit?") or a negated request into a state change.
"""

from collections.abc import Awaitable, Callable

from llm import services as llm

from .arguments import extract_arguments
from .classifier import THRESHOLDS, route_classifier
from .commands import route_regex
from .llm_tier import ROUTER_MAX_TOKENS, ROUTER_SYSTEM_PROMPT, parse_llm_reply, route_llm
from .routes import Route
from .vocabulary import INTENTS, STATES

__all__ = [
    "INTENTS",
    "ROUTER_MAX_TOKENS",
    "ROUTER_SYSTEM_PROMPT",
    "STATES",
    "THRESHOLDS",
    "Route",
    "extract_arguments",
    "parse_llm_reply",
    "route",
    "route_fast",
    "route_classifier",
    "route_llm",
    "route_regex",
]


def route_fast(text: str) -> Route | None:
    """The free tiers: regex, then the classifier; None when neither is sure."""
    return route_regex(text) or route_classifier(text)


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
