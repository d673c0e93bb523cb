"""TRA's admin site: Django's admin plus pages for the DynamoDB entities.

The entities are PynamoDB items, not ORM models, so each app's admin.py registers
its views (`admin_urls(site)`) and index entries with `site.register_pages()` when
the admin autodiscovers it; this site knows no app by name and mounts the views
under /admin/dynamo/ through `get_urls()`, wraps them in `admin_view()` (staff
only) and lists them on the index beside the ORM apps. The views render the
admin's templates with `each_context()`, the way django-rq adds its pages.
Their change lists are `DynamoChangeList`s (tra/admin_changelist.py).
Sign-in attempts are throttled like the API's (tra/ratelimit.py): 429 with Retry-After.
"""

from collections.abc import Callable, Sequence

from django.contrib import admin
from django.http import HttpResponse
from django.urls import NoReverseMatch, path, reverse

from tra import ratelimit
from tra.errors import RateLimited
from tra.observability.dashboard import dashboard as dashboard_view

# An app's pages: (site) -> [(route, view, url name)], and its index entries: [(label, url name)].
PageUrls = Callable[[admin.AdminSite], Sequence[tuple[str, Callable, str]]]


class TraAdminSite(admin.AdminSite):
    site_header = "TRA administration"
    site_title = "TRA admin"
    index_title = "Reviews and operations"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pages: list[tuple[PageUrls, Sequence[tuple[str, str]]]] = []

    def register_pages(self, urls: PageUrls, entries: Sequence[tuple[str, str]]) -> None:
        """Called from an app's admin.py (in INSTALLED_APPS order, as the admin autodiscovers)."""
        self._pages.append((urls, entries))

    def login(self, request, extra_context=None):
        if request.method == "POST":
            try:
                ratelimit.charge_login_sync(request.POST.get("username", ""), ratelimit.client_address(request))
            except RateLimited as error:
                response = HttpResponse(error.message + "\n", status=429, content_type="text/plain; charset=utf-8")
                response["Retry-After"] = str(error.retry_after)
                return response
        return super().login(request, extra_context)

    def page_urls(self) -> list[tuple[str, Callable, str]]:
        """Every registered page as (route under /admin/, view, url name)."""
        return [(f"dynamo/{route}", view, name) for urls, _entries in self._pages for route, view, name in urls(self)]

    def get_urls(self):
        dashboard = self.admin_view(lambda request: dashboard_view(self, request))
        extra = [path("dashboard/", dashboard, name="tra_dashboard")]
        extra += [path(route, self.admin_view(view), name=name) for route, view, name in self.page_urls()]
        return extra + super().get_urls()

    def get_app_list(self, request, app_label=None):
        app_list = super().get_app_list(request, app_label)
        if app_label is not None:
            return app_list
        entries = []
        for _urls, page_entries in self._pages:
            for name, url_name in page_entries:
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


def label(value: str | None) -> str:
    """A stored enum value as people read it: `changes_requested` -> "Changes requested"."""
    return (value or "").replace("_", " ").capitalize()


def usernames(user_ids) -> dict[str, str]:
    """Owner ids (Django user pks as strings) to usernames, one ORM query."""
    from django.contrib.auth import get_user_model

    ids = [int(i) for i in set(user_ids) if str(i).isdigit()]
    return {str(user.pk): user.get_username() for user in get_user_model().objects.filter(pk__in=ids)}


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
