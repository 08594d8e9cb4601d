"""Who hears what after a run: one digest per recipient of the run's *applied* changes. Pure.

`plan_digests` groups the applied changes by recipient into sections (New SQLs, Tasks
created, Moved to Attempted, Moved up the ladder, Recycled), property values shown by their
labels in the portal (`labels`, read once per run; a value without one shows as itself),
routing contacts whose owner cannot be reached (none, archived, no usable email) to the ops
address with the reason. It reads the changes once, and each digest keeps only what its mail
shows (`notify.digest.DigestWriter`), so a big run's changes can stream from disk. The ops
summary and failure alerts are planned in `notify.ops_plan`. Then `notify.render` turns them
into emails, `notify.outbox` keeps them until sent, and `notify.deliver` sends them from a run.

Example:
    ```python
    from config.rules import Rules
    from model.changes import Change, ChangeResult, Outcome
    from model.records import Owner
    from notify.plan import plan_digests

    change = Change("promote", "101", "Ada Lovelace", "7", "score 72 ≥ 50",
                    properties={"lifecyclestage": "salesqualifiedlead"})
    owners = {"7": Owner("7", "grace@example.com", "Grace", "Hopper")}
    digests = plan_digests([ChangeResult(change, Outcome.APPLIED)], owners, Rules(),
                           portal_id="12345", run_name="amber-fox")
    print(digests[0].recipient, digests[0].total)
    ```
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from pathlib import Path

from config.rules import Rules
from config.settings import DEFAULT_UI_DOMAIN
from model.changes import Change, ChangeResult, Outcome
from model.records import Owner
from notify.digest import (
    ATTEMPTED,
    BREACHED,
    LADDER,
    NEW_MQLS,
    NEW_SQLS,
    RECYCLED,
    TASKS,
    Digest,
    DigestLine,
    DigestWriter,
)
from notify.text import OPS_NAME, one_line, record_url, usable_email

LADDER_RULES = ("open_deal", "meeting_scheduled", "connected")
SLA_NOTICE = "sla"  # the rule name of the notices `flows.escalation` adds for breaches
PROPERTY_NAMES = {"hs_lead_status": "Lead status", "lifecyclestage": "Lifecycle stage"}
Labels = Mapping[str, Mapping[str, str]]  # property -> option value -> label
_SCORE = re.compile(r"^\S+ (-?\d[\d.]*) [≥>≤<=≠]")  # the first number a reason compares


# ---------------------------------------------------------------- routing and sections


def route(owner_id: str | None, owners: Mapping[str, Owner]) -> tuple[Owner | None, str]:
    """The owner to mail, or None and why the contact goes to ops instead."""
    if not owner_id:
        return None, "no owner"
    owner = owners.get(owner_id)
    if owner is None:
        return None, f"owner {one_line(owner_id, 40)} not found"
    if owner.archived:
        return None, f"owner archived: {one_line(owner.name)}"
    if not owner.email:
        return None, f"owner has no email: {one_line(owner.name)}"
    if not usable_email(owner.email):
        return None, f"owner email is not usable: {one_line(owner.name)}"
    return owner, ""


def section_of(change: Change) -> str | None:
    """The digest section a change belongs to (None: not something owners are told)."""
    if change.skip:
        return None
    if change.task is not None:
        return TASKS
    if change.rule == SLA_NOTICE:
        return BREACHED
    if change.rule == "qualify" and change.properties:
        return NEW_MQLS
    if change.rule in ("promote", "new_lead") and change.properties:
        return NEW_SQLS
    if change.rule == "attempted" and change.properties:
        return ATTEMPTED
    if change.rule in LADDER_RULES and change.properties:
        return LADDER
    if change.rule == "recycle":
        return RECYCLED
    return None


def labelled(change: Change, labels: Labels) -> str:
    """`Lead status: Attempted to contact → Connected`: each property written, its values by
    their labels in the portal (a value without one shows as itself; ∅ for none)."""

    def shown(prop: str, value: str | None) -> str:
        return labels.get(prop, {}).get(value, value) if value else "∅"

    return "; ".join(
        f"{PROPERTY_NAMES.get(prop, prop)}: {shown(prop, change.before.get(prop))} → "
        f"{shown(prop, value)}"
        for prop, value in change.properties.items()
    )


@dataclass(frozen=True)
class Recipient:
    """Who is told of a change, and why ops when its owner cannot be reached (`note`)."""

    address: str
    name: str
    note: str

    @property
    def key(self) -> str:
        return self.address.lower()


def recipient_of(change: Change, owners: Mapping[str, Owner], rules: Rules) -> Recipient | None:
    """Whose digest tells `change` (None: owners are not told of it)."""
    if section_of(change) is None:
        return None
    owner, note = route(change.owner_id, owners)
    address = owner.email if owner and owner.email else rules.notify.ops_email
    return Recipient(address, one_line(owner.name if owner else OPS_NAME), note)


def told(
    results: Iterable[ChangeResult], owners: Mapping[str, Owner], rules: Rules
) -> Iterator[tuple[ChangeResult, Recipient]]:
    """The applied changes owners are told of, in run order, each with its recipient."""
    for result in results:
        if result.outcome is Outcome.APPLIED:
            who = recipient_of(result.change, owners, rules)
            if who is not None:
                yield result, who


# ---------------------------------------------------------------- lines


@dataclass(frozen=True)
class _Links:
    """How a line shows a contact: its record link, due times, property labels."""

    portal_id: str
    ui_domain: str
    timezone: tzinfo
    labels: Labels

    def line(self, change: Change, note: str, values: tuple[str, ...]) -> DigestLine:
        return DigestLine(
            contact_id=change.contact_id,
            name=one_line(change.contact_name) or f"contact {change.contact_id}",
            url=record_url(self.portal_id, change.contact_id, self.ui_domain),
            values=values,
            note=note,
        )

    def values(self, title: str, change: Change) -> tuple[str, ...]:
        """The section's column values for one change (not Recycled: `_Recycled`); due
        times in the portal's timezone."""
        if title in (BREACHED, NEW_MQLS):
            return (one_line(change.reason),)
        if title == NEW_SQLS:
            score = _SCORE.search(change.reason)
            return (score.group(1) if score else "—", one_line(change.reason))
        if title == TASKS:
            task = change.task
            assert task is not None
            due = f"{task.due.astimezone(self.timezone):%a %Y-%m-%d %H:%M %Z}"
            return (one_line(task.subject), due, one_line(change.reason))
        return (one_line(labelled(change, self.labels)), one_line(change.reason))


@dataclass
class _Recycled:
    """A contact's Recycled line: its update and list changes merged, whatever their order."""

    first: Change
    note: str
    lists: list[str] = field(default_factory=list)
    update_reason: str | None = None

    def take(self, change: Change) -> None:
        if change.list_name:
            self.lists.append(change.list_name)
        if change.properties and self.update_reason is None:
            self.update_reason = change.reason

    def values(self) -> tuple[str, ...]:
        return (one_line(", ".join(self.lists)) or "—", one_line(self.update_reason or "—"))


@dataclass
class _Planned:
    """One recipient's digest being written, and its Recycled lines until the end."""

    writer: DigestWriter
    recycled: dict[str, _Recycled] = field(default_factory=dict)

    def add(self, change: Change, note: str, links: _Links) -> None:
        title = section_of(change)
        assert title is not None
        if title != RECYCLED:
            self.writer.add(title, links.line(change, note, links.values(title, change)))
            return
        group = self.recycled.get(change.contact_id)
        if group is None:
            group = self.recycled[change.contact_id] = _Recycled(change, note)
        group.take(change)

    def finish(self, links: _Links) -> Digest:
        for group in self.recycled.values():
            self.writer.add(RECYCLED, links.line(group.first, group.note, group.values()))
        return self.writer.finish()


def plan_digests(
    results: Iterable[ChangeResult],
    owners: Mapping[str, Owner],
    rules: Rules,
    *,
    portal_id: str,
    run_name: str,
    ui_domain: str = DEFAULT_UI_DOMAIN,
    timezone: tzinfo = UTC,
    labels: Labels | None = None,
    folder: Path | None = None,
) -> list[Digest]:
    """One digest per recipient with something new; only applied changes are told.

    Contacts without a reachable owner go to `rules.notify.ops_email`, each with the reason.
    Due times are shown in `timezone` (the portal's); `labels` (property -> value -> label,
    from the portal's property definitions) make values readable. `results` are read once;
    a digest's lines past what its mail shows wait in temporary files in `folder`.
    """
    links = _Links(portal_id, ui_domain, timezone, labels or {})
    planned: dict[str, _Planned] = {}
    for result, who in told(results, owners, rules):
        digest = planned.get(who.key)
        if digest is None:
            writer = DigestWriter(run_name, who.address, who.name, folder)
            digest = planned[who.key] = _Planned(writer)
        digest.writer.for_ops = digest.writer.for_ops or bool(who.note)
        digest.add(result.change, who.note, links)
    ordered = sorted(planned.values(), key=lambda p: p.writer.order)
    return [digest.finish(links) for digest in ordered]
