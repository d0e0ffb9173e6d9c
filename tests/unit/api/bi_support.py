"""Helpers for the business-intelligence API tests."""

from __future__ import annotations

from typing import Any

from analytics import clock
from analytics.security.tokens import token_issue


def bearer(role: str, host_id: str | None = None) -> dict[str, str]:
    """A token issued at the real time (the data's clock is frozen in the past)."""
    frozen = clock.now()
    clock.freeze(None)
    try:
        token = token_issue(role=role, sub=f"t-{role}", host_id=host_id)
    finally:
        clock.freeze(frozen)
    return {"Authorization": f"Bearer {token}"}


def assert_error(response: Any, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}
    if code:
        assert error["code"] == code
