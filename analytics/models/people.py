"""People-level records: sessions and consent."""

from __future__ import annotations

from django.db import models


class Session(models.Model):
    """A visit: client `session_id`, or assigned server-side (30 min inactivity, 24 h cap)."""

    session_id = models.CharField(max_length=128, unique=True)
    user_id = models.CharField(max_length=128, null=True, blank=True)
    anonymous_id = models.CharField(max_length=128, null=True, blank=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    duration_seconds = models.FloatField(default=0)
    event_count = models.PositiveIntegerField(default=0)
    entry_screen = models.CharField(max_length=1024, blank=True, default="")
    exit_screen = models.CharField(max_length=1024, blank=True, default="")

    class Meta:
        db_table = "analytics_session"
        indexes = [
            models.Index(fields=["user_id", "started_at"], name="se_user_started"),
            # Covering on PostgreSQL: session-length and sessions-per-user figures of a range are read from
            # the index alone.
            models.Index(fields=["started_at"], name="se_started", include=["duration_seconds", "user_id"]),
            # Identity merges give anonymous sessions their user (analytics/collection/identity.py) on every
            # processing run: without it each run scanned every session without a user. Partial: a session
            # leaves the index once merged.
            models.Index(
                fields=["anonymous_id"], name="se_anonymous_unmerged", condition=models.Q(user_id__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"session {self.session_id}"


class UserConsent(models.Model):
    """A user's analytics consent. Opted-out users' events are dropped at the door."""

    user_id = models.CharField(max_length=128, unique=True)
    analytics_opt_out = models.BooleanField(default=False)
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "analytics_user_consent"

    def __str__(self) -> str:
        # Without the user id: the admin's change log and the audit log copy this text, and they outlive an
        # erasure of the person.
        return f"consent #{self.pk}: {'opted out' if self.analytics_opt_out else 'in'}"


class IdentityLink(models.Model):
    """`anonymous_id` is known to be `user_id` (from identify, or an event carrying both ids).

    The anonymous history is merged into the user: stored events and sessions with only this
    anonymous id get the user id (analytics/collection/identity.py).
    """

    anonymous_id = models.CharField(max_length=128, unique=True)
    user_id = models.CharField(max_length=128)
    linked_at = models.DateTimeField()

    class Meta:
        db_table = "analytics_identity_link"
        indexes = [models.Index(fields=["user_id"], name="il_user")]

    def __str__(self) -> str:
        return f"identity link #{self.pk}"  # never the ids: the admin log copies this text


class SessionCursor(models.Model):
    """The open server-side session of one actor (`u:<user_id>` or `a:<anonymous_id>`).

    Used when a client sends no `session_id`: 30 minutes of inactivity or 24 hours close it.
    """

    actor_key = models.CharField(max_length=140, unique=True)
    session_id = models.CharField(max_length=128)
    started_at = models.DateTimeField()
    last_event_at = models.DateTimeField()

    class Meta:
        db_table = "analytics_session_cursor"

    def __str__(self) -> str:
        return f"session cursor #{self.pk}: {self.session_id}"  # never the actor
