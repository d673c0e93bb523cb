"""Django's deploy checks for the middleware of tra.http.middleware.

Django's security checks find its middleware by dotted path in MIDDLEWARE
("django.middleware.security.SecurityMiddleware" in settings.MIDDLEWARE): with
tra.http.middleware's subclasses in its place, Django would warn that the middleware
is missing (security.W001, W002, W003) and skip every check that depends on it
(HSTS, SSL redirect, nosniff, Referrer-Policy, COOP, X-Frame-Options DENY, CSRF cookie
secure). So settings.SILENCED_SYSTEM_CHECKS names those three warnings, and this check
runs Django's own check functions as if each replacement were the class it extends:

- "middleware missing" is Django's warning, re-issued as tra.W011-W013 (a silenced id
  would hide it), when neither Django's class nor TRA's is in MIDDLEWARE;
- the checks that depend on a middleware run, with Django's ids and messages, when
  TRA's class stands in for Django's (Django runs them itself when its class is there).
"""

from dataclasses import dataclass

from django.conf import settings
from django.core import checks
from django.core.checks.security import base, csrf
from django.test.utils import override_settings


@dataclass(frozen=True)
class Replaced:
    django_path: str
    tra_path: str
    presence: object  # Django's check that the middleware is there (silenced in settings)
    presence_id: str  # the id its warning is re-issued under
    dependent: tuple  # Django's checks that only run when its middleware is there


REPLACED = (
    Replaced(
        "django.middleware.security.SecurityMiddleware",
        "tra.http.middleware.SecurityMiddleware",
        base.check_security_middleware,
        "tra.W011",
        (
            base.check_sts,
            base.check_sts_include_subdomains,
            base.check_sts_preload,
            base.check_content_type_nosniff,
            base.check_ssl_redirect,
            base.check_referrer_policy,
            base.check_cross_origin_opener_policy,
        ),
    ),
    Replaced(
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
        "tra.http.middleware.XFrameOptionsMiddleware",
        base.check_xframe_options_middleware,
        "tra.W012",
        (base.check_xframe_deny,),
    ),
    Replaced(
        "django.middleware.csrf.CsrfViewMiddleware",
        "tra.http.middleware.CsrfViewMiddleware",
        csrf.check_csrf_middleware,
        "tra.W013",
        (csrf.check_csrf_cookie_secure,),
    ),
)
# Django's ids that settings.SILENCED_SYSTEM_CHECKS must name for this module's checks to stand in.
SILENCED = ("security.W001", "security.W002", "security.W003")


def _as_django(middleware: list[str]) -> list[str]:
    """MIDDLEWARE with each of TRA's replacements written as the Django class it extends."""
    paths = {replaced.tra_path: replaced.django_path for replaced in REPLACED}
    return [paths.get(path, path) for path in middleware]


def _reissued(message: checks.CheckMessage, check_id: str) -> checks.CheckMessage:
    return type(message)(message.msg, hint=message.hint, obj=message.obj, id=check_id)


@checks.register(checks.Tags.security, deploy=True)
def check_replaced_middleware(app_configs, **kwargs):
    configured = list(settings.MIDDLEWARE)
    translated = _as_django(configured)
    messages = []
    with override_settings(MIDDLEWARE=translated):
        for replaced in REPLACED:
            messages += [_reissued(message, replaced.presence_id) for message in replaced.presence(app_configs)]
            if replaced.tra_path in configured and replaced.django_path not in configured:
                for check in replaced.dependent:
                    messages += check(app_configs)
    return messages
