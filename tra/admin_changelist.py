"""The admin's change lists of DynamoDB items (admin/tra/dynamo_list.html).

Django's ChangeList pages a QuerySet by number; a DynamoDB list is a Query read one page
at a time, so these lists page by cursor (the cursors of earlier pages travel in `prev`
for the "Previous" link) and never count. An app's admin.py declares one subclass of
`DynamoChangeList` per list, the way a ModelAdmin declares list_display and list_filter:
the staff selector that reads a page, the columns, an optional choice filter and title
search. Every list also filters by owner username and offers PAGE_SIZES per page.
"""

from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from tra.admin import label, usernames
from tra.dynamo.pagination import Page
from tra.errors import InvalidCursor
from tra.http.auth import actor_for

PAGE_SIZES = (25, 50, 100)


class DynamoChangeList:
    """One change list: GET parameters -> a page of the staff selector -> the admin's change list markup."""

    title: str
    columns: tuple[str, ...]
    # A staff list selector, called with keyword arguments: actor, owner_id, limit, cursor, plus
    # `<filter_parameter>` when the list has a choice filter and `query` when it has a search box.
    selector: Callable[..., Page]
    item_url_name: str  # the admin URL name of one item's page; takes the id from item_id()
    filter_parameter: str | None = None  # a GET parameter taking one of filter_choices (also the filter's title)
    filter_choices: tuple[str, ...] = ()
    search_placeholder: str | None = None  # set: a title-word search box (GET q) beside the owner box

    def item_id(self, item) -> str:
        raise NotImplementedError

    def cells(self, item, owner: str) -> list:
        """The row's cells, given the owner's username; the first links to the item's page."""
        raise NotImplementedError

    def view(self, site, request):
        actor = actor_for(request.user)
        owner = request.GET.get("owner", "").strip()
        filters = {"owner_id": owner_id_for(owner)}
        choice = None
        if self.filter_parameter:
            choice = request.GET.get(self.filter_parameter)
            choice = choice if choice in self.filter_choices else None
            filters[self.filter_parameter] = choice
        query = None
        if self.search_placeholder:
            query = request.GET.get("q", "").strip() or None
            filters["query"] = query
        try:
            page = self.selector(actor=actor, limit=page_size(request), cursor=request.GET.get("cursor"), **filters)
        except InvalidCursor:
            return HttpResponseRedirect(filter_url(request))
        names = usernames(item.owner_id for item in page.items)
        rows = [
            {
                "url": reverse(f"{site.name}:{self.item_url_name}", args=[self.item_id(item)]),
                "cells": self.cells(item, names.get(item.owner_id, item.owner_id)),
            }
            for item in page.items
        ]
        filter_boxes = []
        if self.filter_parameter:
            filter_boxes.append(
                choice_filter(
                    request,
                    title=self.filter_parameter,
                    parameter=self.filter_parameter,
                    choices=self.filter_choices,
                    current=choice,
                )
            )
        kept = [name for name in (self.filter_parameter, "size") if name]
        context = list_context(
            site,
            request,
            title=self.title,
            columns=list(self.columns),
            rows=rows,
            next_cursor=page.next_cursor,
            filters=filter_boxes,
            search={
                "q": query or "",
                "owner": owner,
                "placeholder": self.search_placeholder,
                "hidden": [(name, request.GET[name]) for name in kept if request.GET.get(name)],
            },
        )
        return TemplateResponse(request, "admin/tra/dynamo_list.html", context)


def page_size(request) -> int:
    try:
        size = int(request.GET.get("size", PAGE_SIZES[0]))
    except ValueError:
        return PAGE_SIZES[0]
    return size if size in PAGE_SIZES else PAGE_SIZES[0]


def pager(request, next_cursor: str | None) -> dict:
    """Next/previous links for cursor pages: the cursors of earlier pages travel in `prev`."""
    params = request.GET.copy()
    trail = params.getlist("prev")
    current = params.get("cursor")
    links = {"next_url": None, "previous_url": None, "page_number": len(trail) + (1 if current else 0) + 1}
    if next_cursor:
        forward = params.copy()
        forward.setlist("prev", [*trail, current] if current else trail)
        forward["cursor"] = next_cursor
        forward.setlist("prev", [c for c in forward.getlist("prev") if c])
        links["next_url"] = "?" + forward.urlencode()
    if current:
        back = params.copy()
        previous = trail[-1] if trail else None
        back.setlist("prev", trail[:-1])
        if previous:
            back["cursor"] = previous
        else:
            back.pop("cursor", None)
        links["previous_url"] = "?" + back.urlencode()
    return links


def filter_url(request, **changes) -> str:
    """The current change list URL with some filters changed (and paging reset)."""
    params = request.GET.copy()
    for key in ("cursor", "prev"):
        params.pop(key, None)
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    return "?" + params.urlencode()


def choice_filter(request, *, title: str, parameter: str, choices, current: str | None) -> dict:
    """A filter box: "All" plus one option per choice, each a link that keeps the other filters."""
    options = [{"label": "All", "url": filter_url(request, **{parameter: None}), "selected": current is None}]
    for value in choices:
        url = filter_url(request, **{parameter: value})
        options.append({"label": label(value), "url": url, "selected": value == current})
    return {"title": title, "options": options}


def list_context(site, request, *, title: str, columns, rows, next_cursor, filters=(), search=None) -> dict:
    """Everything admin/tra/dynamo_list.html needs."""
    size = page_size(request)
    return {
        **site.each_context(request),
        "title": title,
        "subtitle": None,
        "columns": columns,
        "rows": rows,
        "filters": list(filters),
        "search": search,
        "sizes": [{"value": s, "url": filter_url(request, size=s), "selected": s == size} for s in PAGE_SIZES],
        **pager(request, next_cursor),
    }


def owner_id_for(username: str) -> str | None:
    """The user id for an owner filter; an unknown username matches nobody ("-")."""
    if not username:
        return None
    user = get_user_model().objects.filter(username=username).first()
    return str(user.pk) if user else "-"
