"""Every error leaves the API in one shape: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from analytics.api.responses import JSONBytesResponse
from analytics.errors import (
    AnalyticsError,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    RequestTimeout,
    RetryLater,
    TooManyRequests,
    Unauthenticated,
    Unavailable,
    UnsupportedMediaType,
    ValidationFailed,
)

STATUS: dict[type[AnalyticsError], int] = {
    BadRequest: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    RequestTimeout: 408,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    ValidationFailed: 422,
    TooManyRequests: 429,
    Unavailable: 503,
}

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
}


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> JSONBytesResponse:
    return JSONBytesResponse(
        {"error": {"code": code, "message": message, "details": details if details is not None else {}}},
        status_code=status,
        headers=headers,
    )


def status_of(error: AnalyticsError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


async def _domain_error(request: Request, error: Exception) -> JSONBytesResponse:
    assert isinstance(error, AnalyticsError)
    headers: dict[str, str] = {}
    if isinstance(error, RetryLater):
        headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, RequestTimeout):
        headers["Connection"] = "close"  # the rest of a late body is not waited for
    if isinstance(error, Unauthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    return error_response(status_of(error), error.code, error.message, error.details, headers or None)


# A `days` parameter (query or body) outside its range is `invalid_days` on every route (docs/api.md); a
# malformed one stays `validation_failed`.
_RANGE_ERRORS = frozenset({"greater_than_equal", "less_than_equal", "greater_than", "less_than"})
_RANGE_CODES = {"days": "invalid_days"}


def _range_code(items: list[Any]) -> str | None:
    """The specific code when the first problem is a named parameter out of its range."""
    first = items[0] if items else {}
    location = first.get("loc", ())
    if first.get("type") in _RANGE_ERRORS and location:
        return _RANGE_CODES.get(str(location[-1]))
    return None


async def _validation_error(request: Request, error: Exception) -> JSONBytesResponse:
    assert isinstance(error, RequestValidationError)
    problems = [
        {
            "field": ".".join(str(p) for p in item.get("loc", ())),
            "code": item.get("type", "invalid"),
            "message": item.get("msg", ""),
        }
        for item in error.errors()
    ]
    specific = _range_code(list(error.errors()))
    if specific is not None:
        first = problems[0]
        return error_response(422, specific, f"{first['field']}: {first['message']}", {"problems": problems})
    return error_response(422, "validation_failed", "the request is invalid", {"problems": problems})


async def _http_error(request: Request, error: Exception) -> JSONBytesResponse:
    assert isinstance(error, StarletteHTTPException)
    code = _HTTP_CODES.get(error.status_code, "http_error")
    return error_response(error.status_code, code, str(error.detail), None, dict(error.headers or {}) or None)


async def _unexpected_error(request: Request, error: Exception) -> JSONBytesResponse:
    """A bug: still the one shape (Starlette logs the exception and re-raises it after this answer)."""
    return error_response(500, "internal_error", "an unexpected error occurred; it has been logged")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Exception, _unexpected_error)
    app.add_exception_handler(AnalyticsError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
