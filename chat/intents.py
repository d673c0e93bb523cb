"""What each routed intent does: the same selectors and services as the API, no rule of its own.

`handle(route, actor=, session=, text=)` returns (reply text, structured result).
A missing argument gets a clarifying reply, never a guess. Business errors
(InvalidState, NotFound...) become replies that explain them; a ServiceUnavailable
propagates (the API answers 503 and stores nothing).
"""

import re
import uuid
from datetime import timedelta

from django.conf import settings

from assessments import selectors as assessment_selectors
from assessments import services as assessment_services
from assessments.models import Assessment, QuestionStatus
from documents import selectors as document_selectors
from documents import services as document_services
from llm import services as llm
from llm import text as text_analysis
from tra.dynamo.clock import utc_now
from tra.dynamo.executor import run_sync
from tra.errors import ApplicationError, NotFound
from tra.http.auth import Actor

from . import selectors
from .models import ChatSession, Intent
from .routing import Route

MAX_SUGGESTIONS = 10  # questions suggested from one message
HELP = (
    "I can help with your assessments:\n"
    '- list your assessments ("show my submitted assessments", /list submitted)\n'
    '- tell you an assessment\'s status ("status of Acme Cloud", or /status in a chat tied to it)\n'
    '- list documents, or summarise one ("summarize soc2-report.pdf", /summarize NAME)\n'
    '- suggest answers with citations ("suggest an answer for q3", "all unanswered", /suggest 3)\n'
    "- propose submitting an assessment for review (/submit): nothing changes until you confirm\n"
    '- explain how to do something ("how do I submit?")\n'
    "and answer questions about what your evidence says."
)
# A question about an action rather than a request for it ("how do I", "should I", "when can we").
_HOW_QUESTION = re.compile(
    r"\b(?:how|when|why|what|whether|should|shall|(?:can|could|may|must|do|am|ought)\s+(?:i|we)|is\s+it|"
    r"is\s+(?:this|that)\s+(?:one\s+)?(?:ready|ok|okay))\b"
)
_ABOUT_SUBMITTING = re.compile(r"\bsubmi(?:t|ts|tting|tted|ssion)\b")
_ABOUT_EVIDENCE = re.compile(r"\b(?:report|polic(?:y|ies)|documents?|evidence|pdf|passages?|say|says|said)\b")
_REQUEST = re.compile(r"^\s*(?:please\b|(?:can|could|would|will)\s+you\b)")
_TOPICS = (  # first match wins
    ("withdraw", re.compile(r"withdraw|unsubmit|take (?:it|this) back")),
    ("submit", re.compile(r"submi|send\b.*\bfor review|hand\b.*\bin\b")),
    ("summarize", re.compile(r"summar|overview|key points")),
    ("suggest", re.compile(r"suggest|answer")),
    ("reopen", re.compile(r"reopen|re-open")),
    ("approve", re.compile(r"approv|reject|request changes")),
    ("status", re.compile(r"status|progress|where .* stand")),
    ("delete", re.compile(r"delete|remove|archive")),
    ("create", re.compile(r"create|new assessment|start an? ")),
    ("share", re.compile(r"share|invite")),
    ("export", re.compile(r"export|download")),
    ("documents", re.compile(r"upload|document|file|attach|link|evidence|pdf")),
    ("list_assessments", re.compile(r"list|assessments|find")),
)
HOW_TO = {
    "submit": (
        "To submit an assessment for review, say “submit it” in a chat tied to it (or “submit the NAME "
        "assessment”): I reply with a proposal, and nothing changes until you confirm it (reply “yes” or use "
        "Confirm: POST /api/chat/sessions/{session_id}/actions/{action_id}/confirm). Through the API: "
        'POST /api/assessments/{id}/transitions with {"action": "submit", "version": <its current version>}. '
        "Only a draft or an assessment in progress can be submitted."
    ),
    "status": (
        "Ask “status of NAME” (or /status in a chat tied to the assessment); through the API, "
        "GET /api/assessments/{id} shows its state, questions, linked documents and reviews."
    ),
    "summarize": (
        "Say “summarize FILE NAME” (quote a name with spaces: summarize “SOC 2 report.pdf”); through the API, "
        "POST /api/documents/{id}/summary."
    ),
    "suggest": (
        "Say “suggest an answer for question 3”, “q1 to q4” or “all unanswered” in a chat tied to the "
        "assessment; through the API, POST /api/assessments/{id}/suggestions. Suggestions cite the linked "
        "documents and are stored for you to review; nothing is answered for you."
    ),
    "documents": (
        "Upload a file with POST /api/documents (multipart, field “file”), link it with "
        'POST /api/assessments/{id}/documents {"document_ids": [...]}; “list documents” shows what is linked.'
    ),
    "list_assessments": (
        "Say “show my assessments” (or with a state: “my submitted assessments”, /list submitted); through the "
        "API, GET /api/assessments?state=submitted."
    ),
    "reopen": (
        "An assessment with changes requested is reopened by its owner: POST /api/assessments/{id}/transitions "
        'with {"action": "reopen", "version": <its current version>}; it is then in progress and can be '
        "submitted again."
    ),
    "withdraw": (
        "A submitted assessment cannot be withdrawn: it waits for a reviewer, who approves it, rejects it or "
        "requests changes; after a request for changes you reopen it."
    ),
    "approve": (
        "Reviewers decide on submitted assessments: POST /api/assessments/{id}/reviews with a decision "
        "(approve, reject or request_changes, the last with a comment), or on the assessment's admin page. "
        "Nobody reviews their own."
    ),
    "delete": (
        "A document is deleted with DELETE /api/documents/{id} (refused while an assessment links it: unlink it "
        'first). An assessment is not deleted but archived: POST /api/assessments/{id}/transitions {"action": '
        '"archive", "version": ...}.'
    ),
    "create": 'Create an assessment with POST /api/assessments {"title": ...}, then start a chat tied to it.',
    "share": (
        "Assessments are their owner's until submitted; then reviewers can read them. There is no sharing "
        "with other users."
    ),
    "export": "Operators export assessments with `python manage.py export_assessments` (see its --help).",
    "help": HELP,
}
MAX_CANDIDATES = 5  # candidates listed when a name matches several
# Below this retrieval relevance (0..1, llm.retrieval) the best passage shares too little with the question
# to be its answer: "what is the breach notification timeline?" would otherwise quote any sentence with "data".
MIN_ANSWER_RELEVANCE = 0.35
GENERIC_TERMS = frozenset({"document", "documents", "say", "says", "evidence", "report", "tell", "vendor", "doe"})
GREETINGS = ("hi", "hello", "hey", "good morning", "good afternoon", "thanks", "thank you", "cheers")


async def handle(route: Route, *, actor: Actor, session: ChatSession, text: str) -> tuple[str, dict | None]:
    handler = HANDLERS[route.intent]
    try:
        return await handler(route, actor=actor, session=session, text=text)
    except NotFound as error:
        return f"I could not find that: {error.message}.", None
    except ApplicationError as error:
        if error.status_code == 503:
            raise
        return f"I could not do that: {error.message}.", {"error": error.code}


async def _assessment(route: Route, actor: Actor, session: ChatSession) -> tuple[Assessment | None, tuple | None]:
    """The assessment the message is about (the session's for no name or "it", else the one its name
    matches), or None and the reply that says why: nothing to go on, no match, or which of several."""
    name = route.arguments.get("assessment")
    found = await run_sync(selectors.assessments_for_message, actor=actor, session=session, name=name)
    if len(found) == 1:
        return found[0], None
    if not found:
        if selectors.refers_to_session(name):
            return None, _which_assessment()
        return None, (
            f'I found no assessment of yours matching “{name}”. Say "show my assessments" to see their names.',
            {"clarify": "assessment", "candidates": []},
        )
    listed = found[:MAX_CANDIDATES]
    lines = "\n".join(f"- {a.title} ({a.state.replace('_', ' ')})" for a in listed)
    return None, (
        f"{len(found)} of your assessments match “{name}”; which one do you mean?\n{lines}",
        {
            "clarify": "assessment",
            "candidates": [{"id": a.assessment_id, "title": a.title, "state": a.state} for a in listed],
        },
    )


def _which_assessment() -> tuple[str, dict]:
    return (
        'Which assessment do you mean? Name it (e.g. "status of Acme Cloud") or open the chat from the assessment.',
        {"clarify": "assessment"},
    )


async def _help(route, *, actor, session, text):
    if asks_how(text) and _topic_of(text) != "help":  # "how do I summarise a file?": that, not the whole menu
        return await _how_to(route, actor=actor, session=session, text=text)
    return HELP, None


def asks_how(text: str) -> bool:
    """ "how do I submit?", "should I submit this?", "when can we submit?", "submit it?": a question about
    an action, not a request for it. A polite request ("can you submit it?") is not a question."""
    message = text.lower()
    if _REQUEST.search(message):
        return False
    return bool(_HOW_QUESTION.search(message)) or message.rstrip().endswith("?")


def _topic_of(text: str) -> str:
    """The HOW_TO entry for a routed topic ("submit", "answer", "upload"...) or, failing that, the message."""
    message = text.strip().lower()
    if message in HOW_TO:
        return message
    return next((topic for topic, pattern in _TOPICS if pattern.search(message)), "help")


async def _how_to(route, *, actor, session, text, topic: str | None = None):
    """How to do something (the chat phrase, the endpoint, the state it needs, what is missing), never doing it."""
    topic = _topic_of(topic or route.arguments.get("topic") or text)
    if topic != "submit":
        return HOW_TO[topic], {"how_to": topic}
    reply = HOW_TO["submit"]
    result: dict = {"how_to": "submit"}
    if not (route.arguments.get("assessment") or session.assessment_id):
        return reply, result
    assessment, clarify = await _assessment(route, actor, session)
    if clarify:
        return f"{reply}\n{clarify[0]}", {**result, **clarify[1]}
    detail = await run_sync(assessment_selectors.assessment_detail, actor=actor, assessment_id=assessment.assessment_id)
    assessment = detail.assessment  # the item itself: the match came from the title-word index's copy
    total = len(detail.questions)
    unanswered = sum(1 for q in detail.questions if q.status != QuestionStatus.ANSWERED)
    state = assessment.state
    can_submit = state in assessment_services.TRANSITIONS["submit"].sources
    label = state.replace("_", " ")
    if can_submit:
        missing = [f"{unanswered} of {total} questions are unanswered"] if unanswered else []
        if not total:
            missing.append("it has no questions yet")
        if not detail.links:
            missing.append("no document is linked")
        specific = f"{assessment.title} is {label}, so it can be submitted now."
        if missing:
            specific += f" Still missing: {'; '.join(missing)} (reviewers will see that)."
        else:
            specific += f" All {total} questions are answered."
    elif state == "changes_requested":
        specific = (
            f"{assessment.title} has changes requested: reopen it first (action “reopen”), make the changes, "
            "then submit it again."
        )
    else:
        specific = f"{assessment.title} is {label}: it cannot be submitted now."
    result.update(
        assessment={"id": assessment.assessment_id, "title": assessment.title, "state": state},
        can_submit=can_submit,
        questions=total,
        unanswered=unanswered,
        documents=len(detail.links),
    )
    return f"{reply}\n{specific}", result


async def _list_assessments(route, *, actor, session, text):
    state = route.arguments.get("state")
    page = await run_sync(
        assessment_selectors.assessment_list_mine,
        actor=actor,
        state=state,
        query=route.arguments.get("assessment"),
        limit=20,
        cursor=None,
    )
    items = [{"id": a.assessment_id, "title": a.title, "state": a.state} for a in page.items]
    if not items:
        return ("You have no assessments" + (f" that are {state.replace('_', ' ')}." if state else ".")), {
            "assessments": []
        }
    lines = [f"- {item['title']} ({item['state'].replace('_', ' ')})" for item in items]
    return "Your assessments:\n" + "\n".join(lines), {"assessments": items}


async def _assessment_status(route, *, actor, session, text):
    assessment, clarify = await _assessment(route, actor, session)
    if clarify:
        return clarify
    detail = await run_sync(assessment_selectors.assessment_detail, actor=actor, assessment_id=assessment.assessment_id)
    assessment = detail.assessment  # the item itself: the match came from the title-word index's copy
    answered = sum(1 for q in detail.questions if q.status == QuestionStatus.ANSWERED)
    result = {
        "id": assessment.assessment_id,
        "title": assessment.title,
        "state": assessment.state,
        "questions": len(detail.questions),
        "answered": answered,
        "documents": len(detail.links),
        "last_review": detail.reviews[-1].decision if detail.reviews else None,
    }
    reply = (
        f"{assessment.title} is {assessment.state.replace('_', ' ')}: {answered} of {len(detail.questions)} "
        f"questions answered, {len(detail.links)} document(s) linked."
    )
    if detail.reviews:
        reply += f" Last review: {detail.reviews[-1].decision.replace('_', ' ')}."
    return reply, result


async def _submit(route, *, actor, session, text):
    """A proposal, never the change: the owner confirms it (chat.services.proposal_confirm)."""
    if asks_how(text):  # "should I submit it?" is a question, whatever the router made of it
        return await _how_to(route, actor=actor, session=session, text=text, topic="submit")
    assessment, clarify = await _assessment(route, actor, session)
    if clarify:
        return clarify
    current = await run_sync(
        assessment_selectors.assessment_get_owned, actor=actor, assessment_id=assessment.assessment_id
    )
    if current.state not in assessment_services.TRANSITIONS["submit"].sources:
        return (
            f"{current.title} is {current.state.replace('_', ' ')}: only a draft or an assessment in progress "
            "can be submitted.",
            {"error": "invalid_state", "id": current.assessment_id, "state": current.state},
        )
    expires_at = utc_now() + timedelta(seconds=settings.CHAT_PROPOSAL_TTL_SECONDS)
    summary = f"Submit {current.title} for review (it is {current.state.replace('_', ' ')} now)."
    proposal = {
        "id": uuid.uuid4().hex,
        "intent": Intent.SUBMIT_ASSESSMENT.value,
        "assessment_id": current.assessment_id,
        "assessment_version": current.version,
        "title": current.title,
        "summary": summary,
        "expires_at": expires_at.isoformat(),
    }
    minutes = max(1, round(settings.CHAT_PROPOSAL_TTL_SECONDS / 60))
    return (
        f"{summary} Nothing has changed yet: confirm to submit it (reply “yes”, or use Confirm) "
        f"within {minutes} minute(s).",
        {"proposed_action": proposal},
    )


async def _list_documents(route, *, actor, session, text):
    assessment = None
    if route.arguments.get("assessment") or session.assessment_id:
        assessment, clarify = await _assessment(route, actor, session)
        if clarify:
            return clarify
    if assessment is not None:
        links = await run_sync(
            assessment_selectors.linked_documents, actor=actor, assessment_id=assessment.assessment_id, limit=50,
            cursor=None,
        )  # fmt: skip
        pairs = await run_sync(assessment_selectors.assessment_documents, links.items)
        items = [
            {"id": link.document_id, "filename": d.filename if d else None, "status": d.status if d else None}
            for link, d in pairs
        ]
        scope = f"linked to {assessment.title}"
    else:
        page = await run_sync(document_selectors.document_list_mine, actor=actor, status=None, limit=50, cursor=None)
        items = [{"id": d.document_id, "filename": d.filename, "status": d.status} for d in page.items]
        scope = "you uploaded"
    if not items:
        return f"There are no documents {scope}.", {"documents": []}
    lines = [f"- {item['filename']} ({item['status']})" for item in items]
    return f"Documents {scope}:\n" + "\n".join(lines), {"documents": items}


async def _summarize(route, *, actor, session, text):
    name = route.arguments.get("document")
    if not name:
        return 'Which document should I summarise? Give its file name, e.g. "summarize soc2-report.pdf".', {
            "clarify": "document"
        }
    found = await run_sync(selectors.documents_named, actor=actor, name=name)
    if len(found) != 1:
        listed = found[:MAX_CANDIDATES]
        if listed:
            lines = "\n".join(f"- {d.filename}" for d in listed)
            reply = f"{len(found)} of your documents match “{name}”; which one do you mean?\n{lines}"
        else:
            reply = f"I found no document of yours called “{name}”."
        candidates = [{"id": d.document_id, "filename": d.filename} for d in listed]
        return reply, {"clarify": "document", "candidates": candidates}
    [document] = found
    stored, summary = await document_services.document_summarize(
        actor=actor,
        document_id=document.document_id,
        rate_limited=False,  # services.message_post counted it
    )
    return f"Summary of {stored.filename}:\n{summary.text}", {
        "document_id": stored.document_id,
        "summary": summary.text,
        "provider": summary.provider,
        "model": summary.model,
    }


async def _suggest(route, *, actor, session, text):
    assessment, clarify = await _assessment(route, actor, session)
    if clarify:
        return clarify
    wanted = route.arguments.get("questions")
    if not wanted:
        return 'Which questions? Say e.g. "question 3", "q1 to q4" or "all unanswered".', {"clarify": "questions"}
    if wanted == "unanswered":
        questions = await assessment_services.suggestions_for_unanswered(
            actor=actor,
            assessment_id=assessment.assessment_id,
            rate_limited=False,  # message_post counted it
        )
    else:
        everything = await run_sync(assessment_selectors.questions_of, assessment)
        if isinstance(wanted, dict):
            needle = wanted.get("text", "").lower()
            chosen = [q for q in everything if needle and needle in q.text.lower()]
        else:
            chosen = [everything[n - 1] for n in wanted if 0 < n <= len(everything)]
        if not chosen:
            return f"{assessment.title} has {len(everything)} question(s); I found none of those.", {
                "clarify": "questions"
            }
        questions = [
            await assessment_services.suggestion_create(
                actor=actor,
                assessment_id=assessment.assessment_id,
                question_id=q.question_id,
                rate_limited=False,  # the message counts once (services.message_post), however many questions
            )
            for q in chosen[:MAX_SUGGESTIONS]
        ]
    items = [
        {
            "question_id": q.question_id,
            "question": q.text,
            "suggestion": q.suggestion.text if q.suggestion else None,
            "confidence": float(q.suggestion.confidence) if q.suggestion else 0.0,
            "citations": [
                {"document_id": c.document_id, "chunk": int(c.chunk), "quote": c.quote}
                for c in (q.suggestion.citations if q.suggestion else [])
            ],
        }
        for q in questions
    ]
    lines = [f"- {item['question']}\n  → {item['suggestion']}" for item in items]
    return "Suggested answers (review before accepting):\n" + "\n".join(lines), {"suggestions": items}


async def _general(route, *, actor, session, text):
    if route.answer:  # the LLM tier classified and answered in one call
        citations = [{"document_id": c.document_id, "chunk": c.chunk, "quote": c.quote} for c in route.citations]
        return route.answer, {"citations": citations, "provider": "bedrock", "confidence": route.grounding}
    if text.strip().lower().strip("!. ") in GREETINGS or text.strip().lower().startswith(GREETINGS):
        return "Hello! " + HELP, None
    if asks_how(text) and _ABOUT_SUBMITTING.search(text.lower()) and not _ABOUT_EVIDENCE.search(text.lower()):
        # "what happens when I submit?" is about the workflow, not the evidence: no passage answers it.
        return await _how_to(route, actor=actor, session=session, text=text, topic="submit")
    if route.tier == "llm" and llm.provider_name() == "bedrock":
        # The model was asked already and gave no usable answer: a second call would cost as much again.
        return "I am not sure how to help with that. Could you rephrase it? Type /help to see what I can do.", None
    assessment, clarify = await _assessment(route, actor, session)
    if assessment is None:
        if clarify and clarify[1].get("candidates"):
            return clarify  # it names several assessments: which one
        return (
            "I can answer questions about an assessment's documents when this chat is tied to an assessment. "
            "Type /help to see what else I can do.",
            None,
        )
    # No generative model: quote the passages that answer it best (the extractive provider, no LLM call),
    # from the assessment's retrieval index (the assessment just found: no second read of it).
    _, candidates = await run_sync(
        assessment_services.suggestion_candidates,
        actor=actor,
        assessment_id=assessment.assessment_id,
        assessment=assessment,
    )
    answer = await llm.suggest_answer(question=text, candidates=candidates)
    if answer.confidence < MIN_ANSWER_RELEVANCE:
        return _not_answered(text, assessment, has_documents=bool(candidates), relevance=answer.confidence), {
            "citations": [],
            "provider": answer.provider,
            "confidence": answer.confidence,
            "answered": False,
        }
    citations = [{"document_id": c.document_id, "chunk": c.chunk, "quote": c.quote} for c in answer.citations]
    return answer.text, {"citations": citations, "provider": answer.provider, "confidence": answer.confidence}


def _not_answered(text: str, assessment: Assessment, *, has_documents: bool, relevance: float) -> str:
    """An honest "I don't know": what the question is about, and what to upload so that it can be answered."""
    subject = [term for term in dict.fromkeys(text_analysis.terms(text)) if term not in GENERIC_TERMS][:4]
    covering = f"covers {', '.join(subject)}" if subject else "answers it"
    upload = (
        f"Upload a document that {covering} (a policy, a SOC 2 report, the vendor's own answer) and link it to "
        f"{assessment.title}, then ask again."
    )
    if not has_documents:
        return f"No document is linked to {assessment.title} yet, so I cannot answer from its evidence. {upload}"
    return (
        f"No passage in {assessment.title}'s documents answers this reliably (the best match scores "
        f"{relevance:.2f}), so I won't quote one. {upload}"
    )


HANDLERS = {
    Intent.HELP: _help,
    Intent.HOW_TO: _how_to,
    Intent.LIST_ASSESSMENTS: _list_assessments,
    Intent.ASSESSMENT_STATUS: _assessment_status,
    Intent.SUBMIT_ASSESSMENT: _submit,
    Intent.LIST_DOCUMENTS: _list_documents,
    Intent.SUMMARIZE_DOCUMENT: _summarize,
    Intent.SUGGEST_ANSWER: _suggest,
    Intent.GENERAL: _general,
}
