from django.apps import AppConfig
from django.core import checks

from tra.observability.metrics import check_metrics_token


class TraConfig(AppConfig):
    name = "tra"
    verbose_name = "TRA platform"

    def ready(self):
        checks.register(check_metrics_token, checks.Tags.security)
        from tra.http import checks as _middleware_checks  # noqa: F401, PLC0415 - registers its deploy check
