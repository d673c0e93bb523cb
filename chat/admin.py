"""Admin pages for chat sessions: list (index queries) and the conversation with its routing."""

from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.dateformat import format as date_format

from tra.admin import filter_url, list_context, owner_id_for, page_size, usernames
from tra.auth import actor_for
from tra.errors import InvalidCursor, NotFound

from . import selectors

ADMIN_ENTRIES = [("Chat sessions", "chat_session_list")]
MESSAGES_PER_PAGE = 100


def admin_urls(site):
    return [
        ("chat/", lambda request: session_list(site, request), "chat_session_list"),
        (
            "chat/<str:session_id>/",
            lambda request, session_id: session_page(site, request, session_id),
            "chat_session_page",
        ),
    ]


def session_list(site, request):
    actor = actor_for(request.user)
    owner = request.GET.get("owner", "").strip()
    try:
        page = selectors.session_list_for_staff(
            actor=actor, owner_id=owner_id_for(owner), limit=page_size(request), cursor=request.GET.get("cursor")
        )
    except InvalidCursor:
        return HttpResponseRedirect(filter_url(request))
    names = usernames(item.owner_id for item in page.items)
    rows = [
        {
            "url": reverse(f"{site.name}:chat_session_page", args=[item.session_id]),
            "cells": [
                item.title or "(untitled)",
                names.get(item.owner_id, item.owner_id),
                item.assessment_id or "",
                date_format(item.updated_at, "Y-m-d H:i"),
            ],
        }
        for item in page.items
    ]
    context = list_context(
        site,
        request,
        title="Chat sessions",
        columns=["Title", "Owner", "Assessment", "Updated"],
        rows=rows,
        next_cursor=page.next_cursor,
        search={
            "q": "",
            "owner": owner,
            "placeholder": None,
            "hidden": [("size", request.GET["size"])] if request.GET.get("size") else [],
        },
    )
    return TemplateResponse(request, "admin/tra/dynamo_list.html", context)


def session_page(site, request, session_id: str):
    actor = actor_for(request.user)
    try:
        session = selectors.session_get_for_staff(actor=actor, session_id=session_id)
        messages = selectors.messages_page(
            session=session, newest_first=False, limit=MESSAGES_PER_PAGE, cursor=request.GET.get("cursor")
        )
    except (NotFound, InvalidCursor):
        raise Http404(f"chat session {session_id} not found") from None
    context = {
        **site.each_context(request),
        "title": session.title or "Chat session",
        "subtitle": None,
        "session": session,
        "owner": usernames([session.owner_id]).get(session.owner_id, session.owner_id),
        "messages_page": messages.items,
        "next_url": f"?cursor={messages.next_cursor}" if messages.next_cursor else None,
        "list_url": reverse(f"{site.name}:chat_session_list"),
    }
    return TemplateResponse(request, "admin/chat/session_page.html", context)
