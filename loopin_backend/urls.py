"""Django's URLs: the admin and the dashboard. The API is FastAPI, mounted in asgi.py."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("dashboard/", include("analytics.dashboard.urls", namespace="dashboard")),
]
