"""Tier 2: a learned linear classifier over character and word n-grams, which abstains when unsure.

    features(text) -> dict[str, float]   what the model sees (shared with devtools/train_router.py)
    probabilities(text) -> dict[str, float]
    route_classifier(text) -> Route | None

The weights are a multinomial logistic regression trained by devtools/train_router.py from the
labelled corpus in tests/chat/corpus/ (training files only: some 36,700 messages: 29,900 composed from
wide pools of everyday phrasings, names and fillers so that the model learns the words users use,
not one template's, and 6,800 written by hand, most in users' voices: PERSONAS.md) and committed
as model.json (about 2.5 MB, 40k features), loaded once at import: no download, no network,
plain Python, a fraction of a millisecond a message.

Character n-grams (2 to 5 letters, inside words) make it tolerant of typos and of words it has
never seen whole ("submt", "questionaires"); word unigrams and bigrams, with the message start,
carry phrasing ("how do", "<s> should"). File names become one token and digits one digit, so a
new file name or question number is not a new word.

Why it abstains: a message it routes wrongly runs the wrong tool, one it passes on costs an LLM
call. So it routes only when the top probability clears that intent's threshold (THRESHOLDS,
chosen on training templates set aside in turn so that the routes are 99% right together,
never on the held-out file), `general` is never routed here (an open question needs the model),
`submit_assessment`, which proposes a state change, is held to 99.5% and routed only above 0.99, and no question about
acting ("should I submit?", "how do I submit?") or negated request becomes a submission
(safety.py): those are how-to questions.

What n-grams see poorly, the form of the message, is checked after (guards.py): an open question
("why...", "what is a...", "do you think..."), a list of ideas, a tool's verb on another object
("write me an email", "summarize the plot of...") abstain; "how do I X" becomes how_to.
"""

import json
import math
import re
from dataclasses import replace
from pathlib import Path

from .arguments import FILENAME, extract_arguments
from .guards import checked
from .routes import Route
from .safety import never_act_on_a_question
from .text import QUOTED, first_request, normalise, request_clause

MODEL_PATH = Path(__file__).with_name("model.json")

_DIGITS = re.compile(r"\d+")
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[?]")
_KINDS_ROOT = math.sqrt(3)  # three kinds of feature, each a third of the vector's squared length


def features(text: str) -> dict[str, float]:
    """Word unigrams, word bigrams and in-word character 2-5-grams of the message's request clause.

    Each of the three kinds is L2-normalised on its own and weighs a third of the (unit) vector. A
    five-word message has some 70 character n-grams and only 5 words: normalised together, the
    character n-grams took nearly all of the vector, and the words and word pairs that carry the
    phrasing ("list the", "<s> should") counted for little. Out of fold this routed more requests
    and made fewer mistakes (devtools/train_router.py).
    """
    message = normalise(QUOTED.sub(" quoted ", request_clause(text)))
    message = _DIGITS.sub("0", FILENAME.sub(" filename ", message))
    tokens = _TOKEN.findall(message)
    words: dict[str, float] = {}
    pairs: dict[str, float] = {}
    grams: dict[str, float] = {}
    for previous, token in zip(["<s>", *tokens], tokens, strict=False):
        words["w:" + token] = words.get("w:" + token, 0.0) + 1.0
        pairs[f"b:{previous} {token}"] = pairs.get(f"b:{previous} {token}", 0.0) + 1.0
        padded = f" {token} "
        for size in range(2, 6):
            for start in range(len(padded) - size + 1):
                gram = "c:" + padded[start : start + size]
                grams[gram] = grams.get(gram, 0.0) + 1.0
    vector: dict[str, float] = {}
    for kind in (words, pairs, grams):
        norm = math.sqrt(sum(value * value for value in kind.values())) * _KINDS_ROOT or 1.0
        vector.update((name, value / norm) for name, value in kind.items())
    return vector


class Model:
    def __init__(self, data: dict):
        self.classes: list[str] = data["classes"]
        self.bias: list[float] = data["bias"]
        self.weights: dict[str, list[float]] = data["weights"]
        self.thresholds: dict[str, float] = data["thresholds"]

    def probabilities(self, text: str) -> dict[str, float]:
        scores = list(self.bias)
        for name, value in features(text).items():
            weights = self.weights.get(name)
            if weights is not None:
                scores = [score + weight * value for score, weight in zip(scores, weights, strict=True)]
        top = max(scores)
        exponents = [math.exp(score - top) for score in scores]
        total = sum(exponents)
        return {intent: exponent / total for intent, exponent in zip(self.classes, exponents, strict=True)}


MODEL = Model(json.loads(MODEL_PATH.read_text()))
THRESHOLDS = MODEL.thresholds  # per intent, chosen on validation; general's is above 1: never routed


def probabilities(text: str) -> dict[str, float]:
    return MODEL.probabilities(text)


def route_classifier(text: str) -> Route | None:
    """The classifier's intent when it is sure and it is a tool's; None otherwise (see the module doc).

    Unsure of a message that joins two requests with "and", it reads the first alone: a message
    asking for two things is its first action.
    """
    routed = _route_clause(text)
    first = first_request(text) if routed is None else None
    return _route_clause(first) if first else routed


def _route_clause(text: str) -> Route | None:
    intent, probability = max(probabilities(text).items(), key=lambda item: item[1])
    if probability < THRESHOLDS[intent]:
        return None
    routed = never_act_on_a_question(Route(intent, "classifier", round(probability, 3), {}), text)
    routed = routed and checked(routed, text)
    if routed is None:
        return None
    # "don't list the files for Okta, just summarize the SOC2 pdf": the arguments are the request's.
    return replace(routed, arguments=extract_arguments(request_clause(text), routed.intent))
