"""Journal recovery checks list adds by the lists each contact is in, not by reading lists."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

from config.settings import Settings
from gateway.client import HubSpotGateway
from model.changes import Change, Outcome, TaskSpec
from runstate.journal import Journal, verify
from sandbox.server import SandboxHandle, running_sandbox
from tasks.apply import create_tasks

from support import sandbox_settings

WHOLE_LIST_READ = "GET /crm/v3/lists/{listId}/memberships"
MEMBERSHIPS_READ = "POST /crm/v3/lists/records/memberships/batch/read"


def _list_add(contact_id: str, list_name: str) -> Change:
    return Change("recycle", contact_id, "A B", None, "recycled", list_name=list_name)


def _contact_ids(gateway: HubSpotGateway, count: int) -> list[str]:
    ids: list[str] = []
    for page in gateway.search("contacts", [], ["email"]):
        ids += [record.id for record in page]
        if len(ids) >= count:
            return ids[:count]
    raise AssertionError(f"the sandbox has fewer than {count} contacts")


def test_recovery_costs_a_call_per_100_doubtful_adds_whatever_the_list_size(
    tmp_path: Path,
) -> None:
    with running_sandbox(seed="demo", contacts=700) as sandbox:
        settings = sandbox_settings(sandbox.url, sandbox.token, outbox_dir=str(tmp_path))
        _check_recovery_cost(HubSpotGateway(settings), settings)


def _check_recovery_cost(gateway: HubSpotGateway, settings: Settings) -> None:
    ids = _contact_ids(gateway, 700)
    big = gateway.find_or_create_list("Nurture - big")
    gateway.add_to_list(big, ids[:600])  # 3 pages of 250 if the list were read whole
    other = gateway.find_or_create_list("Nurture - other")
    gateway.add_to_list(other, ids[600:650])
    doubtful = [_list_add(i, "Nurture - big") for i in ids[:120]]  # in the list
    doubtful += [_list_add(i, "Nurture - big") for i in ids[650:680]]  # never added
    doubtful += [_list_add(i, "Nurture - other") for i in ids[600:610]]  # in the other list
    doubtful += [_list_add(ids[690], "Nurture - missing")]  # a list nobody created

    dead = Journal(settings, "killed-run")
    dead.intend(doubtful)
    gateway.calls.clear()
    told = Journal(settings, "next-run").recover(gateway)

    confirmed = {(r.change.contact_id, r.change.list_name) for r in told}
    expected = {(i, "Nurture - big") for i in ids[:120]}
    expected |= {(i, "Nurture - other") for i in ids[600:610]}
    assert confirmed == expected
    contacts = len({c.contact_id for c in doubtful})
    assert gateway.calls[MEMBERSHIPS_READ] == math.ceil(contacts / 100) == 2
    assert gateway.calls[WHOLE_LIST_READ] == 0


def test_a_contact_hubspot_does_not_know_is_in_no_list(sandbox: SandboxHandle) -> None:
    gateway = HubSpotGateway(sandbox_settings(sandbox.url, sandbox.token))
    gateway.find_or_create_list("Nurture - big")
    assert verify(gateway, [_list_add("999999999", "Nurture - big")]) == []


def test_a_journaled_task_a_person_edited_since_is_still_recognised(
    sandbox: SandboxHandle,
) -> None:
    """A run died after creating a task; a rep edited it in HubSpot (the body is now rich
    text) before the next run recovered the journal: the task still counts as done, so it is
    told, while a task of another kind or due time does not count."""
    gateway = HubSpotGateway(sandbox_settings(sandbox.url, sandbox.token))
    [contact_id] = _contact_ids(gateway, 1)
    due = datetime(2026, 12, 1, 9, 30, 15, 123456, tzinfo=UTC)  # sub-second: HubSpot keeps ms
    body = "Call them today.\n\n[leadops:first_touch]"
    spec = TaskSpec("first_touch", "Call Ada", body, due, "CALL", "HIGH")
    change = Change("followup", contact_id, "Ada", None, "new lead", task=spec)
    [created] = create_tasks.fn(gateway, [change], active_owners=())
    assert created.outcome is Outcome.APPLIED
    links = gateway.associations("contacts", "tasks", [contact_id])
    task_id = max(links[contact_id], key=int)  # the newest of the contact's tasks
    edited = sandbox.edit_task_as_person(task_id, "Call them <today>.\n\n[leadops:first_touch]")
    assert edited.startswith("<p>") and "&lt;today&gt;" in edited

    assert verify(gateway, [change]) == [change]
    later = Change("followup", contact_id, "Ada", None, "x", task=TaskSpec(
        "first_touch", "Call Ada", body, due.replace(day=2), "CALL", "HIGH"))  # fmt: skip
    other_kind = Change("followup", contact_id, "Ada", None, "x", task=TaskSpec(
        "next_attempt", "Call Ada", body, due, "CALL", "HIGH"))  # fmt: skip
    assert verify(gateway, [later, other_kind]) == []
