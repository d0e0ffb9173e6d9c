"""Assertions shared by the API tests: the one error shape, and "this text is nowhere in the row"."""

from __future__ import annotations

from typing import Any

import orjson
from django.db import models


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is `status` with the one error shape `{"error": {"code","message","details"}}`."""
    assert response.status_code == status, (response.status_code, response.text[:500])
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    if code is not None:
        assert error["code"] == code, error
    return error


def row_text(row: models.Model) -> str:
    """Every stored field of `row` as one string, JSON fields serialised, for "never stored" checks."""
    parts = []
    for field in row._meta.concrete_fields:
        value = getattr(row, field.attname)
        parts.append(orjson.dumps(value, default=str).decode() if isinstance(value, dict | list) else str(value))
    return "\n".join(parts)
