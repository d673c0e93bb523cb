"""TRA's admin site: Django's admin plus pages for the DynamoDB entities.

The entities are PynamoDB items, not ORM models, so each app's admin.py offers
views (`admin_urls()`) and index entries (`ADMIN_ENTRIES`); this site mounts them
under /admin/dynamo/ through `get_urls()`, wraps them in `admin_view()` (staff
only) and lists them on the index beside the ORM apps. The views render the
admin's templates with `each_context()`, the way django-rq adds its pages.
"""

from importlib import import_module

from django.contrib import admin
from django.urls import NoReverseMatch, path, reverse

DYNAMO_APPS = ("assessments", "documents", "chat")
PAGE_SIZES = (25, 50, 100)


class TraAdminSite(admin.AdminSite):
    site_header = "TRA administration"
    site_title = "TRA admin"
    index_title = "Reviews and operations"

    def dynamo_admin_modules(self):
        return [import_module(f"{app}.admin") for app in DYNAMO_APPS]

    def get_urls(self):
        from tra.dashboard import dashboard

        extra = [path("dashboard/", self.admin_view(lambda request: dashboard(self, request)), name="tra_dashboard")]
        for module in self.dynamo_admin_modules():
            for route, view, name in module.admin_urls(self):
                extra.append(path(f"dynamo/{route}", self.admin_view(view), name=name))
        return extra + super().get_urls()

    def get_app_list(self, request, app_label=None):
        app_list = super().get_app_list(request, app_label)
        if app_label is not None:
            return app_list
        entries = []
        for module in self.dynamo_admin_modules():
            for name, url_name in module.ADMIN_ENTRIES:
                try:
                    url = reverse(f"{self.name}:{url_name}")
                except NoReverseMatch:
                    continue
                entry = {"name": name, "object_name": name, "admin_url": url, "add_url": None, "view_only": True}
                entries.append({**entry, "perms": {}})
        dashboard = {"name": "Usage and cost", "object_name": "Dashboard", "add_url": None, "view_only": True}
        entries.append({**dashboard, "admin_url": reverse(f"{self.name}:tra_dashboard"), "perms": {}})
        if entries:
            first = entries[0]["admin_url"]
            app_list.insert(
                0, {"name": "Reviews (DynamoDB)", "app_label": "dynamo", "app_url": first, "models": entries}
            )
        return app_list


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
        label = value.replace("_", " ")
        options.append({"label": label, "url": filter_url(request, **{parameter: value}), "selected": value == current})
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


def usernames(user_ids) -> dict[str, str]:
    """Owner ids (Django user pks as strings) to usernames, one ORM query."""
    from django.contrib.auth import get_user_model

    ids = [int(i) for i in set(user_ids) if str(i).isdigit()]
    return {str(user.pk): user.get_username() for user in get_user_model().objects.filter(pk__in=ids)}


def owner_id_for(username: str) -> str | None:
    """The user id for an owner filter; an unknown username matches nobody ("-")."""
    from django.contrib.auth import get_user_model

    if not username:
        return None
    user = get_user_model().objects.filter(username=username).first()
    return str(user.pk) if user else "-"


def log_action(request, *, object_id: str, object_repr: str, message: str) -> None:
    """Record a reviewer's action in Django's admin log. The entities are not ORM models,
    so entries hang off the `tra.Reviewing` content type, with the item's id."""
    from django.contrib.admin.models import CHANGE, LogEntry
    from django.contrib.contenttypes.models import ContentType

    from tra.models import Reviewing

    LogEntry.objects.create(
        user_id=request.user.pk,
        content_type=ContentType.objects.get_for_model(Reviewing),
        object_id=object_id,
        object_repr=object_repr[:200],
        action_flag=CHANGE,
        change_message=message[:2000],
    )
