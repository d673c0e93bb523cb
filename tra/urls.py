from django.contrib import admin
from django.urls import path

from tra.api import api
from tra.http.home import home
from tra.observability.metrics import metrics_view

urlpatterns = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("metrics", metrics_view, name="metrics"),
]
