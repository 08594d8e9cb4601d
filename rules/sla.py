"""First-touch SLA: which New leads are in breach, and how this run's breaches compare with
the ones already told. Pure: records and state in, breaches out.

A contact whose lead status is New is in breach when no outbound touch was logged since it
became New and either its leadops first-touch task is past due and not completed, or
`sla.first_touch_hours` hours (clock hours: a promise to the lead, not working time) have
passed since it became New. A breach is known by the contact and the instant it became New,
so a contact that becomes New again later can breach again, but one breach is alerted once.
A breach already told that no longer holds (the lead was touched, late, or left New) is
closed.

Time alone puts an untouched New lead in breach: `next_deadline` says when (incremental
cycles keep it and judge the lead again once it has passed); every other change that may
open or close a breach is an edit (the lead status) or an engagement (a touch, a task).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from model.records import Engagement, Record
from rules.definition import Situation
from rules.kit import (
    RESOLUTION,
    Engagements,
    as_utc,
    became_new_at,
    describe_touch,
    fmt,
    touches_since,
)
from rules.tasks import is_open, task_kind


@dataclass(frozen=True)
class Breach:
    """A New lead past its first-touch deadline, untouched."""

    contact_id: str
    contact_name: str
    owner_id: str | None
    new_since: datetime
    due: datetime
    reason: str

    @property
    def key(self) -> str:
        """The same across runs for one breach: the contact and when it became New."""
        return f"{self.contact_id}@{as_utc(self.new_since).isoformat()}"


@dataclass(frozen=True)
class Closed:
    """A breach told earlier that no longer holds, and why."""

    key: str
    contact_id: str
    contact_name: str
    owner_id: str | None
    reason: str


@dataclass(frozen=True)
class Escalation:
    """This run's view: breaches new this run (to alert), still open, and closed."""

    new: tuple[Breach, ...]
    still_open: tuple[Breach, ...]
    closed: tuple[Closed, ...]


def _overdue_task(engagements: Sequence[Engagement], now: datetime) -> Engagement | None:
    """The leadops first-touch task past its due date and not completed, if any."""
    for task in _first_touch_tasks(engagements):
        if task.timestamp is not None and task.timestamp < now:
            return task
    return None


def _first_touch_tasks(engagements: Sequence[Engagement]) -> list[Engagement]:
    """The lead's open leadops first-touch tasks that have a due date."""
    return [
        task
        for task in engagements
        if task_kind(task) == "first_touch" and is_open(task) and task.timestamp is not None
    ]


def next_deadline(
    record: Record, engagements: Sequence[Engagement], situation: Situation
) -> datetime | None:
    """The first instant after now at which time alone may put an untouched New lead in
    breach: `first_touch_hours` after it became New (a breach from that instant on), or just
    after an open first-touch task's due date (overdue once now is past it). None for every
    other contact, and once both have passed: only an edit or an engagement changes the
    breach then."""
    rules, now = situation.rules, situation.now
    new_since = became_new_at(record, rules)
    if record.get("hs_lead_status") != rules.lead_status.new or new_since is None:
        return None
    if touches_since(engagements, new_since):
        return None
    moments = [new_since + timedelta(hours=rules.sla.first_touch_hours)]
    due_dates = (task.timestamp for task in _first_touch_tasks(engagements))
    moments += [due + RESOLUTION for due in due_dates if due is not None]
    return min((m for m in moments if m > now), default=None)


def find_breaches(
    contacts: Iterable[Record], engagements: Engagements, situation: Situation
) -> list[Breach]:
    """The New leads among `contacts` in breach of the first-touch SLA at `situation.now`."""
    rules, now = situation.rules, situation.now
    found = []
    for record in contacts:
        new_since = became_new_at(record, rules)
        if record.get("hs_lead_status") != rules.lead_status.new or new_since is None:
            continue
        activity = engagements.get(record.id, ())
        if touches_since(activity, new_since):
            continue
        hours = rules.sla.first_touch_hours
        deadline = new_since + timedelta(hours=hours)
        task = _overdue_task(activity, now)
        if task is not None and task.timestamp is not None:
            reason = f"first-touch task due {fmt(task.timestamp)} is not done, no outbound touch"
            deadline = min(deadline, task.timestamp)
        elif now >= deadline:
            reason = f"no outbound touch {hours:g} hour(s) after becoming New"
        else:
            continue
        found.append(
            Breach(
                contact_id=record.id,
                contact_name=record.name,
                owner_id=record.get("hubspot_owner_id"),
                new_since=new_since,
                due=deadline,
                reason=f"{reason} (New since {fmt(new_since)})",
            )
        )
    return found


def late_touches(
    contacts: Iterable[Record], engagements: Engagements, situation: Situation
) -> dict[str, str]:
    """For New leads touched since they became New: contact id → the first touch, described."""
    touched = {}
    for record in contacts:
        new_since = became_new_at(record, situation.rules)
        first = touches_since(engagements.get(record.id, ()), new_since) if new_since else []
        if first:
            touched[record.id] = describe_touch(first[0])
    return touched


def escalation(
    breaches: Sequence[Breach],
    told: Mapping[str, Mapping[str, str]],
    touched: Mapping[str, str],
    judged: Collection[str] | None = None,
) -> Escalation:
    """Compare this run's breaches with those told before (`told`: key → its stored fields).

    `judged`: the contacts this run judged (None: every New lead); a told breach of a contact
    not judged is still open, as told. Closed breaches name the late touch when this run saw
    it, else say the lead left New.
    """
    current = {b.key: b for b in breaches}
    unjudged = {
        key: fields
        for key, fields in told.items()
        if judged is not None and told_contact(key, fields) not in judged
    }
    closed = tuple(
        Closed(
            key=key,
            contact_id=told_contact(key, fields),
            contact_name=fields.get("contact_name", ""),
            owner_id=fields.get("owner_id") or None,
            reason=_closed_reason(told_contact(key, fields), touched),
        )
        for key, fields in told.items()
        if key not in current and key not in unjudged
    )
    return Escalation(
        new=tuple(b for b in breaches if b.key not in told),
        still_open=tuple(b for b in breaches if b.key in told)
        + tuple(_as_told(key, fields) for key, fields in unjudged.items()),
        closed=closed,
    )


def told_fields(breach: Breach) -> dict[str, str]:
    """What the told-breach state keeps of a breach (`runstate.breaches`)."""
    return {
        "contact_id": breach.contact_id,
        "contact_name": breach.contact_name,
        "owner_id": breach.owner_id or "",
        "new_since": breach.new_since.isoformat(),
        "due": breach.due.isoformat(),
        "reason": breach.reason,
    }


def told_contact(key: str, fields: Mapping[str, str]) -> str:
    """The contact of a told breach (a state without `contact_id`: from its key)."""
    return fields.get("contact_id", key.partition("@")[0])


def _as_told(key: str, fields: Mapping[str, str]) -> Breach:
    """A breach told earlier, as told (a state written before `due` was kept: New since)."""
    new_since = datetime.fromisoformat(fields.get("new_since") or key.partition("@")[2])
    return Breach(
        contact_id=told_contact(key, fields),
        contact_name=fields.get("contact_name", ""),
        owner_id=fields.get("owner_id") or None,
        new_since=new_since,
        due=datetime.fromisoformat(fields["due"]) if fields.get("due") else new_since,
        reason=fields.get("reason") or "told earlier, unchanged since",
    )


def _closed_reason(contact_id: str, touched: Mapping[str, str]) -> str:
    if contact_id in touched:
        return f"touched late: {touched[contact_id]}"
    return "no longer an untouched New lead (touched, or lead status changed)"
