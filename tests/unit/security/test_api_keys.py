"""Ingestion write keys: both header styles, and missing / unknown / revoked / JWT keys refused."""

from __future__ import annotations

import hashlib
import re
from io import StringIO

import pytest
from django.core.management import call_command
from fastapi.testclient import TestClient

from analytics.models import ApiKey, AuditLog, UserEvent
from analytics.security.api_keys import api_key_create, api_key_revoke
from tests.assertions import assert_error, row_text
from tests.factories import event

TRACK = "/api/analytics/events/track"
BATCH = "/api/analytics/events/batch"
KEY_LINE = re.compile(r"[A-Za-z0-9_.-]{32,}")


@pytest.mark.parametrize("style", ["x_api_key", "bearer"])
@pytest.mark.parametrize("url", [TRACK, BATCH])
def test_both_header_styles_are_accepted(client: TestClient, write_key: str, style: str, url: str) -> None:
    headers = {"X-API-Key": write_key} if style == "x_api_key" else {"Authorization": f"Bearer {write_key}"}
    response = client.post(url, json=event() if url == TRACK else [event()], headers=headers)
    assert response.status_code == 200, response.text
    assert UserEvent.objects.count() == 1


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "missing_api_key"),
        ({"X-API-Key": ""}, "missing_api_key"),
        ({"Authorization": "Bearer "}, "missing_api_key"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "missing_api_key"),
        ({"X-API-Key": "lak_" + "x" * 43}, "invalid_api_key"),
        ({"Authorization": "Bearer lak_unknown_key_that_was_never_issued_000000"}, "invalid_api_key"),
    ],
    ids=["none", "empty_header", "empty_bearer", "basic_auth", "unknown_x_api_key", "unknown_bearer"],
)
@pytest.mark.parametrize("url", [TRACK, BATCH])
def test_missing_or_unknown_key_is_401(client: TestClient, headers: dict[str, str], code: str, url: str) -> None:
    response = client.post(url, json=event() if url == TRACK else [event()], headers=headers)
    assert_error(response, 401, code)
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert UserEvent.objects.count() == 0


def test_revoked_key_is_401(client: TestClient, write_key: str) -> None:
    headers = {"X-API-Key": write_key}
    assert client.post(TRACK, json=event(), headers=headers).status_code == 200
    api_key_revoke(key_id=ApiKey.objects.get().id)
    assert_error(client.post(TRACK, json=event(), headers=headers), 401, "invalid_api_key")
    assert_error(client.post(BATCH, json=[event()], headers=headers), 401, "invalid_api_key")
    assert UserEvent.objects.count() == 1


def test_revoking_one_key_leaves_the_others_working(client: TestClient, write_key: str) -> None:
    other = api_key_create(name="other")
    api_key_revoke(prefix=other.prefix)
    assert client.post(TRACK, json=event(), headers={"X-API-Key": write_key}).status_code == 200
    assert_error(client.post(TRACK, json=event(), headers={"X-API-Key": other.key}), 401, "invalid_api_key")


@pytest.mark.parametrize("style", ["x_api_key", "bearer"])
def test_a_valid_jwt_is_not_a_write_key(client: TestClient, admin_headers: dict[str, str], style: str) -> None:
    token = admin_headers["Authorization"].removeprefix("Bearer ")
    headers = {"X-API-Key": token} if style == "x_api_key" else admin_headers
    assert_error(client.post(TRACK, json=event(), headers=headers), 401, "invalid_api_key")
    assert UserEvent.objects.count() == 0


def test_auth_is_checked_before_the_body_is_read(client: TestClient) -> None:
    response = client.post(TRACK, content=b"{not json", headers={"Content-Type": "application/json"})
    assert_error(response, 401, "missing_api_key")


@pytest.mark.django_db
def test_create_api_key_prints_the_key_alone_on_the_last_line_and_stores_only_its_hash() -> None:
    out = StringIO()
    call_command("create_api_key", "--name", "mobile app", stdout=out)
    last_line = out.getvalue().rstrip("\n").splitlines()[-1]
    assert KEY_LINE.fullmatch(last_line), last_line
    key = last_line
    row = ApiKey.objects.get()
    assert row.name == "mobile app"
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in row_text(row)
    assert key.startswith(row.prefix)
    assert all(key not in row_text(entry) for entry in AuditLog.objects.all())


def test_key_printed_by_create_api_key_authenticates(client: TestClient) -> None:
    out = StringIO()
    call_command("create_api_key", "--name", "cli", stdout=out)
    key = out.getvalue().rstrip("\n").splitlines()[-1]
    assert client.post(TRACK, json=event(), headers={"Authorization": f"Bearer {key}"}).status_code == 200


@pytest.mark.django_db
def test_each_created_key_is_unique() -> None:
    keys = {api_key_create(name=f"k{i}").key for i in range(5)}
    assert len(keys) == 5
    assert ApiKey.objects.values("key_hash").distinct().count() == 5
