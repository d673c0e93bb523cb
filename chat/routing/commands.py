"""Tier 1: slash commands, greetings and the unmistakable help phrasings, by regular expression."""

import re

from .arguments import extract_arguments
from .routes import Route
from .text import normalise
from .vocabulary import COMMANDS

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
    r"|what (are you (able to|capable of)|can you) (do|doing|help( me)? with)( (with|for) (me|my|our|the) [a-z' ]+)?"
    r"|(can|could) you help( me)?"
    r"|how (do|can|should) (i|we) (use (this|you|the (assistant|bot|chat))|get started|start|ask( you)? for [a-z ]+)"
    r"|how (does|do) (this|the|you) ?(chat|assistant|bot|thing)? work"
    r")( please)?" + _CLOSING + "$"
)


def route_regex(text: str) -> Route | None:
    """Explicit commands, greetings and the unmistakable help phrasings; None when unsure."""
    message = normalise(text)
    if not message:
        return Route("general", "regex", 1.0, {})  # nothing to route; never worth a model call
    command = _COMMAND.match(message)
    if command:
        intent = COMMANDS.get(command["name"])
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
