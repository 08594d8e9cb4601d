"""Undo: what to take back of a run's applied changes, judged against the portal as it is now.

Pure: the run's applied changes (as `runstate.runlog` kept them) and what HubSpot shows now in,
steps out, each with a human reason. Per contact, a run's property writes are taken as one net
change (its first before-value to its last written value: promote then attempted is one step).

- Properties go back to their before-values, unless a property of the step no longer holds what
  the run wrote, or its history shows a write after the run ended: then a person (or a later
  run) changed the contact since, and the whole step is kept as is, with that reason. A
  property already back at its before-value needs nothing (so a second undo does nothing).
- A task the run created is deleted while it is open; a completed one is kept (someone did it).
- A list membership the run added is removed; one the contact had before the run is kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from model.changes import Change, ChangeResult, Outcome
from model.records import Record

UndoAction = Literal["restore", "delete-task", "leave-list"]
# HubSpot's clock and ours may differ a little: a history version this soon after the run
# ended is taken as the run's own write
CLOCK_SKEW = timedelta(minutes=1)


@dataclass(frozen=True)
class UndoStep:
    """One thing to take back for one contact, or (`keep`) the reason it stays."""

    action: UndoAction
    contact_id: str
    contact_name: str
    rules: tuple[str, ...]
    reason: str
    keep: bool = False  # nothing to do: already undone, or changed since by someone else
    restore: Mapping[str, str] = field(default_factory=dict)  # property -> value ("" clears)
    current: Mapping[str, str | None] = field(default_factory=dict)  # what it holds now
    target: str | None = None  # the task's id, or the list's id

    def describe(self) -> str:
        if self.action == "restore":
            return (
                ", ".join(
                    f"{k}: {self.current.get(k) or '∅'} → {v or '∅'}"
                    for k, v in self.restore.items()
                )
                or "properties"
            )
        if self.action == "delete-task":
            return f"delete task {self.target}"
        return f"remove from list {self.target}"

    def as_change(self) -> Change:
        """The property write, as the apply path takes it (a stage moving back is cleared
        first: `tasks.apply.update_contacts`)."""
        return Change(
            rule="+".join(self.rules),
            contact_id=self.contact_id,
            contact_name=self.contact_name,
            owner_id=None,
            reason=self.reason,
            before=dict(self.current),
            properties=dict(self.restore),
        )


@dataclass(frozen=True)
class UndoResult:
    step: UndoStep
    outcome: Outcome
    error: str | None = None


@dataclass(frozen=True)
class PortalNow:
    """What HubSpot shows now: the contacts (with history of the properties the run wrote),
    the run's tasks that still exist, and each contact's list ids."""

    contacts: Mapping[str, Record]
    tasks: Mapping[str, Record]
    lists_of: Mapping[str, set[str]]


def plan_undo(
    run: str, applied: Sequence[ChangeResult], finished: datetime, now: PortalNow
) -> list[UndoStep]:
    """Every step that takes `run`'s applied changes back, or says why one stays."""
    steps = _restores(run, [r.change for r in applied if r.change.properties], finished, now)
    for result in applied:
        change = result.change
        if change.task is not None:
            steps.append(_task_step(run, result, now))
        elif change.list_name:
            steps.append(_list_step(run, result, now))
    return steps


def _restores(
    run: str, updates: Sequence[Change], finished: datetime, now: PortalNow
) -> list[UndoStep]:
    first: dict[str, dict[str, str | None]] = {}
    last: dict[str, dict[str, str | None]] = {}
    by_contact: dict[str, list[Change]] = {}
    for change in updates:  # in the order the run made them
        by_contact.setdefault(change.contact_id, []).append(change)
        for name, value in change.properties.items():
            first.setdefault(change.contact_id, {}).setdefault(name, change.before.get(name))
            last.setdefault(change.contact_id, {})[name] = value or None
    steps = []
    for contact_id, changes in by_contact.items():
        rules = tuple(dict.fromkeys(c.rule for c in changes))
        name = changes[0].contact_name
        step = UndoStep("restore", contact_id, name, rules, "", keep=True)
        record = now.contacts.get(contact_id)
        if record is None:
            steps.append(_with(step, f"contact no longer exists in HubSpot (undo of {run})"))
            continue
        before, written = first[contact_id], last[contact_id]
        current = {k: record.get(k) for k in written}
        step = _with(step, "", current=current)
        moved = [k for k in written if current[k] not in (written[k], before[k])]
        pending = {k: before[k] or "" for k in written if current[k] == written[k] != before[k]}
        touched = [k for k in pending if _written_after(record, k, finished)]
        if moved:
            what = ", ".join(f"{k} is now {current[k] or '∅'}" for k in moved)
            reason = f"changed since {run} (by a person or a later run): {what}; kept as is"
        elif not pending:
            reason = f"already undone: back to what it was before {run}"
        elif touched:
            reason = f"{', '.join(touched)} written again since {run} ended; kept as is"
        else:
            steps.append(_with(step, f"undo of {run}", keep=False, restore=pending))
            continue
        steps.append(_with(step, reason))
    return steps


def _written_after(record: Record, name: str, finished: datetime) -> bool:
    """Whether the property's history shows a version written after the run ended."""
    return any(
        when is not None and when > finished + CLOCK_SKEW
        for _, when in record.history.get(name, ())
    )


def _task_step(run: str, result: ChangeResult, now: PortalNow) -> UndoStep:
    change, step = result.change, _kept(result, "delete-task")
    task = now.tasks.get(result.created or "")
    subject = change.task.subject if change.task else "task"
    if result.created is None:
        return _with(step, f"{run} did not record the id of task '{subject}'; kept")
    if task is None:
        return _with(step, f"task '{subject}' is already deleted")
    if task.get("hs_task_status") == "COMPLETED":
        return _with(step, f"task '{subject}' was completed since {run}; kept")
    return _with(step, f"undo of {run}: task '{subject}' is still open", keep=False)


def _list_step(run: str, result: ChangeResult, now: PortalNow) -> UndoStep:
    change, step = result.change, _kept(result, "leave-list")
    if result.created is None:
        return _with(step, f"was in list '{change.list_name}' before {run}; kept")
    if result.created not in now.lists_of.get(change.contact_id, set()):
        return _with(step, f"no longer in list '{change.list_name}'")
    return _with(step, f"undo of {run}: added to list '{change.list_name}' by it", keep=False)


def _kept(result: ChangeResult, action: UndoAction) -> UndoStep:
    """A step for what `result` created (reason and decision to follow)."""
    change = result.change
    return UndoStep(
        action,
        change.contact_id,
        change.contact_name,
        (change.rule,),
        "",
        keep=True,
        target=result.created,
    )


def _with(step: UndoStep, reason: str, **fields: object) -> UndoStep:
    return replace(step, reason=reason, **fields)  # type: ignore[arg-type]
