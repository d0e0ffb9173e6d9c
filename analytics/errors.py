"""The domain's small exception tree. The API maps each class to one HTTP status, once."""

from __future__ import annotations

from typing import Any


class AnalyticsError(Exception):
    """Base: a machine-readable `code`, a human `message` and structured `details`."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details if details is not None else {}


class ValidationFailed(AnalyticsError):
    code = "validation_failed"


class PayloadTooLarge(AnalyticsError):
    code = "payload_too_large"


class Conflict(AnalyticsError):
    code = "conflict"


class Unauthenticated(AnalyticsError):
    code = "unauthenticated"


class Forbidden(AnalyticsError):
    code = "forbidden"


class NotFound(AnalyticsError):
    code = "not_found"


class RetryLater(AnalyticsError):
    """Refused for now; the client should retry after `retry_after` seconds (the `Retry-After` header)."""

    code = "retry_later"

    def __init__(self, message: str, *, retry_after: int = 5, code: str | None = None, details: Any = None):
        super().__init__(message, code=code, details=details)
        self.retry_after = retry_after


class Unavailable(RetryLater):
    """A dependency (the database) is down, or the server is at a capacity limit shared by everyone."""

    code = "unavailable"


class TooManyRequests(RetryLater):
    """This client (key, token or IP prefix) is over one of its limits; others are unaffected."""

    code = "rate_limited"


class RequestTimeout(AnalyticsError):
    """The client did not send the request (its body) within the server's deadline."""

    code = "request_timeout"


class BadRequest(AnalyticsError):
    """The request itself is malformed (for example, the body is not JSON)."""

    code = "bad_request"


class UnsupportedMediaType(AnalyticsError):
    code = "unsupported_media_type"
