"""The cheapest-first chat router: fast tiers on a held-out corpus, argument extraction, the LLM tier."""

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from django.core.cache import caches

from assessments.models import AssessmentState
from chat.evaluation import evaluate
from chat.intents import HANDLERS
from chat.models import Intent
from chat.routing import (
    INTENTS,
    ROUTER_SYSTEM_PROMPT,
    STATES,
    THRESHOLDS,
    Route,
    extract_arguments,
    parse_llm_reply,
    route,
    route_classifier,
    route_fast,
    route_regex,
)
from chat.routing.guards import checked
from chat.routing.vocabulary import COMMANDS
from devtools import router_corpus, train_router
from devtools.fake_bedrock import FakeBedrock
from tra.errors import ServiceUnavailable

CORPUS = Path(__file__).with_name("corpus")
# Floors on the held-out split, a few points below what the fast tiers measure there (tool coverage
# 90.2%, precision 99.2% with the form checks of chat/routing/guards.py): issue 17 asks for 0.85 and 0.99.
MIN_TOOL_COVERAGE = 0.87  # share of held-out tool-intent messages the free tiers must route right
MIN_PRECISION = 0.985  # share of fast routes that must be right: a wrong route costs more than an LLM call
# Floors on the development set (independent.jsonl, used for error analysis since 2026-11-30 02:35, see
# its INDEPENDENT.md: no longer an independent figure), a few points below the measured 99.4% and 96.8%.
MIN_DEVELOPMENT_PRECISION = 0.98
MIN_DEVELOPMENT_TOOL_COVERAGE = 0.94


def load(name: str) -> list[dict]:
    return [json.loads(line) for line in (CORPUS / name).read_text().splitlines() if line.strip()]


def training() -> list[dict]:
    return [row for name in train_router.TRAINING_FILES for row in load(name)]


def test_the_corpus_covers_every_intent_with_enough_varied_messages():
    training_rows = training()
    heldout = load("heldout.jsonl")
    for rows, least in ((training_rows, 50), (heldout, 15)):
        counts = {intent: sum(row["intent"] == intent for row in rows) for intent in INTENTS}
        assert len({row["text"] for row in rows}) == len(rows)
        assert min(counts.values()) >= least, counts
    assert len(training_rows) >= 30000 and len(heldout) >= 500
    written = load("personas.jsonl")
    assert len(written) >= 4000 and len({row["source"] for row in written}) >= 8


def test_no_persona_message_is_a_message_of_an_evaluation_set():
    # A persona line that equals a line of an evaluation set ("help", "submit it") was dropped from
    # training. (The first corpus and the generated lines predate the hand-written sets and share a few
    # such commonplace lines with them: see the corpus README.) Set arithmetic only: no line is printed.
    written = {row["text"].strip().lower() for row in load("personas.jsonl")}
    for name in ("heldout.jsonl", "independent.jsonl", "fresh.jsonl", "unseen.jsonl"):
        shared = len(written & {row["text"].strip().lower() for row in load(name)})
        assert shared == 0, f"{shared} line(s) of {name} in personas.jsonl"


def test_the_held_out_split_shares_no_message_template_or_name_with_training():
    trained = {row["text"].lower() for row in training()}
    assert not trained & {row["text"].lower() for row in load("heldout.jsonl")}
    train_templates = {t for texts in router_corpus.TRAIN_TEMPLATES.values() for t in texts}
    train_templates |= {t for texts in router_corpus.TRAIN_SYNONYM_TEMPLATES.values() for t in texts}
    used = router_corpus.composed.frames(router_corpus.unseen())
    train_templates |= {frame for numbered in used.values() for _number, frame in numbered}
    assert not train_templates & {t for texts in router_corpus.HELDOUT_TEMPLATES.values() for t in texts}
    filler = router_corpus.composed.Filler(None, router_corpus.TRAIN_SLOTS["document"], router_corpus.unseen())
    composed = {
        "vendor": filler.vendors,
        "document": filler.documents,
        "prefix": filler.prefixes,
        "suffix": filler.suffixes,
    }
    for slot in ("vendor", "document", "prefix", "suffix"):
        train_values = {value.lower() for value in [*router_corpus.TRAIN_SLOTS[slot], *composed[slot]]}
        assert not train_values & {value.lower() for value in router_corpus.HELDOUT_SLOTS[slot]}, slot


def test_the_generator_reproduces_the_committed_corpus_files(tmp_path, monkeypatch):
    # Seeded end to end: `train_router --corpus` must give the same files (compared by digest only).
    shutil.copy(CORPUS / "handwritten.jsonl", tmp_path / "handwritten.jsonl")
    monkeypatch.setattr(router_corpus, "CORPUS", tmp_path)
    router_corpus.write(progress=lambda _message: None)
    for name in ("train.jsonl", "heldout.jsonl"):
        digest = hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()
        assert digest == hashlib.sha256((CORPUS / name).read_bytes()).hexdigest(), name


def test_the_held_out_vendors_are_not_in_the_training_messages():
    trained = " ".join(row["text"].lower() for row in training())
    unseen = [vendor for vendor in router_corpus.HELDOUT_SLOTS["vendor"] if vendor.lower() in trained]
    assert unseen == []


def test_fast_tiers_route_most_held_out_tool_messages_with_near_perfect_precision():
    result = evaluate(load("heldout.jsonl"))
    for tier, figures in result.tiers.items():
        print(
            f"\n{tier}: routed {figures.routed}, precision {figures.precision:.1%}, "
            f"no LLM call for {figures.routed / result.messages:.1%} of all messages"
        )
    print(
        f"fast tiers: {result.fast_routed}/{result.messages} messages need no LLM call ({result.no_llm_share:.1%}); "
        f"tool-intent coverage {result.tool_routed}/{result.tool_messages} = {result.tool_coverage:.1%}; "
        f"precision {result.fast_routed - len(result.wrong)}/{result.fast_routed} = {result.precision:.1%}"
    )
    assert result.tool_coverage >= MIN_TOOL_COVERAGE
    # Counts only, as for the unseen set: the held-out lines are measured, not read.
    assert result.precision >= MIN_PRECISION, f"{len(result.wrong)} wrong route(s) on the held-out split"


def test_fast_tiers_keep_their_precision_on_the_development_set():
    # Messages written by another hand (tests/chat/corpus/INDEPENDENT.md); read for error analysis, so
    # these are floors against regressions, not a figure on unseen messages (unseen.jsonl is that).
    result = evaluate(load("independent.jsonl"))
    print(f"development set: precision {result.precision:.1%}, tool coverage {result.tool_coverage:.1%}")
    assert result.tool_coverage >= MIN_DEVELOPMENT_TOOL_COVERAGE
    assert result.precision >= MIN_DEVELOPMENT_PRECISION, result.wrong


# Floors on two sets written by hand by authors who saw no training data, no other set and not the router,
# a little below what the model in model.json measures there (issue 17 asks 98% and 80% on messages never seen):
# - the validation set (fresh.jsonl, FRESH.md): its aggregates chose between router configurations, its lines
#   are never read; 99.8% precision, 91.2% tool coverage;
# - the unseen set (unseen.jsonl, UNSEEN.md: each time it was measured): never read for development, the figure
#   on messages never seen; 98.8%, 95.5%.
@pytest.mark.parametrize(
    ("name", "least_precision", "least_coverage"), [("fresh.jsonl", 0.985, 0.88), ("unseen.jsonl", 0.975, 0.92)]
)
def test_fast_tiers_on_messages_never_seen(name, least_precision, least_coverage):
    result = evaluate(load(name))
    print(f"{name}: precision {result.precision:.1%}, tool coverage {result.tool_coverage:.1%}")
    assert result.tool_coverage >= least_coverage
    assert result.precision >= least_precision
    # Counts only: a failing assertion must not print the set's messages (nobody tuning the router reads them).
    wrong_submissions = sum(1 for wrong in result.wrong if wrong[2] == "submit_assessment")
    assert wrong_submissions == 0, f"{wrong_submissions} wrong submission(s) on {name}"


# Written for this test (not from any corpus file): messages that use a tool's words for something else.
@pytest.mark.parametrize(
    "text",
    [
        "why was the Okta review rejected?",
        "what is a DDQ",
        "what's a CAIQ questionnaire anyway",
        "what do vendors usually get wrong in their pen tests?",
        "do you think the Okta review looks solid?",
        "is their ISO certificate enough for us?",
        "give me 5 questions to ask a vendor about backups",
        "list some common vendor risks",
        "write a poem about questionnaires",
        "draft me a slack message to the team about the renewal",
        "summarize the news for me",
        "summarize the movie we watched",
        "I'm exhausted by all these reviews",
        "what's the maximum size of an upload?",
        "the attachments for the Okta review look incomplete",
        "that summary was way too long",
        "the answer you drafted for question 4 looks wrong",
    ],
)
def test_open_questions_and_other_objects_are_not_routed_to_a_tool(text):
    fast = route_fast(text)
    assert fast is None or fast.intent in ("general", "how_to"), fast


# A yes/no question about one named assessment's progress is assessment_status by the labelling rules
# ("has the Datadog assessment been approved yet?"); a fast tier may pass it on, never route it elsewhere.
@pytest.mark.parametrize(
    "text", ["have the reviewers looked at the Zoom review", "has anyone opened the Acme review yet?"]
)
def test_a_question_about_a_reviews_progress_is_status_or_passed_on(text):
    fast = route_fast(text)
    assert fast is None or fast.intent == "assessment_status", fast


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("how can I see my drafts", "how_to"),
        ("can I delete a document?", "how_to"),
        ("summarize the SOC 2 and list the documents", "summarize_document"),
        ("summarize the DPA for the board meeting", "summarize_document"),
        ("draft a reply for the encryption one", "suggest_answer"),
        ("what should I write for the backup question", "suggest_answer"),
        ("can we draft answers for q4", "suggest_answer"),
        ("can I see my approved assessments", "list_assessments"),
        ("can you submit the Okta review", "submit_assessment"),
        ("the Okta SOC 2 is long, give me the main points", "summarize_document"),
    ],
)
def test_form_checks_keep_requests_and_turn_asking_how_into_how_to(text, intent):
    routed = route_fast(text)
    assert routed is not None and routed.intent == intent, routed


@pytest.mark.parametrize("text", ["how do I see my drafts", "how do I list my documents", "how do I submit it"])
def test_asking_how_is_never_the_action(text):
    # The classifier may be unsure whether "how do I X" is about this product (the persona lines hold as
    # many "how do I submit my expenses in Concur"): passed on to the LLM tier, or how_to, never X.
    routed = route_fast(text)
    assert routed is None or routed.intent == "how_to", routed


@pytest.mark.parametrize(
    "text", ["summarize what the vendor sent us", "recap what Okta uploaded", "draft what we should say for q2"]
)
def test_the_form_checks_let_a_tools_own_object_through(text):
    # The classifier may be unsure of these (then the LLM tier decides); the form checks never block them.
    for intent in ("summarize_document", "suggest_answer"):
        route = Route(intent, "classifier", 1.0, {})
        assert checked(route, text) == route


@pytest.mark.parametrize(
    "text",
    [
        "what does the SOC 2 report say about encryption?",
        "does the policy mention MFA?",
        "who approved the vendor last year?",
        "what's the summary of findings in the pen test regarding XSS?",
        "thanks, that summary was useful",
        "don't submit it yet",
        "which documents mention encryption?",
        "is the vendor's status page public?",
        "submit a ticket to IT",
        "summarize the risks of working with them",
    ],
)
def test_content_questions_and_negations_are_not_routed_to_tools_by_fast_tiers(text):
    fast = route_fast(text)
    assert fast is None or fast.intent == "general"


# Written for this test, not taken from the corpus: asking how, whether or when to submit.
QUESTIONS_ABOUT_SUBMITTING = [
    "how do I submit?",
    "can I submit now?",
    "should I submit this assessment?",
    "when can I submit the Acme Cloud assessment?",
    "how do i submit this for review",
    "can we submit it yet?",
    "should we submit the okta review today?",
    "is it ok to submit now?",
    "am I allowed to submit before all questions are answered?",
    "what happens if I submit?",
    "how can I send this for review?",
    "could I submit it tomorrow instead?",
    "should i hand this in or wait?",
    "is it possible to submit with open questions?",
    "where do I go to submit?",
    "what do i need to do to submit?",
    "can i submit the stripe questionnaire?",
    "How do I submit the assessment for approval?",
    "should I finalize and submit?",
    "when should we send it to the reviewers?",
    "don't submit yet",
    "do not submit the Acme assessment",
    "we shouldn't submit the Stripe review until legal replies",
    "i can't submit it, the button is grey",
    "it isn't ready to be sent to the reviewers",
]


@pytest.mark.parametrize("text", QUESTIONS_ABOUT_SUBMITTING)
def test_a_question_about_submitting_never_routes_to_submit_in_any_tier(text):
    fast = route_fast(text)
    assert fast is None or fast.intent != "submit_assessment"
    # Even a model that answers "submit" is overruled: a question about acting never acts.
    assert parse_llm_reply(text, "INTENT: submit_assessment").intent != "submit_assessment"


def test_submitting_needs_the_highest_threshold_and_general_is_never_routed_by_the_classifier():
    others = [threshold for intent, threshold in THRESHOLDS.items() if intent not in ("submit_assessment", "general")]
    assert set(THRESHOLDS) == set(INTENTS)
    assert train_router.SUBMIT_CAP >= THRESHOLDS["submit_assessment"] >= max(others) >= min(others) >= 0.5
    assert THRESHOLDS["general"] > 1


def _routes(intent: str, right_above: float, wrong: list[float], count: int = 100) -> list[tuple[str, float, bool]]:
    """`count` right routes of `intent` spread from 1.0 down to `right_above`, and wrong ones at `wrong`."""
    right = [(intent, 1.0 - (1.0 - right_above) * number / (count - 1), True) for number in range(count)]
    return right + [(intent, probability, False) for probability in wrong]


def test_thresholds_are_lowered_while_all_routes_together_stay_precise():
    predictions = [
        ("suggest_answer", 1.0, True),
    ] * 400  # sure and right: room for the others' few mistakes in the pooled precision
    predictions += [
        # list_documents: right all the way down to 0.6, two wrong routes at 0.7
        *_routes("list_documents", 0.6, [0.7, 0.7]),
        # help: wrong near the top and at 0.9: its own routes are 98% right at no threshold
        *_routes("help", 0.6, [0.995, 0.9, 0.9, 0.9]),
        # submit: 400 right from 1.0 to 0.5, three wrong at 0.6
        *_routes("submit_assessment", 0.5, [0.6] * 3, count=400),
    ]
    thresholds = train_router.choose_thresholds(predictions)
    assert thresholds["list_documents"] == 0.6  # 100 right, 2 wrong: 98% alone, within the floor
    assert thresholds["help"] == train_router.CAP
    assert thresholds["submit_assessment"] == train_router.CAP  # never below it
    assert thresholds["general"] > 1
    kept = [right for intent, probability, right in predictions if probability >= thresholds[intent]]
    assert sum(kept) / len(kept) >= train_router.TARGET_PRECISION


def test_an_intent_is_not_lowered_below_its_own_floor_even_when_the_others_make_up_for_it():
    predictions = [*_routes("summarize_document", 0.5, []), *_routes("assessment_status", 0.5, [0.96] * 3)]
    predictions += [("suggest_answer", 1.0, True)] * 2000  # so precise that the pooled target allows anything
    thresholds = train_router.choose_thresholds(predictions)
    assert thresholds["summarize_document"] == 0.5
    assert thresholds["assessment_status"] == train_router.CAP  # 97% right at best (100 of 103, at 0.5)


def test_submitting_is_routed_only_above_the_cap_and_higher_when_its_routes_are_not_precise_there():
    tools = [intent for intent in INTENTS if intent not in ("general", "submit_assessment")]
    predictions = [route for intent in tools for route in _routes(intent, 0.5, [])]  # all right: lowered to 0.5
    predictions += _routes("submit_assessment", 0.5, [0.6] * 3, count=400)  # 99.5% right from 0.61
    assert train_router.choose_thresholds(predictions)["submit_assessment"] == train_router.CAP
    predictions += [("submit_assessment", 0.992, False)] * 3  # wrong even above the cap
    assert train_router.choose_thresholds(predictions)["submit_assessment"] == train_router.SUBMIT_CAP


def test_the_pooled_target_stops_lowering_when_all_routes_together_would_fall_below_it():
    # Each alone is 98% right down to 0.6 (100 right, 2 wrong at 0.7); both lowered, all routes would
    # be 300 right and 4 wrong (98.7%), so only one of them is.
    predictions = [("suggest_answer", 1.0, True)] * 100
    predictions += [*_routes("list_documents", 0.6, [0.7, 0.7]), *_routes("how_to", 0.6, [0.7, 0.7])]
    thresholds = train_router.choose_thresholds(predictions)
    assert sorted([thresholds["list_documents"], thresholds["how_to"]]) == [0.6, 0.71]


def test_without_enough_routes_an_intent_keeps_the_cap():
    predictions = [("how_to", 0.8, True)] * (train_router.MIN_ROUTES - 1)
    assert train_router.choose_thresholds(predictions)["how_to"] == train_router.CAP


@pytest.mark.parametrize(
    "text", ["how do I submit?", "can I submit now?", "should I submit this assessment?", "when can I submit?"]
)
def test_a_how_to_question_about_submitting_is_routed_to_how_to_with_its_topic(text):
    for routed in (route_fast(text), parse_llm_reply(text, "INTENT: submit_assessment")):
        assert routed is not None and routed.intent == "how_to"
        assert routed.arguments["topic"] == "submit"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("don't list the files, just summarize the SOC2 pdf", "summarize_document"),
        ("status of Acme Cloud", "assessment_status"),
        ("has the Datadog assessment been approved yet?", "assessment_status"),
        ("pull up the attachments for Okta", "list_documents"),
        ("do I have any assessments with changes requested?", "list_assessments"),
        ("submit the Acme Cloud assessment for review", "submit_assessment"),
    ],
)
def test_the_classifier_routes_the_phrasings_the_keyword_gate_missed(text, intent):
    routed = route_fast(text)
    assert routed is not None and (routed.intent, routed.tier) == (intent, "classifier")


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("/summarize soc2.pdf", "summarize_document"),
        ("/help", "help"),
        ("/submit", "submit_assessment"),
        ("/status", "assessment_status"),
        ("/docs", "list_documents"),
        ("/list submitted", "list_assessments"),
        ("/suggest 3", "suggest_answer"),
        ("hello there", "general"),
        ("thanks!", "general"),
    ],
)
def test_commands_and_greetings_are_routed_by_the_regex_tier_with_full_confidence(text, intent):
    routed = route_regex(text)
    assert (routed.intent, routed.tier) == (intent, "regex")
    assert routed.confidence >= 0.95


def test_an_unknown_command_is_left_to_the_next_tiers():
    assert route_regex("/frobnicate now") is None


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("sumarize the soc2 report", "summarize_document"),
        ("SUGGEST ANSWERS FOR QUESTIONS 1-3", "suggest_answer"),
        ("lsit my assessments", "list_assessments"),
        ("staus of the assessment", "assessment_status"),
        ("pul up the atachments", "list_documents"),
        ("list the documnets", "list_documents"),
        ("lst my documents", "list_documents"),
    ],
)
def test_classifier_tier_tolerates_case_typos_and_plurals(text, intent):
    routed = route_classifier(text)
    assert (routed.intent, routed.tier) == (intent, "classifier")
    assert 0 < routed.confidence <= 1


@pytest.mark.parametrize(
    ("text", "intent", "arguments"),
    [
        ("/summarize soc2-report.pdf", "summarize_document", {"document": "soc2-report.pdf"}),
        ("Summarize the pen test", "summarize_document", {"document": "pen test"}),
        ("summary of document 7f3a9c", "summarize_document", {"document": "7f3a9c"}),
        ("summarize all documents", "summarize_document", {}),
        ("suggest answers for q3 and q4", "suggest_answer", {"questions": [3, 4]}),
        ("can you suggest an answer to question 4 and 5", "suggest_answer", {"questions": [4, 5]}),
        ("pre-fill answers for q1 through q3", "suggest_answer", {"questions": [1, 2, 3]}),
        ("give me a suggested answer for #14", "suggest_answer", {"questions": [14]}),
        ("answer all unanswered ones", "suggest_answer", {"questions": "unanswered"}),
        (
            'suggest an answer for "Do you encrypt data at rest?"',
            "suggest_answer",
            {"questions": {"text": "Do you encrypt data at rest?"}},
        ),
        ("show my submitted assessments", "list_assessments", {"state": "submitted"}),
        ("show all my in-progress assessments", "list_assessments", {"state": "in_progress"}),
        ("which of my assessments need changes?", "list_assessments", {"state": "changes_requested"}),
        ("what assessments are under review?", "list_assessments", {"state": "under_review"}),
        ('find assessments called "Payroll vendor"', "list_assessments", {"assessment": "Payroll vendor"}),
        ("check the status of the Zoom assessment", "assessment_status", {"assessment": "Zoom"}),
        ("submit the Acme Cloud assessment for review", "submit_assessment", {"assessment": "Acme Cloud"}),
        ("submit my assessment for review", "submit_assessment", {}),
        ("submit the Stripe questionnaire", "submit_assessment", {"assessment": "Stripe"}),
        ("status of okta review", "assessment_status", {"assessment": "okta"}),
        ("where's Figma at?", "assessment_status", {"assessment": "Figma"}),
        ("files for Okta", "list_documents", {"assessment": "Okta"}),
        ("pull up the Acme Cloud attachments", "list_documents", {"assessment": "Acme Cloud"}),
        ('summarize "SOC 2 report.pdf"', "summarize_document", {"document": "SOC 2 report.pdf"}),
        ('is "Okta Pen Test Results.pdf" processed?', "list_documents", {"document": "Okta Pen Test Results.pdf"}),
        ("how do I submit the Figma review?", "how_to", {"topic": "submit", "assessment": "Figma"}),
        ("can I upload another pdf?", "how_to", {"topic": "upload"}),
        ("is soc2-report.pdf processed yet?", "list_documents", {"document": "soc2-report.pdf"}),
    ],
)
def test_arguments_are_extracted_from_the_message(text, intent, arguments):
    assert extract_arguments(text, intent) == arguments


def test_fast_routes_carry_their_arguments():
    assert route_fast("/status Acme") == Route("assessment_status", "regex", 1.0, {"assessment": "Acme"})
    assert route_fast("/suggest 3, 4").arguments == {"questions": [3, 4]}


@pytest.mark.parametrize(
    ("reply", "intent", "answer"),
    [
        ("INTENT: general\nThe report says AES-256.", "general", "The report says AES-256."),
        ("intent = general - The report says AES-256.", "general", "The report says AES-256."),
        ("**Intent:** list documents", "list_documents", None),
        ("INTENT: SUBMIT_ASSESSMENT", "submit_assessment", None),
        ("INTENT: frobnicate\nsomething", "general", None),
        ("no intent line at all", "general", None),
    ],
)
def test_llm_replies_are_parsed_robustly_and_unknown_intents_become_general(reply, intent, answer):
    routed = parse_llm_reply("a message", reply)
    assert (routed.intent, routed.tier, routed.answer) == (intent, "llm", answer)


AMBIGUOUS = "hmm, what about the thing from last week?"


async def test_without_an_llm_an_ambiguous_message_is_general_and_makes_no_network_call(settings):
    settings.LLM_PROVIDER = "extractive"
    with FakeBedrock() as fake:
        settings.BEDROCK_ENDPOINT_URL = fake.endpoint_url
        routed = await route(AMBIGUOUS)
    assert routed == Route("general", "llm", 0.0, {})
    assert fake.converse_calls == 0


@pytest.fixture
def llm_cache():
    caches["llm"].clear()
    yield caches["llm"]
    caches["llm"].clear()


@pytest.fixture
def fake_model(settings, aws_clients, llm_cache):
    with FakeBedrock() as fake:
        settings.BEDROCK_ENDPOINT_URL = fake.endpoint_url
        settings.LLM_PROVIDER = "bedrock"
        settings.BEDROCK_KB_ID = ""
        yield fake


async def test_an_open_question_is_classified_and_answered_in_one_llm_call(fake_model):
    fake_model.responder = lambda request: "INTENT: general\nThe report says data is encrypted with AES-256."
    routed = await route("is customer data encrypted at rest?")
    assert (routed.intent, routed.tier, routed.answer) == (
        "general",
        "llm",
        "The report says data is encrypted with AES-256.",
    )
    assert fake_model.converse_calls == 1


async def test_a_tool_intent_named_by_the_llm_is_routed_without_an_answer(fake_model):
    fake_model.responder = lambda request: "INTENT: list_documents"
    routed = await route(AMBIGUOUS)
    assert (routed.intent, routed.tier, routed.answer) == ("list_documents", "llm", None)
    assert fake_model.converse_calls == 1


async def test_the_same_message_is_answered_from_the_llm_cache_the_second_time(fake_model):
    fake_model.responder = lambda request: "INTENT: list_documents"
    first = await route(AMBIGUOUS)
    second = await route(AMBIGUOUS)
    assert first.intent == second.intent == "list_documents"
    assert fake_model.converse_calls == 1


async def test_a_garbled_intent_from_the_llm_falls_back_to_general(fake_model):
    fake_model.responder = lambda request: "Intent: **frobnicate**\nsomething"
    routed = await route(AMBIGUOUS)
    assert (routed.intent, routed.tier, routed.answer) == ("general", "llm", None)


async def test_a_failing_llm_raises_service_unavailable(fake_model):
    fake_model.fail_next = 10
    with pytest.raises(ServiceUnavailable):
        await route(AMBIGUOUS)


def test_intent_and_state_names_come_from_the_models_and_every_table_uses_known_intents():
    assert tuple(Intent) == INTENTS
    assert tuple(AssessmentState) == STATES
    assert set(HANDLERS) == set(Intent)
    assert all(f"\n- {intent}: " in ROUTER_SYSTEM_PROMPT for intent in Intent)
    assert set(COMMANDS.values()) <= set(INTENTS)


@pytest.mark.parametrize("state", list(AssessmentState))
def test_every_assessment_state_is_recognised_by_its_name(state):
    text = f"list my {state.replace('_', ' ')} assessments"
    assert extract_arguments(text, "list_assessments")["state"] == state
