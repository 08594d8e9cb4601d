"""What several rules share: what to fetch, outbound-touch detection, when a contact became
New, and the builders that turn a per-contact decision into `Change`s.

Pure: no I/O, no Prefect. A rule's per-contact decision raises `CannotJudge` when a value it
needs is missing or unreadable; `plan_each` turns that into a skip `Change` with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from config.rules import Rules
from model.changes import Change, RuleName
from model.records import Engagement, EngagementKind, Record

Filter = dict[str, str]
Engagements = Mapping[str, Sequence[Engagement]]

SQL_DATE = "hs_lifecyclestage_salesqualifiedlead_date"
RESOLUTION = timedelta(milliseconds=1)  # HubSpot's timestamps are in milliseconds
LEAD_STATUS_HISTORY: tuple[str, ...] = ("hs_lead_status",)
BASE_CONTACT_PROPERTIES: tuple[str, ...] = (
    "firstname",
    "lastname",
    "email",
    "company",
    "hubspot_owner_id",
    "lifecyclestage",
    "hs_lead_status",
)

# The engagement properties every rule reads, per kind: the fetch layer loads these.
ENGAGEMENT_PROPERTIES: Mapping[EngagementKind, tuple[str, ...]] = {
    "email": ("hs_timestamp", "hs_email_direction", "hs_email_status"),
    "call": ("hs_timestamp", "hs_call_direction", "hs_call_status", "hs_call_disposition"),
    "meeting": (
        "hs_timestamp",
        "hs_meeting_start_time",
        "hs_meeting_end_time",
        "hs_meeting_outcome",
        "hs_meeting_title",
        "hs_createdate",
    ),
    "task": ("hs_timestamp", "hs_task_subject", "hs_task_body", "hs_task_status", "hs_task_type"),
    "deal": ("dealname", "dealstage", "pipeline", "amount"),
}

# An outbound email in these states never reached the contact; a call in these was never dialled.
UNSENT_EMAIL_STATUSES = frozenset({"BOUNCED", "FAILED", "SCHEDULED"})
UNDIALLED_CALL_STATUSES = frozenset({"CANCELED", "FAILED", "QUEUED"})


class CannotJudge(Exception):
    """A contact a rule cannot decide on (missing or bad values); planned as a skip."""


def contact_properties(*extra: str) -> list[str]:
    """The base contact properties plus `extra`, without duplicates, in order."""
    return list(dict.fromkeys((*BASE_CONTACT_PROPERTIES, *extra)))


def eq(prop: str, value: str) -> Filter:
    return {"propertyName": prop, "operator": "EQ", "value": value}


def has(prop: str) -> Filter:
    return {"propertyName": prop, "operator": "HAS_PROPERTY"}


def status_groups(*statuses: str) -> list[list[Filter]]:
    """One OR-ed search group per lead status (an unmapped, empty one left out)."""
    return [[eq("hs_lead_status", status)] for status in statuses if status]


def not_has(prop: str) -> Filter:
    return {"propertyName": prop, "operator": "NOT_HAS_PROPERTY"}


def as_utc(when: datetime) -> datetime:
    """An aware UTC datetime; naive input is taken as UTC."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def fmt(when: datetime) -> str:
    return f"{as_utc(when):%Y-%m-%d %H:%M} UTC"


def is_outbound_touch(engagement: Engagement) -> bool:
    """A sent or logged outbound email, or a dialled outbound call, with a readable time."""
    if engagement.timestamp is None:
        return False
    if engagement.kind == "email":
        return (
            engagement.get("hs_email_direction") == "EMAIL"
            and engagement.get("hs_email_status") not in UNSENT_EMAIL_STATUSES
        )
    if engagement.kind == "call":
        return (
            engagement.get("hs_call_direction") == "OUTBOUND"
            and engagement.get("hs_call_status") not in UNDIALLED_CALL_STATUSES
        )
    return False


def is_connected_call(engagement: Engagement, rules: Rules) -> bool:
    """A call (either direction) whose outcome is one of the configured connected ones."""
    return (
        engagement.kind == "call"
        and engagement.get("hs_call_disposition") in rules.connected.call_dispositions
    )


def is_reply(engagement: Engagement) -> bool:
    """An incoming email (the contact wrote to us) with a readable time."""
    return (
        engagement.kind == "email"
        and engagement.get("hs_email_direction") == "INCOMING_EMAIL"
        and engagement.timestamp is not None
    )


def touches_since(engagements: Iterable[Engagement], since: datetime) -> list[Engagement]:
    """Outbound touches logged strictly after `since`, oldest first, each engagement once."""
    found: dict[str, tuple[datetime, Engagement]] = {}
    for engagement in engagements:
        when = engagement.timestamp
        if is_outbound_touch(engagement) and when is not None and when > since:
            found.setdefault(engagement.id, (when, engagement))
    return [e for _, e in sorted(found.values(), key=lambda pair: pair[0])]


def describe_touch(engagement: Engagement) -> str:
    """E.g. `outbound call on 2026-11-20 14:02 UTC`."""
    when = engagement.timestamp
    return f"outbound {engagement.kind} on {fmt(when) if when else 'an unknown date'}"


def became_new_at(record: Record, rules: Rules) -> datetime | None:
    """When the contact's latest run of lead status New began.

    From the `hs_lead_status` history (newest first): the oldest version of the most recent
    consecutive run of the New value. Without one, when it became an SQL. None if neither.
    """
    return status_set_at(record, rules.lead_status.new) or record.time(SQL_DATE)


def status_set_at(record: Record, status: str) -> datetime | None:
    """When the contact's latest run of lead status `status` began, from the
    `hs_lead_status` history (newest first): the oldest version of the most recent
    consecutive run of the value. None without one."""
    start, in_run = None, False
    for value, when in record.history.get("hs_lead_status", ()):
        if value == status:
            in_run, start = True, when
        elif in_run:
            break
    return as_utc(start) if start is not None else None


def new_time_or_skip(record: Record, rules: Rules) -> datetime:
    when = became_new_at(record, rules)
    if when is None:
        raise CannotJudge(
            f"cannot tell when lead status became {rules.lead_status.new}: no hs_lead_status "
            f"history and no {SQL_DATE}"
        )
    return when


def change(rule: RuleName, record: Record, reason: str, **fields: object) -> Change:
    """A Change for `record` carrying its name and owner (None when unowned)."""
    return Change(
        rule=rule,
        contact_id=record.id,
        contact_name=record.name,
        owner_id=record.get("hubspot_owner_id"),
        reason=reason,
        **fields,  # type: ignore[arg-type]
    )


def update(rule: RuleName, record: Record, properties: Mapping[str, str], reason: str) -> Change:
    """A property update, remembering the values it replaces."""
    before = {name: record.get(name) for name in properties}
    return change(rule, record, reason, before=before, properties=dict(properties))


def skip(rule: RuleName, record: Record, reason: str) -> Change:
    return change(rule, record, reason, skip=True)


def plan_each(
    rule: RuleName, contacts: Iterable[Record], decide: Callable[[Record], list[Change]]
) -> list[Change]:
    """Every contact's changes; a contact that raised `CannotJudge` becomes a skip."""
    planned: list[Change] = []
    for record in contacts:
        try:
            planned.extend(decide(record))
        except CannotJudge as exc:
            planned.append(skip(rule, record, str(exc)))
    return planned
