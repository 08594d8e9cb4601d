"""The changes rules plan, and what became of them. No I/O here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal, get_args

RuleName = Literal[
    "qualify",
    "promote",
    "new_lead",
    "open_deal",
    "meeting_scheduled",
    "connected",
    "attempted",
    "followup",
    "bad_timing",
    "recycle",
]
# In cycle order; `rules.registry.RULES` holds their definitions.
ALL_RULES: tuple[RuleName, ...] = get_args(RuleName)


# What a leadops task is for; its marker in the task body names it (`rules.tasks`).
TaskKind = Literal["first_touch", "next_attempt", "meeting_outcome", "reapproach"]


class Outcome(StrEnum):
    PLANNED = "dry-run"
    APPLIED = "applied"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class TaskSpec:
    """A follow-up task to create for a contact's owner (hs_timestamp = due)."""

    kind: TaskKind
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
    """What became of a change. `created` names what an applied change created, so that
    `leadops undo` can take exactly that back: the new task's id, or the id of the list the
    contact was newly added to (None when it was a member already)."""

    change: Change
    outcome: Outcome
    error: str | None = None
    created: str | None = None
