from django.contrib.admin.apps import AdminConfig


class TraAdminConfig(AdminConfig):
    """Django's admin with TRA's site (tra/admin.py) as the default site."""

    default_site = "tra.admin.TraAdminSite"
