"""Undo against the sandbox's demo seed: a cycle, then its undo, leaves the portal as it was,
except what a person changed in between."""

from __future__ import annotations

import json
import urllib.request

import pytest
from prefect import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from prefect.client.schemas.sorting import ArtifactSort

from bench.state import PortalState, snapshot
from config.settings import Settings
from flows.cycle import lifecycle_cycle
from flows.params import RunParams
from flows.undo import UndoParams, undo_run
from sandbox.server import SandboxHandle

pytestmark = pytest.mark.usefixtures("prefect_harness")

HOT_MQL = "1001"  # promoted by the cycle (MQL → SQL, lead status New)
MQL, SQL = "marketingqualifiedlead", "salesqualifiedlead"


def undo_name(summary: dict) -> str:
    prefix = "undo this run with: leadops undo "
    return next(n.removeprefix(prefix) for n in summary["notes"] if n.startswith(prefix))


def edit_by_hand(sandbox: SandboxHandle, contact_id: str, properties: dict[str, str]) -> None:
    """What a person does in HubSpot, through the API (so it is in the property history)."""
    request = urllib.request.Request(
        f"{sandbox.url}/crm/v3/objects/contacts/{contact_id}",
        data=json.dumps({"properties": properties}).encode(),
        method="PATCH",
        headers={"Authorization": f"Bearer {sandbox.token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30):
        pass


def latest_table(key: str) -> list[dict]:
    with get_client(sync_client=True) as client:
        (artifact,) = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
            sort=ArtifactSort.CREATED_DESC,
            limit=1,
        )
    data = artifact.data
    return json.loads(data) if isinstance(data, str) else data


def without_empty_new_lists(state: PortalState, before: PortalState) -> PortalState:
    """Lists the run created stay, empty, after the undo (people may use them since)."""
    lists = {n: m for n, m in state.lists.items() if m or n in before.lists}
    return PortalState(state.contacts, state.tasks, lists)


def test_a_cycle_then_its_undo_leaves_the_portal_as_it_was_except_a_hand_edit(
    settings: Settings, sandbox: SandboxHandle
) -> None:
    before = snapshot(sandbox)
    tasks_before = len(sandbox.store.tables["tasks"].records)
    cycle = lifecycle_cycle(RunParams(notify=False), settings)
    created_tasks = len(sandbox.store.tables["tasks"].records) - tasks_before
    assert cycle["changes"] > 200 and cycle["failed"] == 0
    assert sandbox.store.get("contacts", HOT_MQL).props["lifecyclestage"] == SQL
    edit_by_hand(sandbox, HOT_MQL, {"hs_lead_status": "CONNECTED"})
    run = undo_name(cycle)

    writes = sandbox.stats()["writes_total"]
    planned = undo_run(UndoParams(run=run, dry_run=True), settings)
    assert sandbox.stats()["writes_total"] == writes
    assert planned["failed"] == 0 and planned["kept"] == 1

    undone = undo_run(UndoParams(run=run), settings)
    assert undone["failed"] == 0
    assert undone["actions"]["restore"]["applied"] == planned["actions"]["restore"]["dry-run"]
    assert undone["actions"]["delete-task"]["applied"] == created_tasks > 0
    after = without_empty_new_lists(snapshot(sandbox), before)
    expected_contacts = {**before.contacts, HOT_MQL: (SQL, "CONNECTED")}
    assert after.contacts == expected_contacts
    assert after.tasks == before.tasks
    assert after.lists == before.lists
    rows = latest_table("undo-changes")
    (row,) = [r for r in rows if f"({HOT_MQL})" in r["contact"] and "promote" in r["rule"]]
    assert row["outcome"] == "skipped"
    assert "hs_lead_status is now CONNECTED" in row["reason"] and "kept as is" in row["reason"]

    again = undo_run(UndoParams(run=run), settings)
    assert again["changes"] == 0 and again["failed"] == 0
    assert without_empty_new_lists(snapshot(sandbox), before) == after
