"""Every table, imported in one place so that Alembic and ``SQLModel.metadata`` see them all."""

from storage.tables.activities import Activity, ActivityPerson, Checkin
from storage.tables.delivery import (
    Alert,
    ImportedIndicator,
    JobRun,
    OutboxMessage,
    ScoreSnapshot,
    ThresholdSet,
)
from storage.tables.issues import Issue, IssueAttachment, IssueEvent, IssueReporter
from storage.tables.org import GridCompound, Unit
from storage.tables.processed import ProcessedMessage
from storage.tables.roster import (
    AuditEvent,
    BindCode,
    ChatBinding,
    Invite,
    InviteUse,
    Member,
    RoleGrant,
)
from storage.tables.types import Audience, HousingType, Role, UnitKind, UTCDateTime

__all__ = [
    "Activity",
    "ActivityPerson",
    "Alert",
    "Audience",
    "AuditEvent",
    "BindCode",
    "ChatBinding",
    "Checkin",
    "GridCompound",
    "HousingType",
    "ImportedIndicator",
    "Invite",
    "InviteUse",
    "Issue",
    "IssueAttachment",
    "IssueEvent",
    "IssueReporter",
    "JobRun",
    "Member",
    "OutboxMessage",
    "ProcessedMessage",
    "Role",
    "RoleGrant",
    "ScoreSnapshot",
    "ThresholdSet",
    "Unit",
    "UnitKind",
    "UTCDateTime",
]
