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
