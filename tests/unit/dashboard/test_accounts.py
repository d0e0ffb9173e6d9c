"""Dashboard accounts: `create_dashboard_user` and the rules it enforces (docs/dashboard.md, "Accounts")."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command

from analytics.dashboard.accounts import dashboard_user_create
from analytics.errors import Conflict, ValidationFailed
from analytics.models import DashboardUser
from analytics.security.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)


def test_command_prints_a_working_password_on_its_last_line() -> None:
    out = StringIO()
    call_command("create_dashboard_user", "--username", "hosty", "--role", "host", "--host-id", "h9", stdout=out)
    password = out.getvalue().strip().splitlines()[-1]
    user = authenticate(username="hosty", password=password)
    assert user is not None
    profile = DashboardUser.objects.get(user=user)
    assert (profile.role, profile.host_id) == ("host", "h9")


@pytest.mark.parametrize(
    ("role", "host_id", "code"),
    [
        ("host", None, "host_id_required"),
        ("analyst", "h1", "host_id_not_allowed"),
        ("owner", None, "invalid_role"),
    ],
)
def test_roles_and_host_ids_must_agree(role: str, host_id: str | None, code: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        dashboard_user_create(username="u", role=role, host_id=host_id)
    assert raised.value.code == code
    assert not get_user_model().objects.filter(username="u").exists()


def test_an_existing_username_is_refused_and_the_first_account_is_kept() -> None:
    first = dashboard_user_create(username="same", role=Role.ANALYST.value)
    with pytest.raises(Conflict):
        dashboard_user_create(username="same", role=Role.ADMIN.value)
    assert authenticate(username="same", password=first) is not None
    assert DashboardUser.objects.get(user__username="same").role == "analyst"


def test_command_errors_are_one_line_and_write_nothing() -> None:
    with pytest.raises(CommandError, match="needs --host-id"):
        call_command("create_dashboard_user", "--username", "h", "--role", "host", stdout=StringIO())
    assert not get_user_model().objects.filter(username="h").exists()


def test_model_roles_are_the_api_roles() -> None:
    """The model's role choices (models import nothing above them) are exactly the API's roles."""
    from analytics.models.dashboard import ROLES

    assert set(ROLES) == {r.value for r in Role}
