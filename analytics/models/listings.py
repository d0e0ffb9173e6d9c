"""Listings: the events hosts publish on Loopin, kept current from tracked events."""

from __future__ import annotations

from django.db import models


class ListingStatus(models.TextChoices):
    ACTIVE = "active"
    CANCELLED = "cancelled"


class EventListing(models.Model):
    """The current state of a listing, folded from event_created / event_updated / event_cancelled.

    `state_at` is the timestamp of the newest tracked event applied, so late or replayed events
    never roll the state back.
    """

    listing_id = models.CharField(max_length=64, unique=True)
    host_id = models.CharField(max_length=64, blank=True, default="")
    title = models.CharField(max_length=300, blank=True, default="")
    category = models.CharField(max_length=64, blank=True, default="")
    city = models.CharField(max_length=100, blank=True, default="")
    venue_type = models.CharField(max_length=64, blank=True, default="")
    price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, default="")
    capacity = models.PositiveIntegerField(null=True, blank=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=ListingStatus.choices, default=ListingStatus.ACTIVE)
    created_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    state_at = models.DateTimeField()
    attributes = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "analytics_event_listing"
        indexes = [
            models.Index(fields=["host_id"], name="el_host"),
            models.Index(fields=["category", "city"], name="el_category_city"),
            models.Index(fields=["starts_at"], name="el_starts"),
        ]

    def __str__(self) -> str:
        return f"listing {self.listing_id}"
