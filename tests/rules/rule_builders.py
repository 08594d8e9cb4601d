"""Hand-built contacts and engagements for the rule tests, and a pure `apply` of planned changes.

Times are written "YYYY-MM-DD HH:MM" (UTC); `NOW` is Monday 2026-11-23 12:00 UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from config.rules import Rules
from model.changes import Change
from model.records import Engagement, Record

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
MQL, SQL, LEAD = "marketingqualifiedlead", "salesqualifiedlead", "lead"
CONNECTED_GUID = "f240bbac-87c9-4f6e-bf70-924b57d47db7"
NO_ANSWER_GUID = "73a0d17f-1163-4015-bdd5-ec830791da20"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def contact(
    id: str = "1",
    *,
    stage: str | None = None,
    status: str | None = None,
    owner: str | None = "101",
    history: Sequence[tuple[str | None, str | None]] = (),
    **props: str | None,
) -> Record:
    """A contact named Ada Lovelace; `history` is hs_lead_status (value, "time"), newest first."""
    properties: dict[str, str | None] = {
        "firstname": "Ada",
        "lastname": "Lovelace",
        "email": "ada@example.com",
        "company": "Engines Ltd",
        "hubspot_owner_id": owner,
        "lifecyclestage": stage,
        "hs_lead_status": status,
    }
    properties.update(props)
    versions = tuple((value, at(when) if when else None) for value, when in history)
    return Record(id, properties, {"hs_lead_status": versions} if versions else {})


def email(
    id: str, when: str, *, direction: str = "EMAIL", status: str | None = "SENT"
) -> Engagement:
    props = {"hs_timestamp": iso(at(when)), "hs_email_direction": direction}
    return Engagement(id, "email", {**props, "hs_email_status": status})


def call(
    id: str,
    when: str,
    *,
    direction: str = "OUTBOUND",
    status: str = "COMPLETED",
    disposition: str | None = NO_ANSWER_GUID,
) -> Engagement:
    props = {"hs_timestamp": iso(at(when)), "hs_call_direction": direction}
    return Engagement(
        id, "call", {**props, "hs_call_status": status, "hs_call_disposition": disposition}
    )


def meeting(
    id: str, when: str | None, *, start: str | None = None, created: str | None = None
) -> Engagement:
    return Engagement(
        id,
        "meeting",
        {
            "hs_timestamp": iso(at(when)) if when else None,
            "hs_meeting_start_time": iso(at(start)) if start else None,
            "hs_createdate": iso(at(created)) if created else None,
        },
    )


def task(
    id: str, body: str, *, status: str = "NOT_STARTED", due: str = "2026-11-24 09:00"
) -> Engagement:
    return Engagement(
        id,
        "task",
        {"hs_timestamp": iso(at(due)), "hs_task_body": body, "hs_task_status": status},
    )


@dataclass
class World:
    """Contacts, their engagements and list memberships after applying changes."""

    contacts: list[Record]
    engagements: dict[str, list[Engagement]]
    lists: set[tuple[str, str]] = field(default_factory=set)


def apply(
    contacts: Iterable[Record],
    engagements: Mapping[str, Sequence[Engagement]],
    changes: Iterable[Change],
    now: datetime = NOW,
) -> World:
    """What HubSpot would hold after the apply layer ran `changes` at `now` (skips do nothing).

    Property updates are written (a lead-status change is added to its history); a task
    Change adds an open task engagement; a list Change adds a membership.
    """
    world = World(list(contacts), {k: list(v) for k, v in engagements.items()})
    by_id = {record.id: i for i, record in enumerate(world.contacts)}
    for number, chg in enumerate(changes):
        if chg.skip:
            continue
        i = by_id[chg.contact_id]
        if chg.task:
            body = {"hs_task_body": chg.task.body, "hs_task_status": "NOT_STARTED"}
            new = Engagement(f"task-{number}", "task", {**body, "hs_timestamp": iso(chg.task.due)})
            world.engagements.setdefault(chg.contact_id, []).append(new)
        elif chg.list_name:
            world.lists.add((chg.contact_id, chg.list_name))
        else:
            world.contacts[i] = _updated(world.contacts[i], chg.properties, now)
    return world


def _updated(record: Record, properties: Mapping[str, str], now: datetime) -> Record:
    history = dict(record.history)
    if "hs_lead_status" in properties:
        value = properties["hs_lead_status"] or None
        history["hs_lead_status"] = ((value, now), *history.get("hs_lead_status", ()))
    return replace(record, properties={**record.properties, **properties}, history=history)


def actions(changes: Iterable[Change]) -> list[Change]:
    """The changes that would write something (not skips)."""
    return [c for c in changes if not c.skip]


LADDER = ("NEW", "ATTEMPTED_TO_CONTACT", "CONNECTED", "MEETING_SCHEDULED", "OPEN_DEAL")


def steps_back(rule: str, before: str | None, after: str | None, rules: Rules) -> bool:
    """The ladder's promise, written out independently of `rules.ladder` (default roles):
    True when `rule` writing lead status `after` over `before` moves a contact to a lower
    rung, or off an outcome (Unqualified, Bad Timing; Open Deal but by open_deal) it does not
    own. Recycle resets the ladder on purpose."""
    assert rules.lead_status.meeting_scheduled == "MEETING_SCHEDULED"
    if rule == "recycle" or before == after:
        return False
    if before in ("UNQUALIFIED", "BAD_TIMING") or (before == "OPEN_DEAL" and rule != "open_deal"):
        return True
    if before in LADDER:
        return after not in LADDER or LADDER.index(after) < LADDER.index(before)
    return False
