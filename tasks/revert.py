"""Prefect tasks for `leadops undo`: read what the portal shows now, and take changes back in
batches (property restores through the same path as any update; task archives; list removals).

Example:
    ```python
    from tasks.revert import read_portal_now

    now = read_portal_now.fn(gateway, run.applied)  # a rules.undo.PortalNow
    ```
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from gateway.client import DailyLimitReached, HubSpotError, HubSpotGateway
from model.changes import ChangeResult, Outcome
from rules.kit import BASE_CONTACT_PROPERTIES
from rules.undo import PortalNow, UndoResult, UndoStep
from tasks.apply import update_contacts

TASK_PROPERTIES = ("hs_task_status", "hs_task_subject")


@task(name="read-portal-now", cache_policy=NO_CACHE)
def read_portal_now(gateway: HubSpotGateway, applied: Sequence[ChangeResult]) -> PortalNow:
    """The contacts a run changed (with the history of what it wrote), its tasks that still
    exist, and the lists of the contacts it added to one."""
    updates = [r.change for r in applied if r.change.properties]
    written = sorted({name for change in updates for name in change.properties})
    contacts = {}
    if updates:
        ids = [change.contact_id for change in updates]
        properties = [*BASE_CONTACT_PROPERTIES, *written]
        read = gateway.batch_read("contacts", ids, properties, history=written)
        contacts = {record.id: record for record in read.succeeded}
    task_ids = [r.created for r in applied if r.change.task is not None and r.created]
    tasks = {}
    if task_ids:
        tasks = {r.id: r for r in gateway.batch_read("tasks", task_ids, TASK_PROPERTIES).succeeded}
    joined = [r.change.contact_id for r in applied if r.change.list_name and r.created]
    lists_of = gateway.list_memberships(joined) if joined else {}
    return PortalNow(contacts, tasks, lists_of)


def _failed(steps: Sequence[UndoStep], message: str) -> list[UndoResult]:
    return [UndoResult(step, Outcome.FAILED, message) for step in steps]


def restore_properties(gateway: HubSpotGateway, steps: Sequence[UndoStep]) -> list[UndoResult]:
    """Properties back to their before-values, through the apply path's `update-contacts`
    task (a stage moving back is cleared, set, then read back)."""
    by_contact = {step.contact_id: step for step in steps}
    results = update_contacts(gateway, quote([step.as_change() for step in steps]))
    return [UndoResult(by_contact[r.change.contact_id], r.outcome, r.error) for r in results]


@task(name="delete-tasks", cache_policy=NO_CACHE)
def delete_tasks(gateway: HubSpotGateway, steps: Sequence[UndoStep]) -> list[UndoResult]:
    """Archive the still-open tasks a run created."""
    result = gateway.archive("tasks", [step.target or "" for step in steps])
    gone = {record.id for record in result.succeeded}
    errors = {error.id: error.message for error in result.failed}
    return [
        UndoResult(step, Outcome.APPLIED)
        if step.target in gone
        else UndoResult(step, Outcome.FAILED, errors.get(step.target) or "not confirmed")
        for step in steps
    ]


@task(name="leave-lists", cache_policy=NO_CACHE)
def leave_lists(gateway: HubSpotGateway, steps: Sequence[UndoStep]) -> list[UndoResult]:
    """Remove contacts from the lists a run added them to (one call per list)."""
    by_list: dict[str, list[UndoStep]] = defaultdict(list)
    for step in steps:
        by_list[step.target or ""].append(step)
    results: list[UndoResult] = []
    for list_id, members in by_list.items():
        try:
            removed = set(gateway.remove_from_list(list_id, [s.contact_id for s in members]))
        except DailyLimitReached:
            raise
        except HubSpotError as exc:
            results += _failed(members, str(exc))
            continue
        results += [
            UndoResult(step, Outcome.APPLIED)
            if step.contact_id in removed
            else UndoResult(step, Outcome.FAILED, "HubSpot did not remove it")
            for step in members
        ]
    return results
