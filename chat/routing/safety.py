"""The one rule every tier obeys: a question about acting, or a negated request, never acts.

"how do I submit?", "can I submit now?", "should I submit this assessment?" ask how or whether,
and are how-to questions; "don't submit yet" is not a request at all. Whatever a tier (the
classifier or the model) makes of them, they never come out as a state-changing intent.
"""

import re
from dataclasses import replace

from .arguments import extract_arguments
from .routes import Route
from .text import normalise

STATE_CHANGING = frozenset({"submit_assessment"})

HOW_TO_FORM = re.compile(
    r"\b(how (do|can|could|should|would|will|does|did) (i|we|you|one)|how to"
    r"|(can|could|should|may|must|shall|do) (i|we)|am i|are we (allowed|able|ready|supposed)"
    r"|when (can|should|do|shall|could|will|would|am|are|is) (i|we)"
    r"|is it (ok|okay|possible|fine|safe|allowed|too early|time|worth|a good idea|better)|is now"
    r"|what (happens|do i need|do we need|is needed|are the steps)|what's the (process|way)|where do (i|we)"
    r"|allowed to|supposed to|able to|whether)\b"
)
# "don't submit", "we shouldn't submit this until...", "hold off on sending": any negated verb or modal.
NEGATED_ACTION = re.compile(
    r"\b(don'?t|do not|dont|not|never|no need to|without|cancel|stop|hold off|wait"
    r"|can'?t|cannot|(?:should|would|could|must|wo|is|are|was|were|have|has|did|does|need)n'?t)\b[^,.;]*\b(submit|sen[dt]|hand|file)"
)


def never_act_on_a_question(route: Route, text: str) -> Route | None:
    """The route, unless it would change state on a question (then how_to) or a negation (then None)."""
    if route.intent not in STATE_CHANGING:
        return route
    message = normalise(text)
    if NEGATED_ACTION.search(message):
        return None
    if HOW_TO_FORM.search(message):
        return replace(route, intent="how_to", arguments=extract_arguments(text, "how_to"))
    return route
