"""Typed tables, one module per area. Importing this package registers all of them."""

from tracker.models.audit import AuditEvent
from tracker.models.base import Base, utcnow
from tracker.models.calls import (
    CallChange,
    CallDeadline,
    CallMatch,
    CallSourceLink,
    FundingCall,
)
from tracker.models.jobs import JobLease, JobRun
from tracker.models.review import (
    CallReview,
    Comment,
    DismissReason,
    Mention,
    Milestone,
    SavedFilter,
    TriageEvent,
    TriageState,
    Watch,
)
from tracker.models.sources import FetchRun, FetchStatus, QuarantinedItem, Source, SourceKind
from tracker.models.strategy import FocusArea, StrategyProfile
from tracker.models.users import LoginAttempt, Office, Role, User

__all__ = [
    "AuditEvent",
    "Base",
    "CallChange",
    "CallDeadline",
    "CallMatch",
    "CallReview",
    "CallSourceLink",
    "Comment",
    "DismissReason",
    "FetchRun",
    "FetchStatus",
    "FocusArea",
    "FundingCall",
    "JobLease",
    "JobRun",
    "LoginAttempt",
    "Mention",
    "Milestone",
    "Office",
    "QuarantinedItem",
    "Role",
    "SavedFilter",
    "Source",
    "SourceKind",
    "StrategyProfile",
    "TriageEvent",
    "TriageState",
    "User",
    "Watch",
    "utcnow",
]
