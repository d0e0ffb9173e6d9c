"""The tracking plan as code: the canonical Loopin events and the checks their properties must pass.

docs/tracking-plan.md is the prose of this table; `tests/unit/collection/test_tracking_plan_doc.py`
fails when the two drift. Custom events (any other name) pass the generic checks only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from analytics.models.events import EventType

NAME_PATTERN = re.compile(r"^[$A-Za-z][A-Za-z0-9_ .:/$\-]{0,199}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class PropertyProblem(ValueError):
    """A property broke the tracking plan; `field` names it."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


# A property kind checks one value and returns it normalised (ids become strings, currency upper-case).
Check = Callable[[str, Any], Any]


def _string(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PropertyProblem(name, f"'{name}' must be a non-empty string")
    return value


def _identifier(name: str, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise PropertyProblem(name, f"'{name}' must be a string or an integer id")
    text = str(value).strip()
    if not text or len(text) > 64:
        raise PropertyProblem(name, f"'{name}' must be 1-64 characters")
    return text


def _integer(minimum: int, maximum: int | None = None) -> Check:
    def check(name: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise PropertyProblem(name, f"'{name}' must be an integer")
        if value < minimum or (maximum is not None and value > maximum):
            bound = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
            raise PropertyProblem(name, f"'{name}' must be {bound}")
        return value

    return check


def _money(name: str, value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PropertyProblem(name, f"'{name}' must be a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise PropertyProblem(name, f"'{name}' must be a finite number")
    if value < 0:
        raise PropertyProblem(name, f"'{name}' must not be negative")
    if abs(value) >= 10**12:
        raise PropertyProblem(name, f"'{name}' is too large")
    return value


def _number(name: str, value: Any) -> int | float:
    return _money(name, value)


def _currency(name: str, value: Any) -> str:
    if not isinstance(value, str) or not _CURRENCY.match(value.upper()):
        raise PropertyProblem(name, f"'{name}' must be a 3-letter ISO 4217 code")
    return value.upper()


def _boolean(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise PropertyProblem(name, f"'{name}' must be true or false")
    return value


def _datetime(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise PropertyProblem(name, f"'{name}' must be an ISO 8601 date-time string")
    try:
        datetime.fromisoformat(value)
    except ValueError as exc:
        raise PropertyProblem(name, f"'{name}' must be an ISO 8601 date-time string") from exc
    return value


def _count_or_names(name: str, value: Any) -> int | list[str]:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    return _integer(0)(name, value)


@dataclass(frozen=True)
class EventSpec:
    """One canonical event: its type and the properties it must carry."""

    name: str
    event_type: EventType
    required: Mapping[str, Check]
    one_of: tuple[str, ...] = ()  # at least one of these properties (each a non-empty string)
    description: str = ""
    optional: Mapping[str, Check] = field(default_factory=dict)


_ID = _identifier
_SEATS = _integer(1, 10_000)
_PAYMENT = {"order_id": _ID, "listing_id": _ID, "amount": _money, "currency": _currency}

_SPECS: tuple[EventSpec, ...] = (
    EventSpec("user_registered", EventType.CONVERSION, {"method": _string}, description="A new account"),
    EventSpec("user_logged_in", EventType.USER_ACTION, {"method": _string}, description="Sign-in"),
    EventSpec("user_logged_out", EventType.USER_ACTION, {"method": _string}, description="Sign-out"),
    EventSpec("otp_generated", EventType.USER_ACTION, {"otp_type": _string}, description="OTP sent"),
    EventSpec("otp_verified", EventType.USER_ACTION, {"otp_type": _string}, description="OTP accepted"),
    EventSpec("otp_failed", EventType.USER_ACTION, {"otp_type": _string}, description="OTP rejected"),
    EventSpec(
        "profile_updated",
        EventType.USER_ACTION,
        {"fields_completed": _count_or_names, "is_verified": _boolean},
        description="Profile edited",
    ),
    EventSpec("page_view", EventType.PAGE_VIEW, {}, one_of=("path", "screen"), description="A page or screen"),
    EventSpec("search_performed", EventType.USER_ACTION, {"results_count": _integer(0)}, description="A search"),
    EventSpec("event_viewed", EventType.PAGE_VIEW, {"listing_id": _ID}, description="A listing's page"),
    EventSpec(
        "event_created",
        EventType.CONVERSION,
        {
            "listing_id": _ID,
            "host_id": _ID,
            "category": _string,
            "city": _string,
            "price": _money,
            "currency": _currency,
            "capacity": _integer(1, 1_000_000),
            "starts_at": _datetime,
        },
        description="A host publishes a listing",
        optional={"ends_at": _datetime},
    ),
    EventSpec("event_updated", EventType.USER_ACTION, {"listing_id": _ID}, description="Listing edited"),
    EventSpec("event_cancelled", EventType.USER_ACTION, {"listing_id": _ID}, description="Listing cancelled"),
    EventSpec(
        "event_requested", EventType.CONVERSION, {"listing_id": _ID, "seats": _SEATS}, description="Join request"
    ),
    EventSpec("event_request_accepted", EventType.USER_ACTION, {"listing_id": _ID}, description="Host accepts"),
    EventSpec("event_request_declined", EventType.USER_ACTION, {"listing_id": _ID}, description="Host declines"),
    EventSpec("event_invite_sent", EventType.ENGAGEMENT, {"listing_id": _ID}, description="Invite sent"),
    EventSpec("payment_initiated", EventType.CONVERSION, _PAYMENT, description="Checkout started"),
    EventSpec("payment_completed", EventType.CONVERSION, _PAYMENT, description="Payment captured"),
    EventSpec(
        "payment_failed",
        EventType.ERROR,
        {**_PAYMENT, "failure_reason": _string},
        description="Payment declined or errored",
    ),
    EventSpec("payment_refunded", EventType.CONVERSION, _PAYMENT, description="Refund issued"),
    EventSpec("payment_chargeback", EventType.CONVERSION, _PAYMENT, description="Chargeback"),
    EventSpec("event_checked_in", EventType.ENGAGEMENT, {"listing_id": _ID, "seats": _SEATS}, description="Check-in"),
    EventSpec("event_checked_out", EventType.ENGAGEMENT, {"listing_id": _ID, "seats": _SEATS}, description="Check-out"),
    EventSpec(
        "review_submitted",
        EventType.ENGAGEMENT,
        {"listing_id": _ID, "rating": _integer(1, 5), "text": _string},
        description="A review of an attended listing",
    ),
    EventSpec("feedback_submitted", EventType.ENGAGEMENT, {"text": _string}, description="App feedback"),
    EventSpec(
        "api_request",
        EventType.API_CALL,
        {"route": _string, "method": _string, "status_code": _integer(100, 599), "response_time_ms": _number},
        description="A request to the platform's API",
    ),
    EventSpec("app_error", EventType.ERROR, {"error_type": _string}, description="An application error"),
)

TRACKING_PLAN: Mapping[str, EventSpec] = {spec.name: spec for spec in _SPECS}

# Properties every event may carry whose type is checked wherever they appear.
_COMMON_CHECKS: Mapping[str, Check] = {"listing_id": _ID, "host_id": _ID, "order_id": _ID}
# Every check of a canonical event's properties (common, optional, required; a later one wins), merged once.
_CHECKS: Mapping[str, Mapping[str, Check]] = {
    spec.name: {**_COMMON_CHECKS, **spec.optional, **spec.required} for spec in _SPECS
}

# Events whose amount moves revenue, and in which direction.
REVENUE_SIGN: Mapping[str, int] = {"payment_completed": 1, "payment_refunded": -1, "payment_chargeback": -1}


def event_type_for(name: str, given: str | None) -> str:
    """The stored `event_type`: the plan's for a canonical event, else the given one, else `custom`."""
    spec = TRACKING_PLAN.get(name)
    if spec is not None:
        return spec.event_type.value
    return given or EventType.CUSTOM.value


def check_properties(name: str, properties: dict[str, Any]) -> list[PropertyProblem]:
    """Check and normalise `properties` in place; returns every problem found (empty when valid)."""
    problems: list[PropertyProblem] = []
    if "event_id" in properties and "listing_id" not in properties:
        # The platform's existing tracker says event_id for the listing.
        properties["listing_id"] = properties.pop("event_id")
    spec = TRACKING_PLAN.get(name)
    checks = _CHECKS.get(name, _COMMON_CHECKS)
    if spec is not None:
        for key in spec.required:
            if key not in properties or properties[key] is None:
                problems.append(PropertyProblem(key, f"'{name}' requires property '{key}'"))
        if spec.one_of and not any(
            isinstance(properties.get(key), str) and properties[key].strip() for key in spec.one_of
        ):
            problems.append(PropertyProblem(spec.one_of[0], f"'{name}' requires one of {', '.join(spec.one_of)}"))
    for key, check in checks.items():
        value = properties.get(key)
        if value is None:
            continue
        try:
            properties[key] = check(key, value)
        except PropertyProblem as problem:
            problems.append(problem)
    return problems


def revenue_of(name: str, properties: Mapping[str, Any]) -> Decimal | None:
    """The signed revenue impact of a payment event, or None for events that do not move revenue."""
    sign = REVENUE_SIGN.get(name)
    amount = properties.get("amount")
    if sign is None or isinstance(amount, bool) or not isinstance(amount, int | float):
        return None
    return (Decimal(str(amount)) * sign).quantize(Decimal("0.01"))
