"""Train the chat router's classifier tier and write chat/routing/model.json.

    python manage.py train_router [--corpus]    --corpus first regenerates the corpus files

Reads the TRAINING messages only: tests/chat/corpus/train.jsonl (templates, synonym templates and
compositional messages from devtools/router_corpus/) and handwritten.jsonl. The held-out file is
never read here. Fitted with scikit-learn (training only: requirements-train.txt; the app reads the
weights in plain Python), deterministic, so the same files give the same weights, in about three
minutes on two cores (six folds of fitting).

1. Validation: the training TEMPLATES (hand-written lines each their own) are dealt into FOLDS
   folds; each fold in turn is set aside, at most VALIDATION_PER_TEMPLATE messages of each of its
   templates, and scored by a model fitted on the other folds, after the same form checks as the
   shipped tier (guards.py, safety.py: an abstention is no route, a turn to how_to is judged as
   how_to). On those pooled out-of-fold predictions a threshold per intent is chosen: the lowest
   probability at which that intent's routes, all together (at least MIN_ROUTES of them), are
   TARGET_PRECISION right, 0.99 when none is (an intent with too few routes takes the threshold
   all intents together need).
   submit_assessment needs SUBMIT_MARGIN more than every other intent and than any
   non-submission it was wrongly given (at most 0.995); general is never routed.
2. Final: the model is refitted on every training message with the same settings and saved with
   those thresholds. Weights are rounded and near-zero ones dropped to keep the artefact small
   (the validation model is compacted the same way, so the thresholds fit what is shipped).
"""

import json
import random

from chat.routing.classifier import MODEL_PATH, Model, features
from chat.routing.guards import checked
from chat.routing.routes import Route
from chat.routing.safety import never_act_on_a_question
from chat.routing.vocabulary import INTENTS

from .router_corpus import CORPUS

C = 1000.0  # inverse L2 strength: validation coverage rose with it (1, 10, 30, 100, 300, 1000 tried)
MAX_ITER = 1000
TARGET_PRECISION = 0.99  # on validation: the held-out target (0.995 and 0.98 tried)
SUBMIT_MARGIN = 0.05
MIN_THRESHOLD = 0.5  # no intent is routed on less than an even chance
MIN_ROUTES = 30  # validation routes an intent needs before it gets a threshold of its own
PRUNE_BELOW = 0.3  # a feature whose every class weight is smaller than this is dropped (weights run to ~20)
SEED = 17
VALIDATION_PER_TEMPLATE = 10
FOLDS = 5


def load_training() -> list[dict]:
    rows = []
    for name in ("train.jsonl", "handwritten.jsonl"):
        for number, line in enumerate((CORPUS / name).read_text().splitlines()):
            if line.strip():
                row = json.loads(line)
                row.setdefault("template", f"handwritten:{number}")
                rows.append(row)
    return rows


def fit(rows: list[dict], c: float = C) -> tuple[list[float], dict[str, list[float]]]:
    """A multinomial logistic regression (L2, lbfgs) on features(); deterministic for the same rows."""
    from sklearn.feature_extraction import DictVectorizer  # training-time only: requirements-train.txt
    from sklearn.linear_model import LogisticRegression

    vectorizer = DictVectorizer()
    matrix = vectorizer.fit_transform(features(row["text"]) for row in rows)
    regression = LogisticRegression(C=c, max_iter=MAX_ITER, tol=1e-5)
    regression.fit(matrix, [row["intent"] for row in rows])
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


def _lowest_precise_threshold(predictions: list[tuple[str, float, bool]], floor: float) -> float:
    """The lowest threshold whose routes, all together, are TARGET_PRECISION right (0.99 if none is).

    Not "and every higher one": the few routes above 0.99 include the set-aside frames the model
    is surest and wrong about, and a precision over a handful of routes is noise, not a reason to
    route nothing below it.
    """
    threshold = 0.99
    for candidate in [step / 100 for step in range(99, int(floor * 100) - 1, -1)]:
        kept = [right for _, p, right in predictions if p >= candidate]
        if len(kept) >= MIN_ROUTES and sum(kept) / len(kept) >= TARGET_PRECISION:
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
    overall = _lowest_precise_threshold(predictions, MIN_THRESHOLD)
    thresholds = {}
    for intent in INTENTS:
        own = [prediction for prediction in predictions if prediction[0] == intent]
        # Each intent's routes TARGET_PRECISION right makes all routes together so too (a weighted mean
        # of the intents' precisions), so an intent with enough validation routes is judged on its own;
        # one with too few keeps the overall threshold.
        thresholds[intent] = _lowest_precise_threshold(own, MIN_THRESHOLD) if len(own) >= MIN_ROUTES else overall
    wrong_submits = [p for intent, p, right in predictions if intent == "submit_assessment" and not right]
    submit = max([*thresholds.values(), *(p + 0.01 for p in wrong_submits)]) + SUBMIT_MARGIN
    thresholds["submit_assessment"] = min(submit, 0.995)  # above every other intent's, whose cap is 0.99
    thresholds["general"] = 1.01  # never routed by this tier: open questions need the model
    return {intent: round(threshold, 3) for intent, threshold in thresholds.items()}


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
