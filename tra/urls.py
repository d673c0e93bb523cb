from django.contrib import admin
from django.urls import path

from tra.api import api
from tra.observability.metrics import metrics_view

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("metrics", metrics_view, name="metrics"),
]
