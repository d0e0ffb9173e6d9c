"""/dashboard/ URLs (included from loopin_backend/urls.py under the `dashboard` namespace)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path, re_path

from analytics.dashboard.views.alerts import alert_action
from analytics.dashboard.views.hosts import host_list_page, host_page
from analytics.dashboard.views.insights import insight_action
from analytics.dashboard.views.overview import overview_page
from analytics.dashboard.views.people import people_page
from analytics.dashboard.views.revenue import revenue_page
from analytics.dashboard.views.trends import trends_page
from analytics.security.logins import LoginForm

app_name = "dashboard"

urlpatterns = [
    path("", overview_page, name="overview"),
    path("trends/", trends_page, name="trends"),
    path("revenue/", revenue_page, name="revenue"),
    path("people/", people_page, name="people"),
    path("hosts/", host_list_page, name="hosts"),
    path("hosts/<str:host_id>/", host_page, name="host"),
    re_path(r"^alerts/(?P<alert_id>[0-9]{1,18})/(?P<action>acknowledge|resolve)/$", alert_action, name="alert-action"),
    re_path(
        r"^insights/(?P<insight_id>[0-9]{1,18})/(?P<status>validated|dismissed|done)/$",
        insight_action,
        name="insight-action",
    ),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="dashboard/login.html", authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(next_page="dashboard:login"), name="logout"),
]
