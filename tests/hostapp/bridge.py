"""The host's ANALYTICS_SIGNAL_BRIDGE (tests/settings.py): every host model change the analytics sees.

Imported by the settings module, so it must not import the models.
"""

from __future__ import annotations

from typing import Any

PROFILE_FIELDS = ("display_name", "city", "bio")  # never the phone number


def profile_fields_completed(profile: Any) -> list[str]:
    return [name for name in PROFILE_FIELDS if getattr(profile, name)]


def phone_otp_type(otp: Any) -> str:
    return "phone"


SIGNAL_BRIDGE: list[dict[str, Any]] = [
    {
        "model": "hostapp.Listing",
        "field": "status",
        "transitions": {"published": "event_created", "cancelled": "event_cancelled"},
        "user_id": "host_id",
        "properties": {
            "listing_id": "pk",
            "host_id": "host_id",
            "title": "title",
            "category": "category",
            "city": "city",
            "price": "price",
            "currency": "currency",
            "capacity": "capacity",
            "starts_at": "starts_at",
        },
    },
    {
        "model": "hostapp.JoinRequest",
        "field": "status",
        "transitions": {
            "pending": "event_requested",
            "accepted": "event_request_accepted",
            "declined": "event_request_declined",
        },
        "user_id": "user_id",
        "properties": {"listing_id": "listing_id", "seats": "seats", "host_id": "listing.host_id"},
    },
    {
        "model": "hostapp.PaymentOrder",
        "field": "status",
        "transitions": {
            "created": "payment_initiated",
            "paid": "payment_completed",
            "failed": "payment_failed",
            "refunded": "payment_refunded",
        },
        "user_id": "user_id",
        "properties": {
            "order_id": "pk",
            "listing_id": "listing_id",
            "amount": "amount",
            "currency": "currency",
            "failure_reason": lambda order: order.failure_reason or None,
            "note": "note",
        },
    },
    {
        "model": "hostapp.AttendanceRecord",
        "field": "checked_in_at",
        "on_set": "event_checked_in",
        "user_id": "user_id",
        "timestamp": "checked_in_at",
        "properties": {"listing_id": "listing_id", "seats": "seats"},
    },
    {
        "model": "hostapp.AttendanceRecord",
        "field": "checked_out_at",
        "on_set": "event_checked_out",
        "user_id": "user_id",
        "timestamp": "checked_out_at",
        "properties": {"listing_id": "listing_id", "seats": "seats"},
    },
    {
        "model": "hostapp.Profile",
        "field": "is_verified",
        "transitions": {True: "profile_updated"},
        "user_id": "user_id",
        "properties": {"fields_completed": profile_fields_completed, "is_verified": "is_verified"},
    },
    {
        "model": "hostapp.PhoneOTP",
        "field": "verified",
        "transitions": {False: "otp_generated", True: "otp_verified"},
        "user_id": "user_id",
        "properties": {"otp_type": phone_otp_type},
    },
]
