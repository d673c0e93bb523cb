from django.apps import AppConfig


class TraConfig(AppConfig):
    name = "tra"
    verbose_name = "TRA platform"
