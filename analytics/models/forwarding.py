"""The transactional outbox for forwarding stored tracked events to outside destinations (PostHog)."""

from __future__ import annotations

from django.db import models

from analytics.models.events import UserEvent


class ForwardingDestination(models.TextChoices):
    POSTHOG = "posthog"


class ForwardingOutbox(models.Model):
    """One stored tracked event still owed to one destination.

    Rows are written in the same transaction that marks the event processed and deleted only after
    the destination acknowledged it (2xx), so an outage delays forwarding and never loses or
    repeats an event. `next_attempt_at` is both the retry backoff and the lease of an in-flight
    send; `parked_at` marks an event the destination refused outright (never retried by itself).
    Deleting the tracked event (retention, erasure) deletes its row: it is never sent afterwards.
    """

    destination = models.CharField(max_length=16, choices=ForwardingDestination.choices)
    event = models.ForeignKey(UserEvent, on_delete=models.CASCADE, related_name="+", db_index=False)
    created_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True, default="")
    parked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "analytics_forwarding_outbox"
        constraints = [
            models.UniqueConstraint(fields=["event", "destination"], name="fo_unique_event_destination"),
        ]
        indexes = [
            # What the forwarder claims: due, not parked, per destination.
            models.Index(
                fields=["destination", "next_attempt_at"],
                name="fo_due",
                condition=models.Q(parked_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.destination} ← event {self.event_id}"


class PostHogPersonDeletion(models.Model):
    """One distinct id whose PostHog person (and events) an erasure asked PostHog to delete.

    Written in the erasure's transaction, one row per id of the person (their user id and the anonymous
    ids linked to it), and deleted once PostHog accepted the deletion (2xx), so an outage of PostHog or of
    the worker delays the deletion and never forgets it. Until then the row holds the id in clear:
    PostHog needs it to find the person. `next_attempt_at` is the retry backoff and the lease of a send
    in flight.
    """

    distinct_id = models.CharField(max_length=255, unique=True)
    requested_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        db_table = "analytics_posthog_person_deletion"
        indexes = [models.Index(fields=["next_attempt_at"], name="phd_due")]

    def __str__(self) -> str:
        return f"PostHog person deletion #{self.pk}"  # never the id itself: the admin log copies this text
