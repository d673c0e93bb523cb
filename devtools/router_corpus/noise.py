"""The slips users make: one swapped, dropped, doubled or neighbouring letter in a word."""

import random
import re

_KEYBOARD = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]


def _neighbour(letter: str) -> str:
    for row in _KEYBOARD:
        index = row.find(letter)
        if index >= 0:
            return row[index - 1] if index > 0 else row[index + 1]
    return letter


def typo(text: str, rng: random.Random) -> str:
    """One slip in one word of four letters or more: swapped, dropped, doubled or neighbouring letter."""
    words = [(m.start(), m.end()) for m in re.finditer(r"[a-z]{4,}", text)]
    if not words:
        return text
    start, end = rng.choice(words)
    word = text[start:end]
    position = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("swap", "drop", "double", "neighbour"))
    if kind == "swap":
        word = word[: position - 1] + word[position] + word[position - 1] + word[position + 1 :]
    elif kind == "drop":
        word = word[:position] + word[position + 1 :]
    elif kind == "double":
        word = word[:position] + word[position] + word[position:]
    else:
        word = word[:position] + _neighbour(word[position]) + word[position + 1 :]
    return text[:start] + word + text[end:]
