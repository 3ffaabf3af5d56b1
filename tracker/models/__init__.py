"""Typed tables, one module per area. Importing this package registers all of them."""

from tracker.models.audit import AuditEvent
from tracker.models.base import Base, utcnow
from tracker.models.calls import CallDeadline, CallMatch, FundingCall
from tracker.models.jobs import JobLease, JobRun
from tracker.models.organisations import (
    NetworkMembership,
    Organisation,
    OrganisationKind,
    SisterCity,
    SisterCityRelation,
)
from tracker.models.projects import (
    CoFinancingLine,
    Contribution,
    Currency,
    Delegation,
    DelegationKind,
    Funder,
    FunderKind,
    LineStatus,
    Project,
    ProjectPartner,
    ProjectRole,
    ProjectStatus,
)
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
from tracker.models.sources import FetchRun, FetchStatus, Source, SourceKind
from tracker.models.strategy import (
    DecisionSource,
    FocusArea,
    MatchDecision,
    MatchModel,
    StrategyProfile,
)
from tracker.models.users import LoginAttempt, Office, Role, User

__all__ = [
    "AuditEvent",
    "Base",
    "CallDeadline",
    "CallMatch",
    "CallReview",
    "CoFinancingLine",
    "Comment",
    "Contribution",
    "Currency",
    "DecisionSource",
    "Delegation",
    "DelegationKind",
    "DismissReason",
    "FetchRun",
    "FetchStatus",
    "FocusArea",
    "Funder",
    "FunderKind",
    "FundingCall",
    "JobLease",
    "JobRun",
    "LineStatus",
    "LoginAttempt",
    "MatchDecision",
    "MatchModel",
    "Mention",
    "Milestone",
    "NetworkMembership",
    "Office",
    "Organisation",
    "OrganisationKind",
    "Project",
    "ProjectPartner",
    "ProjectRole",
    "ProjectStatus",
    "Role",
    "SavedFilter",
    "SisterCity",
    "SisterCityRelation",
    "Source",
    "SourceKind",
    "StrategyProfile",
    "TriageEvent",
    "TriageState",
    "User",
    "Watch",
    "utcnow",
]
