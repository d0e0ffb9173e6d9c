"""Models, one module per aggregate."""

from analytics.models.alerts import Alert, AlertDeliveryAttempt, AlertNotification
from analytics.models.dashboard import DashboardUser
from analytics.models.events import FailedEvent, UserEvent
from analytics.models.forwarding import ForwardingOutbox, PostHogPersonDeletion
from analytics.models.insights import AIInsight
from analytics.models.listings import EventListing
from analytics.models.metrics import (
    BusinessMetric,
    DailyEventRollup,
    DailyFunnelReach,
    DailyUserActivity,
    DailyUserEvent,
    DirtyScope,
    MetricDirtyDay,
    UserFirstActivity,
)
from analytics.models.operations import RetentionPurge, ScheduleSlot, TaskRun, WorkerHeartbeat
from analytics.models.people import IdentityLink, Session, SessionCursor, UserConsent
from analytics.models.predictions import (
    DetectedAnomaly,
    ListingAttendanceForecast,
    PredictionModel,
    RevenueForecast,
    UserPrediction,
)
from analytics.models.profiles import UserBehaviorProfile, UserPersona
from analytics.models.replication import ReplicaDeletion, ReplicaPending, ReplicaState
from analytics.models.reports import ReportDelivery
from analytics.models.security import ApiKey, AuditLog

__all__ = [
    "AIInsight",
    "Alert",
    "AlertDeliveryAttempt",
    "AlertNotification",
    "ApiKey",
    "AuditLog",
    "BusinessMetric",
    "DailyEventRollup",
    "DailyFunnelReach",
    "DailyUserActivity",
    "DailyUserEvent",
    "DashboardUser",
    "DetectedAnomaly",
    "DirtyScope",
    "EventListing",
    "FailedEvent",
    "ForwardingOutbox",
    "IdentityLink",
    "ListingAttendanceForecast",
    "MetricDirtyDay",
    "PostHogPersonDeletion",
    "PredictionModel",
    "ReplicaDeletion",
    "ReplicaPending",
    "ReplicaState",
    "ReportDelivery",
    "RetentionPurge",
    "RevenueForecast",
    "ScheduleSlot",
    "Session",
    "SessionCursor",
    "TaskRun",
    "UserBehaviorProfile",
    "UserConsent",
    "UserEvent",
    "UserFirstActivity",
    "UserPersona",
    "UserPrediction",
    "WorkerHeartbeat",
]
