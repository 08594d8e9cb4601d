"""Plain records the rules plan over, and the changes they plan. No I/O here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal

# HubSpot's default lifecycle stages, earliest first: stages only move forward along this.
STAGE_ORDER = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
)


def parse_time(value: str | None) -> datetime | None:
    """HubSpot timestamps (ISO-8601 or epoch milliseconds) as aware UTC datetimes; None if bad."""
    if value is None or value == "":
        return None
    try:
        if value.isdigit():
            return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Record:
    """A HubSpot object as the gateway returns it: id, string properties, optional history.

    `history` maps a property to its (value, timestamp) versions, newest first, when the
    read asked for `propertiesWithHistory`.
    """

    id: str
    properties: Mapping[str, str | None] = field(default_factory=dict)
    history: Mapping[str, tuple[tuple[str | None, datetime | None], ...]] = field(
        default_factory=dict
    )

    def get(self, name: str) -> str | None:
        value = self.properties.get(name)
        return None if value == "" else value

    def time(self, name: str) -> datetime | None:
        return parse_time(self.get(name))

    @property
    def name(self) -> str:
        first, last = self.get("firstname") or "", self.get("lastname") or ""
        return f"{first} {last}".strip() or self.get("email") or f"contact {self.id}"


EngagementKind = Literal["email", "call", "meeting", "task"]


@dataclass(frozen=True)
class Engagement:
    """An email, call, meeting or task associated with one or more contacts."""

    id: str
    kind: EngagementKind
    properties: Mapping[str, str | None]
    contact_ids: tuple[str, ...] = ()

    def get(self, name: str) -> str | None:
        value = self.properties.get(name)
        return None if value == "" else value

    @property
    def timestamp(self) -> datetime | None:
        return parse_time(self.get("hs_timestamp"))


@dataclass(frozen=True)
class Owner:
    id: str
    email: str | None
    first_name: str | None = None
    last_name: str | None = None
    archived: bool = False

    @property
    def name(self) -> str:
        return f"{self.first_name or ''} {self.last_name or ''}".strip() or self.email or self.id

    @property
    def reachable(self) -> bool:
        return not self.archived and bool(self.email)


class Outcome(StrEnum):
    PLANNED = "dry-run"
    APPLIED = "applied"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class TaskSpec:
    """A follow-up task to create for a contact's owner (hs_timestamp = due)."""

    kind: Literal["first_touch", "next_attempt"]
    subject: str
    body: str
    due: datetime
    type: str
    priority: str


@dataclass(frozen=True)
class Change:
    """One planned effect on one contact, with its reason.

    Exactly one of `properties` (a property update), `task` (a task to create) or
    `list_name` (a nurture-list membership) is set; `skip` marks a record the rule
    could not judge (bad or missing values), with the reason.
    """

    rule: str
    contact_id: str
    contact_name: str
    owner_id: str | None
    reason: str
    before: Mapping[str, str | None] = field(default_factory=dict)
    properties: Mapping[str, str] = field(default_factory=dict)
    task: TaskSpec | None = None
    list_name: str | None = None
    skip: bool = False

    @property
    def action(self) -> str:
        if self.skip:
            return "skip"
        if self.task:
            return f"task:{self.task.kind}"
        if self.list_name:
            return "list"
        return "update"

    @property
    def key(self) -> tuple[str, str, str]:
        """What the change does to whom (rule, contact, action): the same across runs."""
        return (self.rule, self.contact_id, self.action)

    def describe(self) -> str:
        """`from → to` text for reports."""
        if self.skip:
            return "skipped"
        if self.task:
            return f"task '{self.task.subject}' due {self.task.due:%Y-%m-%d %H:%M %Z}"
        if self.list_name:
            return f"added to list '{self.list_name}'"
        return ", ".join(
            f"{k}: {self.before.get(k) or '∅'} → {v or '∅'}" for k, v in self.properties.items()
        )


@dataclass(frozen=True)
class ChangeResult:
    change: Change
    outcome: Outcome
    error: str | None = None
