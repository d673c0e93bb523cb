"""Admin pages for chat sessions: list (index queries) and the conversation with its routing."""

from django.contrib import admin
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.dateformat import format as date_format

from assessments import selectors as assessment_selectors
from tra.admin import usernames
from tra.admin_changelist import DynamoChangeList
from tra.errors import InvalidCursor, NotFound
from tra.http.auth import actor_for

from . import selectors

ADMIN_ENTRIES = [("Chat sessions", "chat_session_list")]
MESSAGES_PER_PAGE = 100


def admin_urls(site):
    return [
        ("chat/", lambda request: session_list.view(site, request), "chat_session_list"),
        (
            "chat/<str:session_id>/",
            lambda request, session_id: session_page(site, request, session_id),
            "chat_session_page",
        ),
    ]


class SessionChangeList(DynamoChangeList):
    title = "Chat sessions"
    columns = ("Title", "Owner", "Assessment", "Updated")
    selector = staticmethod(selectors.session_list_for_staff)
    item_url_name = "chat_session_page"

    def item_id(self, item) -> str:
        return item.session_id

    def cells(self, item, owner: str) -> list:
        return [item.title or "(untitled)", owner, item.assessment_id or "", date_format(item.updated_at, "Y-m-d H:i")]


session_list = SessionChangeList()


def session_page(site, request, session_id: str):
    actor = actor_for(request.user)
    try:
        session = selectors.session_get_for_staff(actor=actor, session_id=session_id)
        messages = selectors.messages_page(
            session=session, newest_first=False, limit=MESSAGES_PER_PAGE, cursor=request.GET.get("cursor")
        )
    except (NotFound, InvalidCursor):
        raise Http404(f"chat session {session_id} not found") from None
    found = assessment_selectors.assessments_by_ids([session.assessment_id]) if session.assessment_id else []
    assessment = found[0] if found else None  # None: no assessment, or it was deleted
    context = {
        **site.each_context(request),
        "title": session.title or "Chat session",
        "subtitle": None,
        "session": session,
        "owner": usernames([session.owner_id]).get(session.owner_id, session.owner_id),
        "messages_page": messages.items,
        "next_url": f"?cursor={messages.next_cursor}" if messages.next_cursor else None,
        "list_url": reverse(f"{site.name}:chat_session_list"),
        "assessment": assessment,
        "assessment_url": (
            reverse(f"{site.name}:assessments_assessment_page", args=[session.assessment_id])
            if session.assessment_id
            else None
        ),
    }
    return TemplateResponse(request, "admin/chat/session_page.html", context)


admin.site.register_pages(admin_urls, ADMIN_ENTRIES)
