"""The cycle and each rule's flow, end to end against the sandbox's demo seed.

Expected numbers come from the seed's scenario table (sandbox/seed.py): 300 contacts, of
which 33 MQLs reach the score threshold, 15 SQLs lack a lead status, 38 New leads have an
outbound touch after becoming New, 30 replied or took a connected call, 25 contacts are due
for recycling, and so on.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import urllib3

from config.settings import Settings
from flows.cycle import PortalMismatchError, lifecycle_cycle
from flows.params import RunParams
from runstate.lock import portal_lock
from sandbox.server import SandboxHandle

from support import SEED_CYCLE_COUNTS

pytestmark = pytest.mark.usefixtures("prefect_harness")

CYCLE_COUNTS = SEED_CYCLE_COUNTS
MQL_HOT = [str(i) for i in range(1001, 1021)]
ARCHIVED_OWNER = "70000004"


@pytest.fixture
def portal(sandbox: SandboxHandle, settings: Settings) -> SandboxHandle:
    return sandbox  # `settings` (tests/flows/conftest.py) points the flows at it


def counts(summary: dict, outcome: str) -> dict[str, int]:
    return {rule: c[outcome] for rule, c in summary["rules"].items() if c[outcome]}


def contact(sandbox: SandboxHandle, contact_id: str) -> dict[str, str]:
    return sandbox.store.get("contacts", contact_id).props


def leadops_tasks(sandbox: SandboxHandle) -> list:
    table = sandbox.store.tables["tasks"]
    return [t for t in table.records.values() if "[leadops:" in t.props.get("hs_task_body", "")]


def test_dry_run_plans_every_rule_and_writes_nothing(
    settings: Settings, portal: SandboxHandle
) -> None:
    summary = lifecycle_cycle(RunParams(dry_run=True, notify=False), settings)
    assert counts(summary, "dry-run") == CYCLE_COUNTS
    assert counts(summary, "applied") == {}
    assert portal.stats()["writes_total"] == 0
    assert contact(portal, MQL_HOT[0])["lifecyclestage"] == "marketingqualifiedlead"


def test_dry_run_emails_no_one_and_takes_no_lock(
    settings: Settings, portal: SandboxHandle, tmp_path: Path
) -> None:
    # Another run holds the portal's lock throughout: a dry run must not wait for it (a run
    # that did would time out after 1 s), and with notify on it still tells no one anything.
    settings = settings.model_copy(update={"leadops_lock_timeout": 1})
    this_portal = {"hubspot_portal_id": str(portal.sandbox.config.portal_id)}
    with portal_lock(settings.model_copy(update=this_portal), timeout=0):
        summary = lifecycle_cycle(RunParams(dry_run=True, notify=True), settings)
    assert counts(summary, "dry-run") == CYCLE_COUNTS
    assert not any(n.startswith("notifications") for n in summary["notes"])
    assert sorted(p.name for p in (tmp_path / "outbox").rglob("*.eml")) == []


def test_cycle_applies_then_a_second_cycle_changes_nothing(
    settings: Settings, portal: SandboxHandle
) -> None:
    existing_tasks = len(leadops_tasks(portal))
    first = lifecycle_cycle(RunParams(notify=False), settings)
    assert counts(first, "applied") == CYCLE_COUNTS
    assert first["failed"] == 0

    for contact_id in MQL_HOT:
        assert contact(portal, contact_id)["lifecyclestage"] == "salesqualifiedlead"
        assert contact(portal, contact_id)["hs_lead_status"] == "NEW"
    created = leadops_tasks(portal)
    # follow-up and bad-timing changes are all tasks; meeting_scheduled's 3 record-outcome ones
    tasks = CYCLE_COUNTS["followup"] + CYCLE_COUNTS["bad_timing"] + 3
    assert len(created) - existing_tasks == tasks
    for task in created:
        links = portal.store.associated("tasks", task.id, "contacts")
        assert list(links.values()) == [204], f"task {task.id} is not linked to one contact"
    lists = {lst.name: len(lst.members) for lst in portal.store.lists.values()}
    assert sum(lists.values()) == 22  # the 3 old-reply contacts were connected first
    assert lists["Nurture - General"] >= 3  # unset and unknown interests

    writes = portal.stats()["writes_total"]
    second = lifecycle_cycle(RunParams(notify=False), settings)
    assert second["changes"] == 0
    assert portal.stats()["writes_total"] == writes
    assert len(leadops_tasks(portal)) == len(created)
    assert {lst.name: len(lst.members) for lst in portal.store.lists.values()} == lists


def test_recycled_contacts_are_back_at_lead_in_one_list(
    settings: Settings, portal: SandboxHandle
) -> None:
    summary = lifecycle_cycle(RunParams(rules=["recycle"], notify=False), settings)
    recycled = {f["contact_id"] for f in summary["failures"]}
    assert recycled == set()
    members = [m for lst in portal.store.lists.values() for m in lst.members]
    assert len(members) == len(set(members)) == 25
    for member in members:
        props = contact(portal, str(member))
        assert props["lifecyclestage"] == "lead"
        assert not props.get("hs_lead_status")


def test_tasks_for_archived_owners_are_created_unassigned(
    settings: Settings, portal: SandboxHandle
) -> None:
    lifecycle_cycle(RunParams(rules=["promote", "followup"], notify=False), settings)
    archived_contacts = {
        str(r.id)
        for r in portal.store.tables["contacts"].records.values()
        if r.props.get("hubspot_owner_id") == ARCHIVED_OWNER
    }
    tasks_of_archived = [
        t
        for t in leadops_tasks(portal)
        if {str(c) for c in portal.store.associated("tasks", t.id, "contacts")} & archived_contacts
    ]
    assert tasks_of_archived, "the seed has archived-owner contacts due a task"
    assert all(not t.props.get("hubspot_owner_id") for t in tasks_of_archived)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("promote", 33),
        ("new_lead", 15),
        ("open_deal", 5),
        ("meeting_scheduled", 9),
        ("connected", 30),
        ("attempted", 38),
        ("followup", 95),
        ("bad_timing", 2),
        ("recycle", 50),
    ],
)
def test_each_rule_alone_on_the_seed(
    settings: Settings, portal: SandboxHandle, rule: str, expected: int
) -> None:
    summary = lifecycle_cycle(RunParams(rules=[rule], dry_run=True, notify=False), settings)
    assert counts(summary, "dry-run") == {rule: expected}


def test_window_limits_event_rules_to_recently_modified_contacts(
    settings: Settings, portal: SandboxHandle
) -> None:
    sql_without_status = next(
        str(r.id)
        for r in portal.store.tables["contacts"].records.values()
        if r.props.get("lifecyclestage") == "salesqualifiedlead"
        and not r.props.get("hs_lead_status")
    )
    since = datetime.fromtimestamp(portal.store.clock() / 1000, UTC) - timedelta(minutes=1)
    edited = [
        {"id": contact_id, "properties": {"company": "Edited Ltd"}}
        for contact_id in (MQL_HOT[0], sql_without_status)
    ]
    answer = urllib3.request(  # a user edits the two contacts now
        "POST",
        f"{portal.url}/crm/v3/objects/contacts/batch/update",
        json={"inputs": edited},
        headers={"Authorization": f"Bearer {portal.token}"},
    )
    assert answer.status == 200, answer.data
    rules = ["promote", "new_lead"]  # the event-based ones
    windowed = lifecycle_cycle(
        RunParams(rules=rules, since=since, dry_run=True, notify=False), settings
    )
    # Of the seed's 33 hot MQLs and 15 SQLs without status, only the two edited ones were
    # modified inside the window.
    assert counts(windowed, "dry-run") == {"promote": 1, "new_lead": 1}
    everything = lifecycle_cycle(RunParams(rules=rules, dry_run=True, notify=False), settings)
    assert counts(everything, "dry-run") == {"promote": 33, "new_lead": 15}


def test_config_the_portal_does_not_match_stops_before_any_write(
    settings: Settings, portal: SandboxHandle, tmp_path: Path
) -> None:
    config = tmp_path / "lifecycle.yaml"
    config.write_text("lead_status:\n  attempted: TRIED_TO_CALL\n")
    settings = settings.model_copy(update={"lifecycle_config": config})
    with pytest.raises(PortalMismatchError, match="'TRIED_TO_CALL' is not an option"):
        lifecycle_cycle(RunParams(notify=False), settings)
    assert portal.stats()["writes_total"] == 0
