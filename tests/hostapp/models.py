"""Loopin-like host models: listings, join requests, payment orders, attendance, profiles, phone OTPs."""

from __future__ import annotations

from django.db import models


class Listing(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft"
        PUBLISHED = "published"
        CANCELLED = "cancelled"

    host_id = models.CharField(max_length=64)
    title = models.CharField(max_length=200)
    category = models.CharField(max_length=64)
    city = models.CharField(max_length=100)
    price = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="INR")
    capacity = models.PositiveIntegerField(default=20)
    starts_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)

    def __str__(self) -> str:
        return self.title


class JoinRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        ACCEPTED = "accepted"
        DECLINED = "declined"

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="join_requests")
    user_id = models.CharField(max_length=64)
    seats = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)

    def __str__(self) -> str:
        return f"{self.user_id} → {self.listing_id} ({self.status})"


class PaymentOrder(models.Model):
    class Status(models.TextChoices):
        CREATED = "created"
        PAID = "paid"
        FAILED = "failed"
        REFUNDED = "refunded"

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="orders")
    user_id = models.CharField(max_length=64)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3, default="INR")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CREATED)
    failure_reason = models.CharField(max_length=100, blank=True, default="")
    note = models.CharField(max_length=200, blank=True, default="")

    def __str__(self) -> str:
        return f"order {self.pk} ({self.status})"


class AttendanceRecord(models.Model):
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="attendance")
    user_id = models.CharField(max_length=64)
    seats = models.PositiveIntegerField(default=1)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_out_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.user_id} at {self.listing_id}"


class Profile(models.Model):
    user_id = models.CharField(max_length=64, unique=True)
    display_name = models.CharField(max_length=100, blank=True, default="")
    city = models.CharField(max_length=100, blank=True, default="")
    bio = models.TextField(blank=True, default="")
    phone_number = models.CharField(max_length=20, blank=True, default="")
    is_verified = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.user_id


class PhoneOTP(models.Model):
    user_id = models.CharField(max_length=64, blank=True, default="")
    phone = models.CharField(max_length=20)
    code = models.CharField(max_length=8)
    verified = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"otp {self.pk}"
