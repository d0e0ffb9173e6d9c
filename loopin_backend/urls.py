"""Django's URLs: the admin (and later the dashboard). The API is FastAPI, mounted in asgi.py."""

from django.contrib import admin
from django.urls import path

urlpatterns = [
    path("admin/", admin.site.urls),
]
