"""What each routed intent does: the same selectors and services as the API, no rule of its own.

`handle(route, actor=, session=, text=)` returns (reply text, structured result).
A missing argument gets a clarifying reply, never a guess. Business errors
(InvalidState, NotFound...) become replies that explain them; a ServiceUnavailable
propagates (the API answers 503 and stores nothing).
"""

from assessments import selectors as assessment_selectors
from assessments import services as assessment_services
from assessments.models import QuestionStatus
from documents import selectors as document_selectors
from documents import services as document_services
from llm import services as llm
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
    "- tell you an assessment's status (/status)\n"
    '- list documents, or summarise one ("summarize soc2-report.pdf", /summarize NAME)\n'
    '- suggest answers with citations ("suggest an answer for q3", "all unanswered", /suggest 3)\n'
    "- submit an assessment for review (/submit)\n"
    "and answer questions about what your evidence says."
)
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


async def _assessment(route: Route, actor: Actor, session: ChatSession):
    """The assessment the message is about: the session's, or the one it names; else None."""
    name = route.arguments.get("assessment")
    return await run_sync(selectors.assessment_of_message, actor=actor, session=session, name=name)


def _which_assessment() -> tuple[str, dict]:
    return (
        'Which assessment do you mean? Name it (e.g. "status of Acme Cloud") or open the chat from the assessment.',
        {"clarify": "assessment"},
    )


async def _help(route, *, actor, session, text):
    return HELP, None


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
    assessment = await _assessment(route, actor, session)
    if assessment is None:
        return _which_assessment()
    detail = await run_sync(assessment_selectors.assessment_detail, actor=actor, assessment_id=assessment.assessment_id)
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
    assessment = await _assessment(route, actor, session)
    if assessment is None:
        return _which_assessment()
    current = await run_sync(
        assessment_selectors.assessment_get, actor=actor, assessment_id=assessment.assessment_id, consistent=True
    )
    submitted = await run_sync(
        assessment_services.assessment_transition,
        actor=actor,
        assessment_id=current.assessment_id,
        action="submit",
        version=current.version,
    )
    return f"Submitted {submitted.title} for review.", {"id": submitted.assessment_id, "state": submitted.state}


async def _list_documents(route, *, actor, session, text):
    assessment = await _assessment(route, actor, session)
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
    document, found = await run_sync(selectors.document_named, actor=actor, name=name)
    if document is None:
        reply = f"Several documents match “{name}”; which one?" if found else f"I found no document called “{name}”."
        return reply, {"clarify": "document"}
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
    assessment = await _assessment(route, actor, session)
    if assessment is None:
        return _which_assessment()
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
    if route.tier == "llm" and llm.provider_name() == "bedrock":
        # The model was asked already and gave no usable answer: a second call would cost as much again.
        return "I am not sure how to help with that. Could you rephrase it? Type /help to see what I can do.", None
    assessment = await _assessment(route, actor, session)
    if assessment is None:
        return (
            "I can answer questions about an assessment's documents when this chat is tied to an assessment. "
            "Type /help to see what else I can do.",
            None,
        )
    # No generative model: quote the passages that answer it best (the extractive provider, no LLM call).
    _, candidates = await run_sync(
        assessment_services.suggestion_candidates, actor=actor, assessment_id=assessment.assessment_id
    )
    answer = await llm.suggest_answer(question=text, candidates=candidates)
    citations = [{"document_id": c.document_id, "chunk": c.chunk, "quote": c.quote} for c in answer.citations]
    return answer.text, {"citations": citations, "provider": answer.provider, "confidence": answer.confidence}


HANDLERS = {
    Intent.HELP: _help,
    Intent.LIST_ASSESSMENTS: _list_assessments,
    Intent.ASSESSMENT_STATUS: _assessment_status,
    Intent.SUBMIT_ASSESSMENT: _submit,
    Intent.LIST_DOCUMENTS: _list_documents,
    Intent.SUMMARIZE_DOCUMENT: _summarize,
    Intent.SUGGEST_ANSWER: _suggest,
    Intent.GENERAL: _general,
}
