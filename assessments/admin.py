"""Reviewer pages for assessments: the change list (index queries only), the
assessment page (a bounded read: four Queries; documents and history page by
cursor) and the review actions (one transaction each, with a version check).
Same selectors and services as the API."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.dateformat import format as date_format

from documents import selectors as document_selectors
from documents.admin import PagePanel
from tra.admin import label, log_action, usernames
from tra.admin_changelist import DynamoChangeList
from tra.errors import ApplicationError, Conflict, InvalidCursor, NotFound
from tra.http.auth import actor_for

from . import selectors, services
from .models import AssessmentState, ReviewDecision

ADMIN_ENTRIES = [("Assessments", "assessments_assessment_list")]


def admin_urls(site):
    return [
        ("assessments/", lambda request: assessment_list.view(site, request), "assessments_assessment_list"),
        (
            "assessments/<str:assessment_id>/",
            lambda request, assessment_id: assessment_page(site, request, assessment_id),
            "assessments_assessment_page",
        ),
    ]


class AssessmentChangeList(DynamoChangeList):
    title = "Assessments"
    columns = ("Title", "State", "Owner", "Updated", "Version")
    selector = staticmethod(selectors.assessment_list_for_staff)
    item_url_name = "assessments_assessment_page"
    filter_parameter = "state"
    filter_choices = tuple(state.value for state in AssessmentState)
    search_placeholder = "Title words, e.g. acme clo"

    def item_id(self, item) -> str:
        return item.assessment_id

    def cells(self, item, owner: str) -> list:
        return [item.title, label(item.state), owner, date_format(item.updated_at, "Y-m-d H:i"), item.version]


assessment_list = AssessmentChangeList()


def assessment_page(site, request, assessment_id: str):
    actor = actor_for(request.user)
    if request.method == "POST":
        return _review(site, request, actor, assessment_id)
    try:
        detail = selectors.assessment_detail_for_staff(
            actor=actor,
            assessment_id=assessment_id,
            links_cursor=request.GET.get("documents") or None,
            events_cursor=request.GET.get("events") or None,
        )
    except NotFound:
        raise Http404(f"assessment {assessment_id} not found") from None
    except InvalidCursor:
        messages.error(request, "That page link is no longer valid; showing the first page.")
        return HttpResponseRedirect(reverse(f"{site.name}:assessments_assessment_page", args=[assessment_id]))
    documents = [
        {
            "link": link,
            "document": document,
            "page_url": reverse(f"{site.name}:documents_document_page", args=[link.document_id]),
            "download_url": reverse(f"{site.name}:documents_document_download", args=[link.document_id]),
        }
        for link, document in selectors.assessment_documents(detail.links)
    ]
    people = usernames(
        {detail.assessment.owner_id}
        | {review.reviewer_id for review in detail.reviews}
        | {event.actor_id for event in detail.events}
    )

    def who(user_id: str) -> str:
        return people.get(user_id, user_id)

    can_review = (
        actor.is_reviewer
        and detail.assessment.owner_id != actor.user_id
        and AssessmentState(detail.assessment.state) in services.REVIEWABLE
    )
    context = {
        **site.each_context(request),
        "title": detail.assessment.title,
        "subtitle": None,
        "detail": detail,
        "assessment": detail.assessment,
        "owner": who(detail.assessment.owner_id),
        "state": label(detail.assessment.state),
        "questions": _question_rows(site, detail.questions),
        "reviews": [{"review": r, "decision": label(r.decision), "by": who(r.reviewer_id)} for r in detail.reviews],
        "events": [
            {"event": e, "type": label(e.event_type), "to_state": label(e.to_state), "by": who(e.actor_id)}
            for e in detail.events
        ],
        "documents": documents,
        "can_review": can_review,
        "decisions": [(d.value, label(d.value)) for d in ReviewDecision],
        "list_url": reverse(f"{site.name}:assessments_assessment_list"),
        "more_documents_url": _page_url(request, "documents", detail.links_next_cursor),
        "older_events_url": _page_url(request, "events", detail.events_next_cursor),
        "first_page_url": request.path if request.GET else None,
        "reviewer_note": (
            None
            if actor.is_reviewer
            else "You can read this assessment; reviewing needs the “Can review assessments” permission."
        ),
    }
    return TemplateResponse(request, "admin/assessments/assessment_page.html", context)


def _question_rows(site, questions) -> list[dict]:
    """Questions numbered from 1, their suggestions' citations naming the cited files (one BatchGetItem)."""
    cited = {c.document_id for q in questions if q.suggestion for c in (q.suggestion.citations or [])}
    files = document_selectors.documents_by_ids(sorted(cited)) if cited else {}
    rows = []
    for number, question in enumerate(questions, start=1):
        citations = [
            {
                "quote": citation.quote,
                "chunk": citation.chunk,
                "filename": files[citation.document_id].filename if citation.document_id in files else None,
                "url": reverse(f"{site.name}:documents_document_page", args=[citation.document_id]),
            }
            for citation in (question.suggestion.citations or [] if question.suggestion else [])
        ]
        rows.append({"number": number, "question": question, "citations": citations})
    return rows


def _page_url(request, parameter: str, cursor: str | None) -> str | None:
    """This page with `parameter` moved on to `cursor` (documents and history page separately)."""
    if cursor is None:
        return None
    query = request.GET.copy()
    query[parameter] = cursor
    return f"{request.path}?{query.urlencode()}"


def _review(site, request, actor, assessment_id: str):
    if not actor.is_reviewer:
        raise PermissionDenied("reviewing needs the “Can review assessments” permission")
    page_url = reverse(f"{site.name}:assessments_assessment_page", args=[assessment_id])
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        messages.error(request, "The form was incomplete; reload the page and try again.")
        return HttpResponseRedirect(page_url)
    decision = request.POST.get("decision", "")
    comment = request.POST.get("comment", "")
    try:
        assessment, review = services.review_create(
            actor=actor, assessment_id=assessment_id, decision=decision, comment=comment, version=version
        )
    except Conflict as conflict:
        current = conflict.extra.get("current_version")
        messages.error(
            request,
            f"This assessment was changed by someone else (it is now at version {current}). "
            "Nothing was saved: the page below shows the current version; review it and decide again.",
        )
        return HttpResponseRedirect(page_url)
    except NotFound:
        raise Http404(f"assessment {assessment_id} not found") from None
    except ApplicationError as error:
        messages.error(request, error.message)
        return HttpResponseRedirect(page_url)
    log_action(
        request,
        object_id=assessment_id,
        object_repr=assessment.title,
        message=f"Review {review.review_id}: {review.decision}, now {assessment.state}. {comment}",
    )
    now = label(assessment.state).lower()
    messages.success(request, f"Saved: {label(decision).lower()}. The assessment is now {now}.")
    return HttpResponseRedirect(page_url)


def document_usage_panel(site, actor, document) -> PagePanel:
    """The document page's "Used by" section (registered with documents' admin in apps.py)."""
    assessments = selectors.document_assessments_for_staff(actor=actor, document_id=document.document_id)
    rows = [
        (item.title, reverse(f"{site.name}:assessments_assessment_page", args=[item.assessment_id]), label(item.state))
        for item in assessments
    ]
    return PagePanel(title="Used by", rows=rows, empty="No assessment uses this document.")


admin.site.register_pages(admin_urls, ADMIN_ENTRIES)
