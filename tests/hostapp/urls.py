"""The host's Django URLs (tests use them with `@pytest.mark.urls("tests.hostapp.urls")`)."""

from django.contrib import admin
from django.urls import include, path, re_path

from tests.hostapp import views

listing_patterns = [
    path("<int:listing_id>/", views.listing_page, name="listing-page"),
    path("<int:listing_id>/gone/", views.missing_listing, name="listing-gone"),
]

api_patterns = [
    path("listings/<int:listing_id>/", views.listing_json, name="listing-json"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("events/", include(listing_patterns)),
    path("api/v1/", include(api_patterns)),
    re_path(r"^legacy/(?P<slug>[a-z]+(?:-[a-z]+)*)/$", views.legacy_page, name="legacy"),
    path("crash/", views.crash, name="crash"),
    path("me/", views.whoami, name="me"),
    path("health/", views.health, name="health"),
    path("admin/", admin.site.urls),
]
