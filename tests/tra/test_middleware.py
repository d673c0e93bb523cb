"""tra.http.middleware behaves as Django's middleware it replaces, and its deploy checks fire as Django's.

The same browser and API flows run through Django's async request path twice, once with Django's
middleware and once with TRA's, and must give the same statuses, security headers and cookies
(their attributes; values are random): HTTPS redirect and HSTS, APPEND_SLASH, CSRF refusals and
cookie rotation, sign-in (a session saved), an admin message shown after a redirect (messages
stored in the session), sign-out (the session cookie deleted). Then each deploy misconfiguration
gives the same warnings with either stack.
"""

import re

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.core import checks
from django.test import AsyncClient, override_settings

from tra.http import checks as middleware_checks

pytestmark = [pytest.mark.usefixtures("dynamo_table", "aws_clients")]

DJANGO = [
    "django.middleware.security.SecurityMiddleware",
    "tra.http.staticfiles.StaticFilesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
HEADERS = (
    "Location",
    "Vary",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
    "Strict-Transport-Security",
)


TRA = [path if "staticfiles" in path else f"tra.http.middleware.{path.rsplit('.', 1)[1]}" for path in DJANGO]


def test_the_configured_stack_is_tras_in_djangos_order(settings):
    """Each of TRA's classes stands where Django's would, so the comparison below is the real one."""
    assert settings.MIDDLEWARE == TRA


def _seen(response, text: str = "") -> tuple:
    """What a client sees of a response, random values aside."""
    cookies = {
        name: (
            morsel["max-age"],
            morsel["path"],
            morsel["secure"],
            morsel["httponly"],
            morsel["samesite"],
            not morsel.value,
        )
        for name, morsel in response.cookies.items()
    }
    headers = {name: response.headers.get(name) for name in HEADERS}
    if headers["Location"]:
        headers["Location"] = re.sub(r"/\d+/", "/<id>/", headers["Location"])  # the new user's id
    return response.status_code, headers, cookies, bool(text) and text in response.content.decode()


PASSWORD = "a-long-password-7"


async def _browser_flow() -> list:
    client = AsyncClient(enforce_csrf_checks=True)
    seen = [_seen(await client.get("/admin"))]  # APPEND_SLASH
    login = await client.get("/admin/login/")
    seen.append(_seen(login))
    credentials = {"username": "ada", "password": "ada-password-123"}
    seen.append(_seen(await client.post("/admin/login/", credentials)))  # no CSRF token
    csrf = client.cookies["csrftoken"].value
    seen.append(_seen(await client.post("/admin/login/", {**credentials, "csrfmiddlewaretoken": csrf})))
    seen.append(_seen(await client.get("/admin/")))
    csrf = client.cookies["csrftoken"].value  # rotated at sign-in
    added = await client.post(
        "/admin/auth/user/add/",
        {"username": "bob", "password1": PASSWORD, "password2": PASSWORD, "csrfmiddlewaretoken": csrf},
    )
    seen.append(_seen(added))
    seen.append(_seen(await client.get(added["Location"]), "was added successfully"))  # the message, from the session
    seen.append(_seen(await client.get("/admin/"), "was added successfully"))  # shown once
    seen.append(_seen(await client.get("/api/auth/me")))
    seen.append(_seen(await client.post("/api/assessments", data="{}", content_type="application/json")))  # no header
    seen.append(_seen(await client.post("/admin/logout/", {"csrfmiddlewaretoken": csrf})))
    seen.append(_seen(await client.get("/api/auth/me")))
    return seen


async def _https_flow() -> list:
    client = AsyncClient()
    return [_seen(await client.get("/api/health")), _seen(await client.get("/api/health", secure=True))]


@pytest.mark.django_db(transaction=True)
async def test_tras_middleware_answers_as_djangos(settings):
    await sync_to_async(get_user_model().objects.create_superuser)("ada", password="ada-password-123")
    settings.MIDDLEWARE = DJANGO
    django_seen = await _browser_flow()
    await sync_to_async(get_user_model().objects.filter(username="bob").delete)()
    settings.MIDDLEWARE = TRA
    tra_seen = await _browser_flow()
    assert tra_seen == django_seen

    statuses = [status for status, *_ in tra_seen]
    assert statuses == [301, 200, 403, 302, 200, 302, 200, 200, 200, 403, 200, 401]
    assert tra_seen[1][2]["csrftoken"][0] != ""  # the login form set the CSRF cookie
    assert "sessionid" in tra_seen[3][2]  # signing in saved the session
    assert tra_seen[4][1]["Vary"] == "Cookie" and tra_seen[4][1]["X-Frame-Options"] == "DENY"
    assert tra_seen[6][3] and not tra_seen[7][3]  # the message shown once
    assert tra_seen[10][2]["sessionid"][-1]  # signing out deleted the session cookie

    settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS = True, 3600
    settings.MIDDLEWARE = DJANGO
    django_https = await _https_flow()
    settings.MIDDLEWARE = TRA
    tra_https = await _https_flow()
    assert tra_https == django_https
    assert tra_https[0][0] == 301 and tra_https[0][1]["Location"].startswith("https://")
    assert tra_https[1][1]["Strict-Transport-Security"] == "max-age=3600"


# --- deploy checks ------------------------------------------------------------------------------

SECURE = {
    "DEBUG": False,
    "ALLOWED_HOSTS": ["tra.example.com"],
    "SECURE_HSTS_SECONDS": 31536000,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    "SECURE_HSTS_PRELOAD": True,
    "SECURE_CONTENT_TYPE_NOSNIFF": True,
    "SECURE_SSL_REDIRECT": True,
    "SECURE_REFERRER_POLICY": "same-origin",
    "SECURE_CROSS_ORIGIN_OPENER_POLICY": "same-origin",
    "SESSION_COOKIE_SECURE": True,
    "SESSION_COOKIE_HTTPONLY": True,
    "CSRF_COOKIE_SECURE": True,
    "X_FRAME_OPTIONS": "DENY",
}
# Django's "middleware missing" warnings, silenced in settings, re-issued by tra.http.checks; and the
# session cookie warnings, which Django gives for the app alone (W010, W013) when its middleware is
# not listed by dotted path, and for app and middleware together (W012, W015) when it is.
DJANGO_ID = {
    "tra.W011": "security.W001",
    "tra.W012": "security.W002",
    "tra.W013": "security.W003",
    "security.W010": "security.W012",
    "security.W013": "security.W015",
}
MISCONFIGURED = [
    ({"SECURE_HSTS_SECONDS": 0}, "security.W004"),
    ({"SECURE_HSTS_INCLUDE_SUBDOMAINS": False}, "security.W005"),
    ({"SECURE_HSTS_PRELOAD": False}, "security.W021"),
    ({"SECURE_CONTENT_TYPE_NOSNIFF": False}, "security.W006"),
    ({"SECURE_SSL_REDIRECT": False}, "security.W008"),
    ({"SECURE_REFERRER_POLICY": None}, "security.W022"),
    ({"SECURE_REFERRER_POLICY": "nonsense"}, "security.E023"),
    ({"SECURE_CROSS_ORIGIN_OPENER_POLICY": "nonsense"}, "security.E024"),
    ({"X_FRAME_OPTIONS": "SAMEORIGIN"}, "security.W019"),
    ({"CSRF_COOKIE_SECURE": False}, "security.W016"),
    ({"SESSION_COOKIE_SECURE": False}, "security.W012"),
    ({"SESSION_COOKIE_HTTPONLY": False}, "security.W015"),
    ({"DEBUG": True}, "security.W018"),
]
MISSING = [
    ("SecurityMiddleware", "security.W001"),
    ("XFrameOptionsMiddleware", "security.W002"),
    ("CsrfViewMiddleware", "security.W003"),
]


def _deploy_warnings(stack: list, **changes) -> set:
    """Security check ids of `manage.py check --deploy` with `stack`, as Django's stack would name them."""
    silenced = [] if stack[0].startswith("django.") else list(middleware_checks.SILENCED)
    with override_settings(**{**SECURE, **changes, "MIDDLEWARE": stack, "SILENCED_SYSTEM_CHECKS": silenced}):
        found = checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])
        shown = [message for message in found if not message.is_silenced()]  # as `manage.py check` filters
    ours = [message for message in shown if message.id.startswith(("security.", "tra.W01"))]
    return {DJANGO_ID.get(message.id, message.id) for message in ours}


def test_settings_silence_exactly_what_the_replacement_checks_re_issue(settings):
    assert sorted(settings.SILENCED_SYSTEM_CHECKS) == sorted(middleware_checks.SILENCED)


def test_a_secure_configuration_passes_with_either_stack():
    assert _deploy_warnings(DJANGO) == _deploy_warnings(TRA) == {"security.W009"}  # the tests' short secret key


@pytest.mark.parametrize(("changes", "expected"), MISCONFIGURED, ids=[expected for _, expected in MISCONFIGURED])
def test_each_misconfiguration_warns_with_tras_stack_as_with_djangos(changes, expected):
    django_warnings = _deploy_warnings(DJANGO, **changes)
    assert expected in django_warnings
    assert _deploy_warnings(TRA, **changes) == django_warnings


@pytest.mark.parametrize(("name", "expected"), MISSING, ids=[name for name, _ in MISSING])
def test_a_missing_middleware_warns_with_tras_stack_as_with_djangos(name, expected):
    django_warnings = _deploy_warnings([path for path in DJANGO if not path.endswith(name)])
    assert expected in django_warnings
    assert _deploy_warnings([path for path in TRA if not path.endswith(name)]) == django_warnings
