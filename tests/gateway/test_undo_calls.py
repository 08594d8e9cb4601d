"""The gateway's undo calls against the sandbox: task batch archive and list member removal."""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.client import HubSpotGateway, NewTask
from sandbox.server import SandboxHandle

from support import sandbox_settings

CONTACTS = ["1001", "1002", "1003"]


def gateway_for(sandbox: SandboxHandle) -> HubSpotGateway:
    return HubSpotGateway(sandbox_settings(sandbox.url, sandbox.token), sleep=lambda _: None)


def new_task(contact_id: str) -> NewTask:
    due = str(int(datetime(2026, 12, 1, tzinfo=UTC).timestamp() * 1000))
    properties = {"hs_timestamp": due, "hs_task_subject": f"Call {contact_id}"}
    return NewTask(contact_id=contact_id, owner_id=None, properties=properties)


def test_archived_tasks_are_gone_and_an_unknown_id_fails_alone(sandbox: SandboxHandle) -> None:
    gateway = gateway_for(sandbox)
    made = [r.id for r in gateway.create_tasks([new_task(c) for c in CONTACTS]).succeeded]
    assert len(made) == 3
    result = gateway.archive("tasks", [made[0], "999999999", *made[1:]])
    assert sorted(r.id for r in result.succeeded) == sorted(made)
    assert [e.id for e in result.failed] == ["999999999"]  # the sandbox refused its batch
    assert all(sandbox.store.get("tasks", i) is None for i in made)
    linked = gateway.associations("contacts", "tasks", CONTACTS)
    assert not {t for ids in linked.values() for t in ids} & set(made)
    # refused whole, then halves: [t1, bad] refused, [t1] and [bad], [t2, t3]
    assert gateway.calls["POST /crm/v3/objects/tasks/batch/archive"] == 5


def test_removing_from_a_list_names_only_members_it_removed(sandbox: SandboxHandle) -> None:
    gateway = gateway_for(sandbox)
    list_id = gateway.find_or_create_list("Undo test list")
    gateway.add_to_list(list_id, CONTACTS[:2])
    removed = gateway.remove_from_list(list_id, [CONTACTS[0], CONTACTS[2]])
    assert removed == (CONTACTS[0],)  # 1003 was never a member: ignored, as HubSpot does
    memberships = gateway.list_memberships(CONTACTS)
    assert [c for c in CONTACTS if list_id in memberships[c]] == [CONTACTS[1]]
