"""Train the chat router's classifier tier and write chat/routing/model.json.

    python manage.py train_router [--corpus]    --corpus first regenerates the corpus files

Reads the TRAINING messages only: tests/chat/corpus/train.jsonl (templates, synonym templates and
compositional messages from devtools/router_corpus/), handwritten.jsonl (the first corpus) and
personas.jsonl (6,465 messages written by hand in the voices of some sixty kinds of user,
PERSONAS.md). No evaluation file (heldout, independent, fresh, unseen) is read here. Fitted
with scikit-learn (training only: requirements-train.txt; the app reads the weights in plain
Python), deterministic, so the same files give the same weights, in about ten minutes on two
cores (six folds of fitting).

1. Validation: the training TEMPLATES (hand-written lines each their own) are dealt into FOLDS
   folds; each fold in turn is set aside, at most VALIDATION_PER_TEMPLATE messages of each of its
   templates, and scored by a model fitted on the other folds, after the same form checks as the
   shipped tier (guards.py, safety.py: an abstention is no route, a turn to how_to is judged as
   how_to). On those pooled out-of-fold predictions a threshold per intent is chosen:
   - submit_assessment: the lowest at which its routes are SUBMIT_PRECISION right, but never
     below CAP (SUBMIT_CAP if none is). A submission proposes a state change, which a "yes" then
     confirms: a wrong proposal is one that a "yes" meant for something else could confirm, while
     a submission the tier leaves costs one LLM call, which proposes it just the same;
   - the others start at CAP (0.99) and are lowered one at a time, each step the one that adds
     the most right routes per wrong one, as long as all routes together stay TARGET_PRECISION
     right and that intent's own INTENT_FLOOR right (with at least MIN_ROUTES of them). The
     target is on all routes, as the issue's figure is; the floor keeps one intent from paying
     for the others' coverage. (Each intent held to 0.99 on its own left three of them at the
     cap and routed 2 to 4 points fewer requests out of fold, at 99.2% rather than 99.0%.)
   general is never routed.
2. Final: the model is refitted on every training message with the same settings and saved with
   those thresholds. Weights are rounded and near-zero ones dropped to keep the artefact small
   (the validation model is compacted the same way, so the thresholds fit what is shipped).
"""

import json
import random
from collections import Counter

from chat.routing.classifier import MODEL_PATH, Model, features
from chat.routing.guards import checked
from chat.routing.routes import Route
from chat.routing.safety import never_act_on_a_question
from chat.routing.vocabulary import INTENTS

from .router_corpus import CORPUS

# Inverse L2 strength, chosen on out-of-fold coverage at the targets (training data only). With the persona
# lines: 83.8, 85.8, 86.5% at C = 100, 300, 1000 (before them: 82.1, 83.4, 83.2, 82.8% at 30, 100, 300, 1000).
C = 1000.0
MAX_ITER = 1000
TARGET_PRECISION = 0.99  # all routes together, on validation: the held-out target
INTENT_FLOOR = 0.98  # and each intent's own routes: no intent pays for the others' coverage
SUBMIT_PRECISION = 0.995  # submitting proposes a state change: its own routes, stricter
CAP = 0.99  # an intent whose routes are never precise enough is routed only above this; submitting never below
SUBMIT_CAP = 0.995
MIN_THRESHOLD = 0.5  # no intent is routed on less than an even chance
STEPS = [step / 100 for step in range(99, int(MIN_THRESHOLD * 100) - 1, -1)]  # 0.99, 0.98, ... 0.5
MIN_ROUTES = 30  # validation routes an intent needs before it gets a threshold of its own
PRUNE_BELOW = 0.3  # a feature whose every class weight is smaller than this is dropped (weights run to ~20)
SEED = 17
VALIDATION_PER_TEMPLATE = 10
FOLDS = 5
TRAINING_FILES = ("train.jsonl", "handwritten.jsonl", "personas.jsonl")


def load_training() -> list[dict]:
    rows = []
    for name in TRAINING_FILES:
        for number, line in enumerate((CORPUS / name).read_text().splitlines()):
            if line.strip():
                row = json.loads(line)
                row.setdefault("template", f"{name.removesuffix('.jsonl')}:{number}")  # a written line is its own
                rows.append(row)
    return rows


def fit(rows: list[dict], c: float = C) -> tuple[list[float], dict[str, list[float]]]:
    """A multinomial logistic regression (L2, lbfgs) on features(); deterministic for the same rows.

    Each template weighs the same, however many messages it was filled into: a frame filled 40
    times would otherwise count as 40 hand-written lines, and the model would learn that frame's
    words rather than what the templates share (out of fold: fewer wrong routes, more routed).
    """
    from sklearn.feature_extraction import DictVectorizer  # training-time only: requirements-train.txt
    from sklearn.linear_model import LogisticRegression

    fills = Counter(row["template"] for row in rows)
    shares = [1.0 / fills[row["template"]] for row in rows]
    mean = sum(shares) / len(shares)
    vectorizer = DictVectorizer()
    matrix = vectorizer.fit_transform(features(row["text"]) for row in rows)
    regression = LogisticRegression(C=c, max_iter=MAX_ITER, tol=1e-5)
    regression.fit(matrix, [row["intent"] for row in rows], sample_weight=[share / mean for share in shares])
    order = [list(regression.classes_).index(intent) for intent in INTENTS]
    coefficients = regression.coef_[order].T
    bias = [float(regression.intercept_[number]) for number in order]
    names = vectorizer.get_feature_names_out()
    weights = {str(name): [float(weight) for weight in row] for name, row in zip(names, coefficients, strict=True)}
    return bias, weights


def _model(bias, weights, thresholds=None) -> dict:
    """The artefact: weights rounded and near-zero features dropped (the validation model is the same)."""
    kept = {
        name: [round(weight, 2) for weight in row]
        for name, row in sorted(weights.items())
        if max(abs(weight) for weight in row) >= PRUNE_BELOW
    }
    return {
        "classes": list(INTENTS),
        "bias": [round(b, 3) for b in bias],
        "weights": kept,
        "thresholds": thresholds or {},
    }


def _lowest_precise_threshold(routes: list[tuple[float, bool]], target: float, otherwise: float) -> float:
    """The lowest threshold whose routes, all together (at least MIN_ROUTES), are `target` right.

    Not "and every higher one": the few routes above 0.99 include the set-aside frames the model
    is surest and wrong about, and a precision over a handful of routes is noise, not a reason to
    route nothing below it.
    """
    threshold = otherwise
    for candidate in STEPS:
        kept = [right for probability, right in routes if probability >= candidate]
        if len(kept) >= MIN_ROUTES and sum(kept) / len(kept) >= target:
            threshold = candidate
    return threshold


def predictions(model: dict, validation: list[dict]) -> list[tuple[str, float, bool]]:
    """(intent the model is surest of, its probability, whether the shipped route would be right).

    Judged after the same form checks the shipped tier applies (chat/routing/guards.py, safety.py):
    a message they make the tier abstain on is no route, and one they turn into how_to is judged as
    how_to. Thresholds chosen on the model alone priced in wrong routes the tier never makes, and so
    sat higher than the precision target needs.
    """
    scorer = Model(model)
    routed = []
    for row in validation:
        intent, probability = max(scorer.probabilities(row["text"]).items(), key=lambda item: item[1])
        if intent == "general":
            continue
        route = never_act_on_a_question(Route(intent, "classifier", probability, {}), row["text"])
        route = route and checked(route, row["text"])
        if route is not None:
            routed.append((intent, probability, route.intent == row["intent"]))
    return routed


def choose_thresholds(predictions: list[tuple[str, float, bool]]) -> dict[str, float]:
    """A threshold per intent, on the out-of-fold validation predictions: see the module docstring."""
    by_intent = {intent: [(p, right) for name, p, right in predictions if name == intent] for intent in INTENTS}

    def routed(intent: str, threshold: float) -> tuple[int, int]:
        kept = [right for probability, right in by_intent[intent] if probability >= threshold]
        return len(kept), sum(kept)

    def pooled(thresholds: dict[str, float]) -> tuple[int, int]:
        counts = [routed(intent, threshold) for intent, threshold in thresholds.items()]
        return sum(count[0] for count in counts), sum(count[1] for count in counts)

    submit = _lowest_precise_threshold(by_intent["submit_assessment"], SUBMIT_PRECISION, otherwise=SUBMIT_CAP)
    thresholds = {intent: CAP for intent in INTENTS if intent != "general"}
    thresholds["submit_assessment"] = min(max(submit, CAP), SUBMIT_CAP)
    while True:
        total, right = pooled(thresholds)
        best = None  # (right routes gained per wrong route added, intent, threshold)
        for intent, threshold in thresholds.items():
            if intent == "submit_assessment":
                continue
            for candidate in (step for step in STEPS if step < threshold):
                routes, correct = routed(intent, candidate)
                if routes < MIN_ROUTES or correct / routes < INTENT_FLOOR:
                    continue
                new_total, new_right = pooled({**thresholds, intent: candidate})
                if new_right <= right or new_right / new_total < TARGET_PRECISION:
                    continue
                gain = (new_right - right) / max((new_total - new_right) - (total - right), 0.5)
                if best is None or gain > best[0]:
                    best = (gain, intent, candidate)
        if best is None:
            break
        thresholds[best[1]] = best[2]
    thresholds["general"] = 1.01  # never routed by this tier: open questions need the model
    return {intent: round(thresholds[intent], 3) for intent in INTENTS}


def folds(rows: list[dict]):
    """FOLDS (fitting, validation) pairs: each template is set aside in exactly one fold.

    Each set-aside template counts about equally: at most VALIDATION_PER_TEMPLATE of its messages
    are scored, or a frame filled 40 times would decide a threshold alone, its 40 near-identical
    slips weighing as 40 independent ones. Several folds, not one split: which frames happen to be
    set aside moved the thresholds of a single split by up to 0.09.
    """
    templates = sorted({row["template"] for row in rows})
    rng = random.Random(SEED)
    fold_of = {template: rng.randrange(FOLDS) for template in templates}
    for fold in range(FOLDS):
        validation, per_template = [], {}
        for row in rows:
            if fold_of[row["template"]] == fold:
                per_template[row["template"]] = per_template.get(row["template"], 0) + 1
                if per_template[row["template"]] <= VALIDATION_PER_TEMPLATE:
                    validation.append(row)
        yield [row for row in rows if fold_of[row["template"]] != fold], validation


def train(*, progress=print) -> None:
    rows = load_training()
    pooled = []
    for number, (fitting, validation) in enumerate(folds(rows), start=1):
        progress(f"validation fold {number}/{FOLDS}: fitting on {len(fitting)}, scoring {len(validation)} messages")
        pooled += predictions(_model(*fit(fitting)), validation)
    thresholds = choose_thresholds(pooled)
    progress("thresholds: " + ", ".join(f"{intent} {threshold}" for intent, threshold in thresholds.items()))
    bias, weights = fit(rows)
    model = _model(bias, weights, thresholds)
    MODEL_PATH.write_text(json.dumps(model, separators=(",", ":")) + "\n")
    kept = len(model["weights"])
    progress(f"wrote {MODEL_PATH} ({kept} of {len(weights)} features, {MODEL_PATH.stat().st_size // 1024} KiB)")
