"""Admin pages for evidence documents: list (index queries), page, file download."""

from asgiref.sync import async_to_sync
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.dateformat import format as date_format

from tra.admin import choice_filter, filter_url, list_context, log_action, owner_id_for, page_size, usernames
from tra.auth import actor_for
from tra.errors import ApplicationError, InvalidCursor, NotFound

from . import selectors, services
from .models import DocumentStatus

ADMIN_ENTRIES = [("Documents", "documents_document_list")]


def admin_urls(site):
    return [
        ("documents/", lambda request: document_list(site, request), "documents_document_list"),
        (
            "documents/<str:document_id>/",
            lambda request, document_id: document_page(site, request, document_id),
            "documents_document_page",
        ),
        (
            "documents/<str:document_id>/download/",
            lambda request, document_id: document_download(request, document_id),
            "documents_document_download",
        ),
    ]


def document_list(site, request):
    actor = actor_for(request.user)
    statuses = [s.value for s in DocumentStatus]
    status = request.GET.get("status") if request.GET.get("status") in statuses else None
    owner = request.GET.get("owner", "").strip()
    try:
        page = selectors.document_list_for_staff(
            actor=actor,
            status=status,
            owner_id=owner_id_for(owner),
            limit=page_size(request),
            cursor=request.GET.get("cursor"),
        )
    except InvalidCursor:
        return HttpResponseRedirect(filter_url(request))
    names = usernames(item.owner_id for item in page.items)
    rows = [
        {
            "url": reverse(f"{site.name}:documents_document_page", args=[item.document_id]),
            "cells": [
                item.filename,
                item.status,
                names.get(item.owner_id, item.owner_id),
                f"{(item.size_bytes or 0) / 1024:.0f} KB",
                date_format(item.updated_at, "Y-m-d H:i"),
            ],
        }
        for item in page.items
    ]
    context = list_context(
        site,
        request,
        title="Documents",
        columns=["File", "Status", "Owner", "Size", "Updated"],
        rows=rows,
        next_cursor=page.next_cursor,
        filters=[choice_filter(request, title="status", parameter="status", choices=statuses, current=status)],
        search={
            "q": "",
            "owner": owner,
            "placeholder": None,
            "hidden": [(name, request.GET[name]) for name in ("status", "size") if request.GET.get(name)],
        },
    )
    return TemplateResponse(request, "admin/tra/dynamo_list.html", context)


def document_page(site, request, document_id: str):
    actor = actor_for(request.user)
    if request.method == "POST":
        return _regenerate(site, request, actor, document_id)
    try:
        document = selectors.document_get_for_staff(actor=actor, document_id=document_id)
    except NotFound:
        raise Http404(f"document {document_id} not found") from None
    assessments = selectors.document_assessments_for_staff(actor=actor, document_id=document_id)
    context = {
        **site.each_context(request),
        "title": document.filename,
        "subtitle": None,
        "document": document,
        "owner": usernames([document.owner_id]).get(document.owner_id, document.owner_id),
        "assessments": [
            (item, reverse(f"{site.name}:assessments_assessment_page", args=[item.assessment_id]))
            for item in assessments
        ],
        "download_url": reverse(f"{site.name}:documents_document_download", args=[document_id]),
        "can_regenerate": actor.is_reviewer,
        "list_url": reverse(f"{site.name}:documents_document_list"),
    }
    return TemplateResponse(request, "admin/documents/document_page.html", context)


def document_download(request, document_id: str):
    try:
        document = selectors.document_get_for_staff(actor=actor_for(request.user), document_id=document_id)
    except NotFound:
        raise Http404(f"document {document_id} not found") from None
    handle = default_storage.open(document.storage_key, "rb")
    return FileResponse(handle, as_attachment=True, filename=document.filename, content_type=document.content_type)


def _regenerate(site, request, actor, document_id: str):
    if not actor.is_reviewer:
        raise PermissionDenied("regenerating a summary needs the “Can review assessments” permission")
    page_url = reverse(f"{site.name}:documents_document_page", args=[document_id])
    try:
        document, summary = async_to_sync(services.document_resummarize_for_reviewer)(
            actor=actor, document_id=document_id
        )
    except NotFound:
        raise Http404(f"document {document_id} not found") from None
    except ApplicationError as error:
        messages.error(request, error.message)
        return HttpResponseRedirect(page_url)
    log_action(
        request,
        object_id=document_id,
        object_repr=document.filename,
        message=f"Summary regenerated ({summary.provider})",
    )
    messages.success(request, f"Summary regenerated ({summary.provider}).")
    return HttpResponseRedirect(page_url)
