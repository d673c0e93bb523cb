"""Admin pages for evidence documents: list (index queries), page, file download.

Apps above documents add sections to the document page through `register_page_panel`
(assessments: the assessments using the document), so documents knows none of them."""

from collections.abc import Callable
from dataclasses import dataclass

from asgiref.sync import async_to_sync
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.dateformat import format as date_format

from tra.admin import label, log_action, usernames
from tra.admin_changelist import DynamoChangeList
from tra.errors import ApplicationError, NotFound
from tra.http.auth import actor_for

from . import selectors, services
from .models import DocumentStatus

ADMIN_ENTRIES = [("Documents", "documents_document_list")]


@dataclass(frozen=True)
class PagePanel:
    """A section of the document page: a titled table of links."""

    title: str
    rows: list[tuple[str, str, str]]  # (link text, link url, detail)
    empty: str  # shown when there are no rows


# Called as panel(site, actor, document) for every document page, in registration order.
PAGE_PANELS: list[Callable[..., PagePanel]] = []


def register_page_panel(panel: Callable[..., PagePanel]) -> None:
    """Add a section to the document page; apps call this from AppConfig.ready()."""
    if panel not in PAGE_PANELS:
        PAGE_PANELS.append(panel)


def admin_urls(site):
    return [
        ("documents/", lambda request: document_list.view(site, request), "documents_document_list"),
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


class DocumentChangeList(DynamoChangeList):
    title = "Documents"
    columns = ("File", "Status", "Owner", "Size", "Updated")
    selector = staticmethod(selectors.document_list_for_staff)
    item_url_name = "documents_document_page"
    filter_parameter = "status"
    filter_choices = tuple(status.value for status in DocumentStatus)

    def item_id(self, item) -> str:
        return item.document_id

    def cells(self, item, owner: str) -> list:
        size = filesizeformat(item.size_bytes or 0)  # "56 bytes", "1.2 MB"
        return [item.filename, label(item.status), owner, size, date_format(item.updated_at, "Y-m-d H:i")]


document_list = DocumentChangeList()


def document_page(site, request, document_id: str):
    actor = actor_for(request.user)
    if request.method == "POST":
        return _regenerate(site, request, actor, document_id)
    try:
        document = selectors.document_get_for_staff(actor=actor, document_id=document_id)
    except NotFound:
        raise Http404(f"document {document_id} not found") from None
    context = {
        **site.each_context(request),
        "title": document.filename,
        "subtitle": None,
        "document": document,
        "owner": usernames([document.owner_id]).get(document.owner_id, document.owner_id),
        "panels": [panel(site, actor, document) for panel in PAGE_PANELS],
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


admin.site.register_pages(admin_urls, ADMIN_ENTRIES)
