"""The rules model (`config/lifecycle.yaml`) and its loader.

Bad config fails at load with the key path, the value given and what is allowed.

Example:
    ```python
    from config.rules import load_rules

    rules = load_rules()  # the packaged default
    print(rules.promote.score_property, rules.promote.threshold)
    ```
"""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from typing import Any, Literal

import yaml
from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from config.conditions import Condition, Group, check_groups
from config.report import ReportSettings

DEFAULT_RULES = Path(__file__).with_name("lifecycle.yaml")
_jinja = SandboxedEnvironment()
_PROPERTY_NAME = re.compile(r"^[a-z0-9_]+$")
_BLOCK_NAME = re.compile(r"^[a-z0-9-]+/\S(.*\S)?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_template(value: str) -> str:
    try:
        _jinja.parse(value)
    except TemplateSyntaxError as exc:
        raise ValueError(f"is not a valid Jinja template: {exc.message}") from exc
    return value


def _check_property(value: str) -> str:
    if not _PROPERTY_NAME.match(value):
        raise ValueError(
            f"{value!r} is not a HubSpot property internal name (lowercase letters, digits, _)"
        )
    return value


class Stages(_Strict):
    """Lifecycle-stage internal values of the portal."""

    subscriber: str = "subscriber"
    lead: str = "lead"
    mql: str = "marketingqualifiedlead"
    sql: str = "salesqualifiedlead"
    opportunity: str = "opportunity"


class LeadStatusRoles(_Strict):
    """Lead-status roles mapped to the portal's `hs_lead_status` internal values."""

    new: str = "NEW"
    attempted: str = "ATTEMPTED_TO_CONTACT"
    connected: str = "CONNECTED"
    unqualified: str = "UNQUALIFIED"
    open_deal: str = "OPEN_DEAL"
    bad_timing: str = "BAD_TIMING"
    # Not among HubSpot's default options (many portals add it): "" with the rule disabled.
    meeting_scheduled: str = "MEETING_SCHEDULED"

    @model_validator(mode="after")
    def _distinct(self) -> LeadStatusRoles:
        values = [v for k, v in self.model_dump().items() if k not in OPTIONAL_ROLES or v]
        if any(not v for v in values):
            raise ValueError("every lead-status role needs a non-empty value")
        dupes = {v for v in values if values.count(v) > 1}
        if dupes:
            raise ValueError(f"roles must map to distinct values; repeated: {sorted(dupes)}")
        return self


class Promote(_Strict):
    """MQL → SQL when `when` matches; without `when`, `score_property ≥ threshold`."""

    enabled: bool = True
    score_property: str = "lead_score"
    threshold: float = Field(default=50, ge=-100_000, le=100_000)
    when: tuple[Group, ...] | None = None

    _name = field_validator("score_property")(_check_property)
    _groups = field_validator("when")(check_groups)

    @model_validator(mode="after")
    def _one_way(self) -> Promote:
        legacy = {"score_property", "threshold"} & self.model_fields_set
        if self.when is not None and legacy:
            raise ValueError(
                f"give either `when` or score_property/threshold, not both (given "
                f"{sorted(legacy)} with `when`): write the score as a condition of `when`"
            )
        return self

    @property
    def conditions(self) -> tuple[Group, ...]:
        """The groups of conditions: `when`, or the one condition the old keys mean."""
        if self.when is not None:
            return self.when
        legacy = Condition(
            property=self.score_property, op=">=", value=self.threshold, label="score"
        )
        return ((legacy,),)


class NewLead(_Strict):
    enabled: bool = True


MOVED_TO_CONNECTED = frozenset({"connected_calls_to_connected", "connected_dispositions"})


class Attempted(_Strict):
    enabled: bool = True

    @model_validator(mode="before")
    @classmethod
    def _moved_keys(cls, data: Any) -> Any:
        moved = sorted(set(data) & MOVED_TO_CONNECTED) if isinstance(data, dict) else []
        if moved:
            raise ValueError(
                f"{', '.join(moved)} moved to the `connected` rule: use connected.enabled and "
                "connected.call_dispositions"
            )
        return data


class BusinessHours(_Strict):
    start: time = time(9)
    end: time = time(17)
    skip_weekends: bool = True

    @model_validator(mode="after")
    def _ordered(self) -> BusinessHours:
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        return self


TaskType = Literal["CALL", "EMAIL", "TODO"]
TaskPriority = Literal["LOW", "MEDIUM", "HIGH"]


class TaskTemplate(_Strict):
    due_in_hours: float = Field(default=4, ge=0, le=24 * 30)
    type: TaskType = "CALL"
    priority: TaskPriority = "HIGH"
    subject: str = "First touch: {{ contact.name }}"
    body: str = ""

    _templates = field_validator("subject", "body")(_check_template)


class NextAttempt(TaskTemplate):
    after_days: float = Field(default=2, gt=0, le=365)
    max_attempts: int = Field(default=5, ge=1, le=100)
    due_in_hours: float = Field(default=24, ge=0, le=24 * 30)
    priority: TaskPriority = "MEDIUM"
    subject: str = "Try again: {{ contact.name }}"


class Followup(_Strict):
    enabled: bool = True
    business_hours: BusinessHours = BusinessHours()
    first_touch: TaskTemplate = TaskTemplate()
    next_attempt: NextAttempt = NextAttempt()


class Recycle(_Strict):
    enabled: bool = True
    min_attempts: int = Field(default=5, ge=1, le=100)
    no_reply_days: float = Field(default=14, gt=0, le=3650)
    lead_status: str = ""
    product_interest_property: str = "product_interest"
    nurture_lists: dict[str, str] = Field(default_factory=dict)
    default_list: str = Field(default="Nurture - General", min_length=1, max_length=200)

    _name = field_validator("product_interest_property")(_check_property)

    @field_validator("nurture_lists")
    @classmethod
    def _non_empty_names(cls, value: dict[str, str]) -> dict[str, str]:
        empty = [k for k, v in value.items() if not v or not v.strip()]
        if empty:
            raise ValueError(f"list names must not be empty (interests: {empty})")
        return value

    def list_for(self, interest: str | None) -> str:
        """The nurture list for a product interest (case-insensitive), else the default."""
        if interest:
            lowered = {k.lower(): v for k, v in self.nurture_lists.items()}
            return lowered.get(interest.strip().lower(), self.default_list)
        return self.default_list


# ---- the lead-status ladder (Connected, Meeting Scheduled, Open Deal, Bad Timing) ----------

OPTIONAL_ROLES = frozenset({"meeting_scheduled"})
CONNECTED_CALL = "f240bbac-87c9-4f6e-bf70-924b57d47db7"  # HubSpot's "Connected" call outcome


class Connected(_Strict):
    """New or Attempted → Connected on a reply or a connected call."""

    enabled: bool = True
    on_reply: bool = True
    on_connected_call: bool = True
    call_dispositions: tuple[str, ...] = Field(default=(CONNECTED_CALL,), min_length=1)


class MeetingOutcomeTask(TaskTemplate):
    due_in_hours: float = Field(default=4, ge=0, le=24 * 30)
    type: TaskType = "TODO"
    priority: TaskPriority = "MEDIUM"
    subject: str = "Record the meeting outcome: {{ contact.name }}"
    body: str = "The meeting of {{ meeting }} ended without an outcome. Record what happened."


class MeetingScheduled(_Strict):
    """New, Attempted or Connected → Meeting Scheduled when a meeting is booked; a task to
    record the outcome of a meeting that ended without one."""

    enabled: bool = True
    ignored_outcomes: tuple[str, ...] = ("CANCELED", "NO_SHOW")
    record_outcome: MeetingOutcomeTask = MeetingOutcomeTask()


class OpenDeal(_Strict):
    """Any rung below → Open Deal when the contact has an open deal."""

    enabled: bool = True
    lifecycle_to_opportunity: bool = False


class ReapproachTask(TaskTemplate):
    due_in_hours: float = Field(default=24, ge=0, le=24 * 30)
    type: TaskType = "CALL"
    priority: TaskPriority = "MEDIUM"
    subject: str = "Re-approach: {{ contact.name }}"
    body: str = "Set to Bad Timing {{ days }} days ago. Time to ask again."


class BadTiming(_Strict):
    """A re-approach task once a contact has been Bad Timing for `reapproach_days`."""

    enabled: bool = True
    reapproach_days: float = Field(default=30, gt=0, le=3650)
    reapproach: ReapproachTask = ReapproachTask()


# ---- notifications --------------------------------------------------------------------------


class Notify(_Strict):
    sender: str = "leadops <leadops@example.com>"
    ops_email: str = Field(default="ops@example.com", pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    subject: str = "leadops: {{ total }} update(s) for your contacts"
    ops_summary: bool = True

    _templates = field_validator("subject")(_check_template)


# ---- qualify, first-touch SLA, team channels (issue #14) --------------------------------


class Qualify(_Strict):
    """Lead (and, with `subscribers`, subscriber) → MQL when `when` matches. Off by default."""

    enabled: bool = False
    subscribers: bool = False
    when: tuple[Group, ...] | None = None

    _groups = field_validator("when")(check_groups)

    @model_validator(mode="after")
    def _conditions_when_enabled(self) -> Qualify:
        if self.enabled and self.when is None:
            raise ValueError("qualify is enabled but has no `when` conditions")
        return self

    @property
    def conditions(self) -> tuple[Group, ...]:
        return self.when or ()


def _check_email(value: str) -> str:
    if value and not _EMAIL.match(value):
        raise ValueError(f"{value!r} is not an email address")
    return value


class Sla(_Strict):
    """First-touch SLA: a New lead untouched `first_touch_hours` after it became New (or with
    its first-touch task past due) is a breach; its owner's manager is alerted once."""

    enabled: bool = False
    first_touch_hours: float = Field(default=4, gt=0, le=24 * 30)
    managers: dict[str, str] = Field(default_factory=dict)  # owner id or email -> manager email
    escalation_email: str = ""  # a team's ops address for owners without a manager

    _address = field_validator("escalation_email")(_check_email)

    @field_validator("managers", mode="before")
    @classmethod
    def _owner_ids_as_text(cls, value: object) -> object:
        """YAML reads an unquoted owner id (`70000002: …`) as a number."""
        return {str(k): v for k, v in value.items()} if isinstance(value, dict) else value

    @field_validator("managers")
    @classmethod
    def _manager_addresses(cls, value: dict[str, str]) -> dict[str, str]:
        bad = {owner: email for owner, email in value.items() if not _EMAIL.match(email or "")}
        if bad:
            raise ValueError(f"manager addresses must be email addresses; not: {bad}")
        return {owner.strip().lower(): email for owner, email in value.items()}

    def manager_of(self, owner_id: str | None, owner_email: str | None) -> str | None:
        """The owner's manager address (by owner id, then email), else the escalation one."""
        for key in (owner_id, owner_email):
            if key and key.lower() in self.managers:
                return self.managers[key.lower()]
        return self.escalation_email or None


ChannelMessage = Literal["summary", "failures", "breaches"]


class Channels(_Strict):
    """Team channels: names of Prefect notification blocks (SlackWebhook,
    MicrosoftTeamsWebhook, CustomWebhookNotificationBlock) that get one message per run."""

    blocks: tuple[str, ...] = ()
    post: tuple[ChannelMessage, ...] = ("summary", "failures", "breaches")

    @field_validator("blocks")
    @classmethod
    def _names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [name for name in value if not _BLOCK_NAME.match(name)]
        if bad:
            raise ValueError(
                f"blocks are named '<block type slug>/<block name>' (e.g. "
                f"slack-webhook/sales-team, ms-teams-webhook/ops, custom-webhook/ops); not: {bad}"
            )
        return value


# ---- end of issue #14 blocks ---------------------------------------------------------------


class Rules(_Strict):
    """The whole `lifecycle.yaml`."""

    stages: Stages = Stages()
    lead_status: LeadStatusRoles = LeadStatusRoles()
    qualify: Qualify = Qualify()
    sla: Sla = Sla()
    channels: Channels = Channels()
    promote: Promote = Promote()
    new_lead: NewLead = NewLead()
    attempted: Attempted = Attempted()
    followup: Followup = Followup()
    recycle: Recycle = Recycle()
    # the lead-status ladder
    connected: Connected = Connected()
    meeting_scheduled: MeetingScheduled = MeetingScheduled()
    open_deal: OpenDeal = OpenDeal()
    bad_timing: BadTiming = BadTiming()
    notify: Notify = Notify()
    report: ReportSettings = ReportSettings()

    @model_validator(mode="after")
    def _meeting_status_mapped(self) -> Rules:
        if self.meeting_scheduled.enabled and not self.lead_status.meeting_scheduled:
            raise ValueError(
                "meeting_scheduled is enabled but lead_status.meeting_scheduled is not mapped: "
                "name your portal's hs_lead_status option for it, or set "
                "meeting_scheduled.enabled: false"
            )
        return self

    @model_validator(mode="after")
    def _recycled_status_known(self) -> Rules:
        roles = set(self.lead_status.model_dump().values())
        if self.recycle.lead_status and self.recycle.lead_status in {
            self.lead_status.new,
            self.lead_status.attempted,
        }:
            raise ValueError(
                f"recycle.lead_status {self.recycle.lead_status!r} would make recycled contacts "
                f"candidates again; use '' (clear) or another status (roles: {sorted(roles)})"
            )
        return self


class ConfigError(ValueError):
    """Raised when the rules file is unreadable or invalid; `problems` lists each one."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid configuration in {source}:\n{lines}")


def _describe(error: dict[str, Any]) -> str:
    path = ".".join(str(p) for p in error["loc"]) or "(top level)"
    kind = error["type"]
    given = error.get("input")
    if kind == "extra_forbidden":
        return f"{path}: unknown key (value {given!r}); check its spelling against lifecycle.yaml"
    message = error["msg"].removeprefix("Value error, ")
    if kind == "literal_error" or "greater" in message or "less" in message:
        return f"{path}: {given!r} is not allowed: {message}"
    if kind == "missing":
        return f"{path}: required key is missing"
    return f"{path}: {message} (given {given!r})"


def parse_rules(data: Any, source: str = "<rules>") -> Rules:
    """Validate already-parsed YAML/JSON data into `Rules`."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(source, [f"(top level): expected a mapping, got {type(data).__name__}"])
    try:
        return Rules.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, [_describe(e) for e in exc.errors()]) from None


def load_rules(path: Path | str | None = None) -> Rules:
    """Read and validate a rules file (the packaged default when `path` is None)."""
    path = Path(path) if path else DEFAULT_RULES
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), [f"cannot read file: {exc.strerror}"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(str(path), [f"not valid YAML: {exc}"]) from None
    return parse_rules(data, str(path))
