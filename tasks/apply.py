"""Prefect tasks that write planned changes to HubSpot in batches and report every outcome.

Nothing is lost: each change comes back as a `ChangeResult` — applied, or failed with
HubSpot's message — and a half-applied lifecycle move (cleared but not set) is reported
as such.

Example:
    ```python
    from tasks.apply import apply_changes

    results = apply_changes(gateway, changes, dry_run=True)  # every result: Outcome.PLANNED
    ```
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, MutableMapping, Sequence
from functools import partial

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from gateway.client import BatchResult, DailyLimitReached, HubSpotError, HubSpotGateway, NewTask
from model.changes import Change, ChangeResult, Outcome
from model.records import STAGE_ORDER

STAGE = "lifecyclestage"


def moves_stage_back(change: Change) -> bool:
    """True when the change writes a stage HubSpot would ignore without clearing first."""
    target, current = change.properties.get(STAGE), change.before.get(STAGE)
    if not target or not current or target == current:
        return False
    if target in STAGE_ORDER and current in STAGE_ORDER:
        return STAGE_ORDER.index(target) < STAGE_ORDER.index(current)
    return True  # custom stages: order unknown, clearing first is always safe


def _failures(result: BatchResult) -> dict[str | None, str]:
    return {error.id: error.message for error in result.failed}


def _outcomes(
    changes: Iterable[Change], result: BatchResult, prefix: str = ""
) -> tuple[list[ChangeResult], list[Change]]:
    """Split changes into failed results and the changes HubSpot confirmed."""
    done = {record.id for record in result.succeeded}
    errors = _failures(result)
    failed, confirmed = [], []
    for change in changes:
        if change.contact_id in done:
            confirmed.append(change)
            continue
        message = errors.get(change.contact_id) or errors.get(None) or "HubSpot did not confirm it"
        failed.append(ChangeResult(change, Outcome.FAILED, prefix + message))
    return failed, confirmed


def _update(gateway: HubSpotGateway, changes: Sequence[Change]) -> BatchResult:
    return gateway.batch_update("contacts", {c.contact_id: dict(c.properties) for c in changes})


def _move_back(gateway: HubSpotGateway, changes: Sequence[Change]) -> list[ChangeResult]:
    """Clear the stage, then set the earlier one, then read back: HubSpot only moves forward."""
    cleared = gateway.batch_update("contacts", {c.contact_id: {STAGE: ""} for c in changes})
    results, ready = _outcomes(changes, cleared, "could not clear the lifecycle stage: ")
    if not ready:
        return results
    set_result = _update(gateway, ready)
    half, written = _outcomes(
        ready, set_result, "HALF-APPLIED: the lifecycle stage was cleared but not set: "
    )
    results += half
    stages = gateway.batch_read("contacts", [c.contact_id for c in written], [STAGE]).succeeded
    actual = {record.id: record.get(STAGE) for record in stages}
    for change in written:
        target, now = change.properties[STAGE], actual.get(change.contact_id)
        if now == target:
            results.append(ChangeResult(change, Outcome.APPLIED))
        else:
            message = f"HubSpot kept lifecycle stage {now!r} instead of {target!r}"
            results.append(ChangeResult(change, Outcome.FAILED, message))
    return results


@task(name="update-contacts", cache_policy=NO_CACHE)
def update_contacts(gateway: HubSpotGateway, changes: Sequence[Change]) -> list[ChangeResult]:
    """Batch property updates (≤100 per call); backward stage moves are cleared first."""
    backward = [c for c in changes if moves_stage_back(c)]
    forward = [c for c in changes if not moves_stage_back(c)]
    results: list[ChangeResult] = []
    if forward:
        failed, confirmed = _outcomes(forward, _update(gateway, forward))
        results += failed + [ChangeResult(c, Outcome.APPLIED) for c in confirmed]
    if backward:
        results += _move_back(gateway, backward)
    return results


def _new_task(change: Change, active_owners: Collection[str]) -> NewTask:
    spec = change.task
    assert spec is not None
    # HubSpot rejects a whole batch for one archived or unknown owner id: such tasks stay
    # unassigned (the owner's digest goes to ops, who reassign).
    return NewTask(
        contact_id=change.contact_id,
        owner_id=change.owner_id if change.owner_id in active_owners else None,
        properties={
            "hs_timestamp": str(int(spec.due.timestamp() * 1000)),
            "hs_task_subject": spec.subject,
            "hs_task_body": spec.body,
            "hs_task_status": "NOT_STARTED",
            "hs_task_priority": spec.priority,
            "hs_task_type": spec.type,
        },
    )


@task(name="create-tasks", cache_policy=NO_CACHE)
def create_tasks(
    gateway: HubSpotGateway,
    changes: Sequence[Change],
    active_owners: Collection[str],
    stamps: MutableMapping[str, str] | None = None,
) -> list[ChangeResult]:
    """Create follow-up tasks, each associated with its contact and assigned to its owner.
    `stamps` receives each created task's `hs_lastmodifieddate` as HubSpot answered
    (`flows.settled`: the next cycle knows the task unchanged since)."""
    result = gateway.create_tasks([_new_task(c, active_owners) for c in changes])
    if stamps is not None:
        stamps.update(
            {
                r.id: r.properties["hs_lastmodifieddate"]
                for r in result.succeeded
                if r.get("hs_lastmodifieddate")
            }
        )
    # Batch create answers in no guaranteed order: match created tasks back by their contact
    # (as the gateway names it) and body; by body alone when HubSpot named no contact.
    created: dict[tuple[str | None, str], list[str]] = defaultdict(list)
    for record in result.succeeded:
        contact = result.created_for.get(record.id)
        created[contact, record.get("hs_task_body") or ""].append(record.id)
    reasons = "; ".join(sorted({e.message for e in result.failed})) or "HubSpot did not confirm it"
    results = []
    for change in changes:
        body = change.task.body if change.task else ""
        ids = created[change.contact_id, body] or created[None, body]
        if ids:
            results.append(ChangeResult(change, Outcome.APPLIED, created=ids.pop(0)))
        else:
            results.append(ChangeResult(change, Outcome.FAILED, reasons))
    return results


@task(name="add-to-lists", cache_policy=NO_CACHE)
def add_to_lists(
    gateway: HubSpotGateway,
    changes: Sequence[Change],
    list_ids: MutableMapping[str, str] | None = None,
) -> list[ChangeResult]:
    """Add contacts to their nurture lists, creating a list the first time it is needed.

    `list_ids` (name -> id) saves a lookup per list and batch: ids found or created are added.
    """
    by_list: dict[str, list[Change]] = defaultdict(list)
    for change in changes:
        by_list[change.list_name or ""].append(change)
    results: list[ChangeResult] = []
    for name, members in by_list.items():
        try:
            list_id = (list_ids or {}).get(name) or gateway.find_or_create_list(name)
            if list_ids is not None:
                list_ids[name] = list_id
            added = gateway.add_to_list(list_id, [c.contact_id for c in members])
        except DailyLimitReached:
            raise
        except HubSpotError as exc:
            results += [ChangeResult(c, Outcome.FAILED, str(exc)) for c in members]
            continue
        missing, new = set(added.missing), set(added.added)
        for change in members:
            if change.contact_id in missing:
                message = f"HubSpot does not know contact {change.contact_id}"
                results.append(ChangeResult(change, Outcome.FAILED, message))
            else:
                joined = list_id if change.contact_id in new else None
                results.append(ChangeResult(change, Outcome.APPLIED, created=joined))
    return results


def apply_changes(
    gateway: HubSpotGateway,
    changes: Sequence[Change],
    *,
    dry_run: bool,
    active_owners: Collection[str] = (),
    list_ids: MutableMapping[str, str] | None = None,
    task_stamps: MutableMapping[str, str] | None = None,
) -> list[ChangeResult]:
    """Write one batch of planned changes (or, in a dry run, only report them).

    Tasks are assigned to their contact's owner when it is in `active_owners`; `list_ids`
    caches nurture-list ids by name across batches (see `add_to_lists`); `task_stamps`
    receives the created tasks' modification dates (see `create_tasks`).
    """
    skipped = [ChangeResult(c, Outcome.SKIPPED) for c in changes if c.skip]
    todo = [c for c in changes if not c.skip]
    if dry_run:
        return skipped + [ChangeResult(c, Outcome.PLANNED) for c in todo]
    results = skipped
    # List memberships go first: a contact whose membership failed keeps its stage, so the
    # next run plans (and retries) both instead of leaving it recycled outside its list.
    groups = (
        (partial(add_to_lists, list_ids=quote(list_ids)), [c for c in todo if c.list_name]),
        (update_contacts, [c for c in todo if c.properties]),
        (
            partial(create_tasks, active_owners=active_owners, stamps=quote(task_stamps)),
            [c for c in todo if c.task],
        ),
    )
    for index, (writer, batch) in enumerate(groups):
        if writer is update_contacts:
            batch, held = _hold_for_failed_lists(batch, results)
            results += held
        if not batch:
            continue
        try:
            results += writer(gateway, quote(batch))  # quote: Prefect skips walking it
        except DailyLimitReached as exc:
            # Say what this batch did before the stop: the run reports it and tells owners.
            stopped = [*batch, *(c for _, rest in groups[index + 1 :] for c in rest)]
            note = "not confirmed: HubSpot's DAILY limit stopped the run (the next run retries)"
            exc.results = results + [ChangeResult(c, Outcome.FAILED, note) for c in stopped]
            raise
        except HubSpotError as exc:
            results += [ChangeResult(c, Outcome.FAILED, str(exc)) for c in batch]
    return results


def _hold_for_failed_lists(
    updates: Sequence[Change], results: Sequence[ChangeResult]
) -> tuple[list[Change], list[ChangeResult]]:
    """Updates to write, and those held back because the same rule's list membership for
    the contact failed (reported failed; the next run retries both)."""
    failed = {
        (r.change.rule, r.change.contact_id): r.error
        for r in results
        if r.change.list_name and r.outcome is Outcome.FAILED
    }
    keep = [c for c in updates if (c.rule, c.contact_id) not in failed]
    held = [
        ChangeResult(
            c,
            Outcome.FAILED,
            f"not changed because adding the contact to its list failed: "
            f"{failed[(c.rule, c.contact_id)]}",
        )
        for c in updates
        if (c.rule, c.contact_id) in failed
    ]
    return keep, held
