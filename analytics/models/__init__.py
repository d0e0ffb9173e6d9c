"""Models, one module per aggregate."""

from analytics.models.events import FailedEvent, UserEvent
from analytics.models.listings import EventListing
from analytics.models.operations import WorkerHeartbeat
from analytics.models.people import Session, UserConsent
from analytics.models.security import ApiKey, AuditLog

__all__ = [
    "ApiKey",
    "AuditLog",
    "EventListing",
    "FailedEvent",
    "Session",
    "UserConsent",
    "UserEvent",
    "WorkerHeartbeat",
]
