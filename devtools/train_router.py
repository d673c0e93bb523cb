"""Train the chat router's classifier tier and write chat/routing/model.json.

    python manage.py train_router [--corpus]    --corpus first regenerates the corpus files

Reads the TRAINING messages only: tests/chat/corpus/train.jsonl (templates x slot fillers) and
handwritten.jsonl. The held-out file is never read here. Plain Python, seeded, so the same files
give the same weights.

1. Validation: a fifth of the training TEMPLATES (and of the hand-written lines) is set aside, the
   model is fitted on the rest, and a threshold per intent is chosen on the set-aside part: the
   lowest probability at which that intent's routes (and the routes above it) are at least
   TARGET_PRECISION right, never below the threshold at which all routes together are.
   submit_assessment needs SUBMIT_MARGIN more than every other intent and than any
   non-submission it was wrongly given (at most 0.99); general is never routed.
2. Final: the model is refitted on every training message with the same settings and saved with
   those thresholds. Weights are rounded and near-zero ones dropped to keep the artefact small.
"""

import json
import math
import random

from chat.routing.classifier import MODEL_PATH, Model, features
from chat.routing.vocabulary import INTENTS

from .router_corpus import CORPUS

EPOCHS = 10
LEARNING_RATE = 0.8
L2 = 2e-4  # strong enough to keep probabilities honest on phrasings no template had (chosen on validation)
TARGET_PRECISION = 0.995  # on validation, with a margin over the 0.99 the held-out split must show
SUBMIT_MARGIN = 0.05
MIN_THRESHOLD = 0.5  # no intent is routed on less than an even chance
MIN_ROUTES = 30  # validation routes an intent needs before it gets a threshold of its own
PRUNE_BELOW = 0.03  # a feature whose every class weight is smaller than this is dropped
SEED = 17
SETTLED = 0.002


def load_training() -> list[dict]:
    rows = []
    for name in ("train.jsonl", "handwritten.jsonl"):
        for number, line in enumerate((CORPUS / name).read_text().splitlines()):
            if line.strip():
                row = json.loads(line)
                row.setdefault("template", f"handwritten:{number}")
                rows.append(row)
    return rows


def fit(rows: list[dict]) -> tuple[list[float], dict[str, list[float]]]:
    classes = list(INTENTS)
    index = {intent: number for number, intent in enumerate(classes)}
    samples = [(list(features(row["text"]).items()), index[row["intent"]]) for row in rows]
    bias = [0.0] * len(classes)
    weights: dict[str, list[float]] = {}
    rng = random.Random(SEED)
    for epoch in range(EPOCHS):
        rng.shuffle(samples)
        rate = LEARNING_RATE / (1 + epoch)
        for vector, label in samples:
            scores = list(bias)
            for name, value in vector:
                row = weights.get(name)
                if row is not None:
                    scores = [score + weight * value for score, weight in zip(scores, row, strict=True)]
            top = max(scores)
            exponents = [math.exp(score - top) for score in scores]
            total = sum(exponents)
            gradient = [exponent / total for exponent in exponents]
            gradient[label] -= 1.0
            if max(abs(g) for g in gradient) < SETTLED:
                continue  # already right with room to spare: the update would be noise (and time)
            bias = [b - rate * g for b, g in zip(bias, gradient, strict=True)]
            for name, value in vector:
                row = weights.setdefault(name, [0.0] * len(classes))
                weights[name] = [w - rate * (g * value + L2 * w) for w, g in zip(row, gradient, strict=True)]
    return bias, weights


def _model(bias, weights, thresholds=None) -> dict:
    return {"classes": list(INTENTS), "bias": bias, "weights": weights, "thresholds": thresholds or {}}


def _lowest_precise_threshold(predictions: list[tuple[str, float, str]], floor: float) -> float:
    """The lowest threshold at which it, and every higher one, keeps TARGET_PRECISION (0.99 if none does)."""
    threshold = 0.99
    for candidate in [step / 100 for step in range(99, int(floor * 100) - 1, -1)]:
        kept = [(intent, label) for intent, p, label in predictions if p >= candidate]
        if kept and sum(intent == label for intent, label in kept) / len(kept) < TARGET_PRECISION:
            break
        threshold = candidate
    return threshold


def choose_thresholds(model: dict, validation: list[dict]) -> dict[str, float]:
    """A threshold per intent, on the validation messages: see the module docstring."""
    scorer = Model(model)
    predictions = []
    for row in validation:
        intent, probability = max(scorer.probabilities(row["text"]).items(), key=lambda item: item[1])
        if intent != "general":
            predictions.append((intent, probability, row["intent"]))
    overall = _lowest_precise_threshold(predictions, MIN_THRESHOLD)
    thresholds = {}
    for intent in INTENTS:
        own = [prediction for prediction in predictions if prediction[0] == intent]
        # An intent may need more than the overall threshold, never less; one with too few validation
        # routes to judge keeps the overall threshold.
        own_threshold = _lowest_precise_threshold(own, MIN_THRESHOLD) if len(own) >= MIN_ROUTES else overall
        thresholds[intent] = max(overall, own_threshold)
    wrong_submits = [p for intent, p, label in predictions if intent == "submit_assessment" and label != intent]
    submit = max([*thresholds.values(), *(p + 0.01 for p in wrong_submits)]) + SUBMIT_MARGIN
    thresholds["submit_assessment"] = min(submit, 0.99)
    thresholds["general"] = 1.01  # never routed by this tier: open questions need the model
    return {intent: round(threshold, 2) for intent, threshold in thresholds.items()}


def split(rows: list[dict]) -> tuple[list[dict], list[dict]]:
    templates = sorted({row["template"] for row in rows})
    rng = random.Random(SEED)
    held = {template for template in templates if rng.random() < 0.2}
    return [row for row in rows if row["template"] not in held], [row for row in rows if row["template"] in held]


def train(*, progress=print) -> None:
    rows = load_training()
    fitting, validation = split(rows)
    progress(f"validation: fitting on {len(fitting)}, choosing thresholds on {len(validation)} messages")
    thresholds = choose_thresholds(_model(*fit(fitting)), validation)
    progress("thresholds: " + ", ".join(f"{intent} {threshold}" for intent, threshold in thresholds.items()))
    bias, weights = fit(rows)
    kept = {
        name: [round(weight, 3) for weight in row]
        for name, row in sorted(weights.items())
        if max(abs(weight) for weight in row) >= PRUNE_BELOW
    }
    model = _model([round(b, 3) for b in bias], kept, thresholds)
    MODEL_PATH.write_text(json.dumps(model, separators=(",", ":")) + "\n")
    progress(f"wrote {MODEL_PATH} ({len(kept)} of {len(weights)} features, {MODEL_PATH.stat().st_size // 1024} KiB)")
