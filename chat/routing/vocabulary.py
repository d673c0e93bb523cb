"""The router's word tables: slash commands, weighted words and phrases, neutral words, states.

Names that mirror stored values are derived here, not copied: INTENTS from chat.models.Intent,
STATES and each state's own name ("changes requested", "changes_requested") from
assessments.models.AssessmentState. What is written by hand is how users say things.
"""

import re

from assessments.models import AssessmentState

from ..models import Intent

INTENTS = tuple(intent.value for intent in Intent)
STATES = tuple(state.value for state in AssessmentState)

# Slash commands: the user said exactly what they want.
COMMANDS = {
    "summarize": "summarize_document",
    "summarise": "summarize_document",
    "summary": "summarize_document",
    "suggest": "suggest_answer",
    "answer": "suggest_answer",
    "list": "list_assessments",
    "assessments": "list_assessments",
    "status": "assessment_status",
    "submit": "submit_assessment",
    "docs": "list_documents",
    "documents": "list_documents",
    "files": "list_documents",
    "help": "help",
}

# Every word that carries weight, in the forms users type. Anchors weigh 3 or more
# (one alone can route a message); supporting words weigh less and only add up.
WEIGHTS: dict[str, dict[str, float]] = {
    # summarize_document
    "summarize": {"summarize_document": 4},
    "summarise": {"summarize_document": 4},
    "summary": {"summarize_document": 4},
    "summaries": {"summarize_document": 4},
    "overview": {"summarize_document": 4},
    "tldr": {"summarize_document": 4},
    "gist": {"summarize_document": 3.5},
    "recap": {"summarize_document": 3.5},
    "takeaways": {"summarize_document": 3.5},
    "synopsis": {"summarize_document": 4},
    "highlights": {"summarize_document": 3},
    "report": {"summarize_document": 1},
    "policy": {"summarize_document": 1},
    "pentest": {"summarize_document": 1},
    # suggest_answer
    "suggest": {"suggest_answer": 3},
    "suggested": {"suggest_answer": 3},
    "suggestion": {"suggest_answer": 3},
    "suggestions": {"suggest_answer": 3},
    "answer": {"suggest_answer": 2},
    "answers": {"suggest_answer": 2},
    "draft": {"suggest_answer": 1.5},
    "propose": {"suggest_answer": 2},
    "response": {"suggest_answer": 1.5},
    "responses": {"suggest_answer": 1.5},
    "fill": {"suggest_answer": 2},
    "prefill": {"suggest_answer": 2},
    "autofill": {"suggest_answer": 2},
    "unanswered": {"suggest_answer": 1.5},
    "questions": {"suggest_answer": 0.5},
    # list_assessments
    "assessments": {"list_assessments": 3},
    "drafts": {"list_assessments": 2.5},
    "list": {"list_assessments": 1.5, "list_documents": 1.5},
    "show": {"list_assessments": 1, "list_documents": 1},
    "my": {"list_assessments": 0.5},
    "all": {"list_assessments": 0.5},
    "which": {"list_assessments": 0.5, "list_documents": 0.5},
    # assessment_status
    "status": {"assessment_status": 3.5},
    "progress": {"assessment_status": 3.5},
    "stage": {"assessment_status": 3.5},
    "percentage": {"assessment_status": 3.5},
    "percent": {"assessment_status": 3.5},
    "assessment": {"assessment_status": 0.5, "submit_assessment": 0.5},
    # submit_assessment
    "submit": {"submit_assessment": 4},
    "finalize": {"submit_assessment": 2},
    "finalise": {"submit_assessment": 2},
    # list_documents
    "documents": {"list_documents": 3, "summarize_document": 1},
    "document": {"summarize_document": 1},
    "docs": {"list_documents": 3, "summarize_document": 1},
    "files": {"list_documents": 3},
    "uploads": {"list_documents": 3},
    "uploaded": {"list_documents": 3, "summarize_document": 1},
    "linked": {"list_documents": 1.5},
    "attached": {"list_documents": 1.5},
    "evidence": {"list_documents": 2},
    "processing": {"list_documents": 3},
    "processed": {"list_documents": 3},
    "process": {"list_documents": 2},
    "indexed": {"list_documents": 3},
    # help
    "help": {"help": 3.5},
    "commands": {"help": 3.5},
    "features": {"help": 3},
    "usage": {"help": 3.5},
    "instructions": {"help": 3.5},
    "statuses": {"assessment_status": 3.5},
    # Words that look like anchors but are not: kept so typo matching leaves them alone.
    "submitted": {},
    "helps": {},
    "helped": {},
    "helpful": {},
    "processes": {},
}

# Phrases weigh like keywords; each is a sure sign of its intent.
PHRASES: tuple[tuple[re.Pattern, dict[str, float]], ...] = tuple(
    (re.compile(pattern), weights)
    for pattern, weights in (
        (r"\b(key|main) (points|takeaways|findings of)\b", {"summarize_document": 4}),
        (r"\bsum (it |this |that )?up\b", {"summarize_document": 4}),
        (r"\bpen ?test\b", {"summarize_document": 1}),
        (r"\b(q|question|questions|#) ?\d+", {"suggest_answer": 2}),
        (r"\bhelp me (answer|fill|draft)\b", {"help": -3.5}),
        (r"\b(every|each|all (of )?(my|the)?) ?assessment\b", {"list_assessments": 2}),
        (r"\b(how many|what|which) assessments\b", {"list_assessments": 1}),
        (r"\bhow many questions\b.*\b(left|remaining|unanswered|to go|open)\b", {"assessment_status": 4}),
        (r"\bhow far\b", {"assessment_status": 4}),
        (r"\bwhat state\b", {"assessment_status": 3.5}),
        (r"\bready to submit\b", {"assessment_status": 4}),
        (r"\bwhere (is|are) (my|the|this|our) (assessment|review|questionnaire)", {"assessment_status": 4}),
        (r"\bwhere are we with\b.*\b(assessment|review|questionnaire)\b", {"assessment_status": 4}),
        (
            r"^(has|is|was) (it|this|my|the|our) ?(assessment|questionnaire)? (been |still |now )*"
            r"(approved|rejected|reviewed|submitted|under review|in review|complete|completed|done|finished)\b",
            {"assessment_status": 4},
        ),
        (
            r"\b(has|have) (anyone|someone|the reviewers?) (reviewed|approved|rejected|looked at)\b",
            {"assessment_status": 4},
        ),
        (r"\bhas the review (started|begun|finished|ended)\b", {"assessment_status": 4}),
        (r"\bhow is the (review|assessment) going\b", {"assessment_status": 4}),
        (r"\bsend (it|this|the assessment|this assessment|the questionnaire) (in|to|for)\b", {"submit_assessment": 3}),
        (r"\bsend (it |this )?(for|to) (review|approval|the reviewers?)\b", {"submit_assessment": 3}),
        (r"\b(hand|pass) (it|this|the assessment|this assessment) over\b", {"submit_assessment": 3}),
        (r"\b(for|to) (review|approval|the reviewers?)\b", {"submit_assessment": 1}),
        (r"\b(what|which) (docs|documents|files|evidence)\b", {"list_documents": 0.5}),
        (r"\bwhat have (i|we) uploaded\b", {"list_documents": 1}),
        (r"\b[\w-]+\.(pdf|docx?|xlsx?|csv|txt|pptx?)\b", {"summarize_document": 1, "list_documents": 1}),
        (r"\bwhat (can|could) (you|i)\b", {"help": 1}),
    )
)

# Words a request may contain without the router needing to understand them: function
# words, politeness, request verbs, and the nouns users name documents and assessments with.
_NEUTRAL_WORDS = """
    a an the this that these those my our your me i we us you it its they them there here of for to in on
    at by with from and or as so up out into over be is are was were been being am do does did have has had
    can could would will should shall may might must please pls plz thanks kindly just also now yet still
    already so far quick quickly brief briefly short full whole each every all any some more one ones
    what which who how where when whats what's i'd i'm id im like want need get give gimme go ahead let lets
    let's tell see check find send hand off kick ok okay hey hi hello u ur r well then right using use
    got make sure done left remaining open current currently latest new many much far along
    question questions q no number item items questionnaire assessment review reviewer reviewers approval
    document doc file pdf docx xlsx uploaded upload linked attached evidence them
    report soc soc2 type ii i 1 2 pen test penetration iso 27001 certificate bridge letter dpa data
    processing agreement policy policies plan contract security information isms incident response
    disaster recovery business continuity privacy access control vendor executive main key points
    findings finding named called note notes that's it's they've we've i've there's everything
    through thru whether anyone someone reviewed request requested changes good something available own their
    auto pre ready complete completed finished started going failed waiting ask able"""
NEUTRAL = frozenset(_NEUTRAL_WORDS.split())

# What users call a state besides its name and its stored value. Checked in this order, the first
# match naming the state, so the narrower phrases come first ("open drafts in review" is under
# review). A state added to AssessmentState without an entry is still known by its name.
_STATE_WORDS: dict[AssessmentState, tuple[str, ...]] = {
    AssessmentState.CHANGES_REQUESTED: (r"need(s|ing)? changes", "requested changes"),
    AssessmentState.UNDER_REVIEW: ("in review", "being reviewed", "waiting for review"),
    AssessmentState.IN_PROGRESS: ("in-progress", "ongoing", "open"),
    AssessmentState.DRAFT: ("drafts", "in draft"),
    AssessmentState.SUBMITTED: (),
    AssessmentState.APPROVED: (),
    AssessmentState.REJECTED: ("declined",),
    AssessmentState.ARCHIVED: (),
}


def _state_pattern(state: AssessmentState) -> re.Pattern:
    names = dict.fromkeys((state.value.replace("_", " "), state.value, *_STATE_WORDS.get(state, ())))
    return re.compile(r"\b(" + "|".join(names) + r")\b")


_STATE_ORDER = [*_STATE_WORDS, *(state for state in AssessmentState if state not in _STATE_WORDS)]
STATE_PATTERNS: tuple[tuple[str, re.Pattern], ...] = tuple(
    (state.value, _state_pattern(state)) for state in _STATE_ORDER
)
