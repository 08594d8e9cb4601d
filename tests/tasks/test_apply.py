"""Writing planned changes: every outcome reported, backward stage moves done HubSpot's way."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import pytest

from gateway.client import BatchResult, DailyLimitReached, HubSpotError, HubSpotGateway, RecordError
from model.changes import Change, Outcome, TaskSpec
from sandbox.server import SandboxHandle
from tasks.apply import apply_changes, moves_stage_back

from support import sandbox_settings

pytestmark = pytest.mark.usefixtures("prefect_harness")  # the writers are Prefect tasks

SQL_CONTACT = "1201"  # an UNQUALIFIED SQL in the demo seed
DUE = datetime(2026, 12, 1, 9, tzinfo=UTC)


def gateway_for(sandbox: SandboxHandle) -> HubSpotGateway:
    return HubSpotGateway(sandbox_settings(sandbox.url, sandbox.token))


def recycle(contact_id: str, before: str = "salesqualifiedlead") -> Change:
    return Change(
        rule="recycle",
        contact_id=contact_id,
        contact_name="Test",
        owner_id=None,
        reason="lead status UNQUALIFIED",
        before={"lifecyclestage": before},
        properties={"lifecyclestage": "lead", "hs_lead_status": ""},
    )


def stage(sandbox: SandboxHandle, contact_id: str) -> str | None:
    return sandbox.store.get("contacts", contact_id).props.get("lifecyclestage")


def first_unqualified_sql(sandbox: SandboxHandle) -> str:
    for record in sandbox.store.tables["contacts"].records.values():
        props = record.props
        if (
            props.get("hs_lead_status") == "UNQUALIFIED"
            and props.get("lifecyclestage") == "salesqualifiedlead"
        ):
            return str(record.id)
    raise AssertionError("the demo seed has unqualified SQLs")


@pytest.mark.parametrize(
    ("before", "target", "back"),
    [
        ("salesqualifiedlead", "lead", True),
        ("lead", "salesqualifiedlead", False),
        (None, "lead", False),
        ("1234567", "lead", True),  # custom stage: order unknown, so clear first
    ],
)
def test_which_moves_need_clearing(before: str | None, target: str, back: bool) -> None:
    change = Change(
        "recycle",
        "1",
        "x",
        None,
        "r",
        before={"lifecyclestage": before},
        properties={"lifecyclestage": target},
    )
    assert moves_stage_back(change) is back


def test_backward_move_clears_then_sets_and_reads_back(sandbox: SandboxHandle) -> None:
    contact_id = first_unqualified_sql(sandbox)
    [result] = apply_changes(gateway_for(sandbox), [recycle(contact_id)], dry_run=False)
    assert result.outcome is Outcome.APPLIED
    assert stage(sandbox, contact_id) == "lead"
    versions = [v[0] for v in sandbox.store.get("contacts", contact_id).history["lifecyclestage"]]
    assert versions[-2:] == ["", "lead"]


class SetFails(HubSpotGateway):
    """A gateway whose second stage write (the set after the clear) HubSpot refuses."""

    def batch_update(self, object_type: str, updates: Mapping[str, Mapping[str, str]]):
        if any(p.get("lifecyclestage") == "lead" for p in updates.values()):
            return BatchResult(failed=[RecordError(i, "property locked") for i in updates])
        return super().batch_update(object_type, updates)


def test_half_applied_move_is_reported_and_the_next_run_finishes_it(
    sandbox: SandboxHandle,
) -> None:
    contact_id = first_unqualified_sql(sandbox)
    broken = SetFails(sandbox_settings(sandbox.url, sandbox.token))
    [result] = apply_changes(broken, [recycle(contact_id)], dry_run=False)
    assert result.outcome is Outcome.FAILED
    assert result.error.startswith("HALF-APPLIED: the lifecycle stage was cleared but not set")
    assert stage(sandbox, contact_id) in (None, "")

    from config.rules import Rules
    from rules.definition import Situation
    from rules.recycle import plan_recycle, search_filter_groups

    gateway = gateway_for(sandbox)
    found = [
        record
        for group in search_filter_groups(Rules())
        for page in gateway.search("contacts", group, ["lifecyclestage", "hs_lead_status"])
        for record in page
        if record.id == contact_id
    ]
    assert found, "the recycle searches must find a contact left without stage"
    changes = plan_recycle(found, {}, Situation(Rules(), datetime.now(UTC)))
    results = apply_changes(gateway, changes, dry_run=False)
    assert {r.outcome for r in results} == {Outcome.APPLIED}
    assert stage(sandbox, contact_id) == "lead"


def test_unknown_contacts_fail_alone_with_hubspots_message(sandbox: SandboxHandle) -> None:
    good = Change("new_lead", "1041", "Good", None, "r", properties={"hs_lead_status": "NEW"})
    ghost = Change("new_lead", "999999", "Ghost", None, "r", properties={"hs_lead_status": "NEW"})
    results = {
        r.change.contact_id: r
        for r in apply_changes(gateway_for(sandbox), [good, ghost], dry_run=False)
    }
    assert results["1041"].outcome is Outcome.APPLIED
    assert results["999999"].outcome is Outcome.FAILED
    assert "not exist" in results["999999"].error


def test_tasks_and_list_memberships(sandbox: SandboxHandle) -> None:
    spec = TaskSpec("first_touch", "Call Ada", "Body\n\n[leadops:first_touch]", DUE, "CALL", "HIGH")
    task = Change("followup", "1001", "Ada", "70000001", "new SQL", task=spec)
    member = Change("recycle", "1001", "Ada", None, "interest crm", list_name="Nurture - Test")
    ghost = Change("recycle", "999999", "Ghost", None, "x", list_name="Nurture - Test")
    results = apply_changes(
        gateway_for(sandbox), [task, member, ghost], dry_run=False, active_owners=["70000001"]
    )
    outcomes = {(r.change.contact_id, r.change.action): r.outcome for r in results}
    assert outcomes == {
        ("1001", "task:first_touch"): Outcome.APPLIED,
        ("1001", "list"): Outcome.APPLIED,
        ("999999", "list"): Outcome.FAILED,
    }
    created = [
        t
        for t in sandbox.store.tables["tasks"].records.values()
        if t.props.get("hs_task_subject") == "Call Ada"
    ]
    assert len(created) == 1
    assert created[0].props["hubspot_owner_id"] == "70000001"
    assert sandbox.store.find_list("nurture - test").members.keys() == {1001}


@pytest.mark.parametrize(
    ("trace_echo", "created_order"),
    [(True, "input"), (True, "reversed"), (False, "input")],
    ids=["echoed-in-order", "echoed-reversed", "not-echoed"],
)
def test_tasks_with_identical_bodies_are_each_reported_under_their_own_contact(
    sandbox: SandboxHandle, trace_echo: bool, created_order: str
) -> None:
    """First-touch tasks of different contacts read the same: the created id each change
    reports (its digest link, its undo) is the task on its own contact, whichever order
    HubSpot answers in and whether or not it echoes the trace ids."""
    sandbox.set_config(trace_echo=trace_echo, created_order=created_order)
    spec = TaskSpec(
        "first_touch", "Call", "Same body\n\n[leadops:first_touch]", DUE, "CALL", "HIGH"
    )
    contacts = ["1001", "1002", "1003"]
    changes = [Change("followup", c, "x", None, "new SQL", task=spec) for c in contacts]
    gateway = gateway_for(sandbox)
    results = apply_changes(gateway, changes, dry_run=False)
    assert [r.outcome for r in results] == [Outcome.APPLIED] * 3
    linked = {
        r.change.contact_id: [
            str(c) for c in sandbox.store.associated("tasks", int(r.created), "contacts")
        ]
        for r in results
        if r.created
    }
    assert linked == {c: [c] for c in contacts}
    # The tasks' associations are read only when HubSpot's answer does not name the inputs.
    reads = gateway.calls["POST /crm/v4/associations/tasks/contacts/batch/read"]
    assert reads == (0 if trace_echo else 1)


def test_dry_run_reports_without_calling_hubspot(sandbox: SandboxHandle) -> None:
    gateway = gateway_for(sandbox)
    skip = Change("promote", "1", "x", None, "lead_score is not a number: 'n/a'", skip=True)
    results = apply_changes(gateway, [recycle(SQL_CONTACT), skip], dry_run=True)
    assert [r.outcome for r in results] == [Outcome.SKIPPED, Outcome.PLANNED]
    assert sum(gateway.calls.values()) == 0
    assert sandbox.stats()["requests_total"] == 0


class DailyLimitOnUpdates(HubSpotGateway):
    """List adds fail; then the portal's daily budget runs out at the first update."""

    def find_or_create_list(self, name: str) -> str:
        raise HubSpotError("list locked", status=423)

    def batch_update(self, object_type: str, updates: Mapping[str, Mapping[str, str]]):
        raise DailyLimitReached("daily limit used up", status=429)


def test_a_daily_stop_reports_every_change_once(sandbox: SandboxHandle) -> None:
    held = recycle("1201")
    listed = Change("recycle", "1201", "Test", None, "r", list_name="Nurture - CRM")
    other = Change("new_lead", "1041", "Other", None, "r", properties={"hs_lead_status": "NEW"})
    gateway = DailyLimitOnUpdates(sandbox_settings(sandbox.url, sandbox.token))
    with pytest.raises(DailyLimitReached) as stopped:
        apply_changes(gateway, [held, listed, other], dry_run=False)
    results = stopped.value.results
    assert sorted((r.change.contact_id, r.change.action) for r in results) == [
        ("1041", "update"),
        ("1201", "list"),
        ("1201", "update"),
    ]
    assert {r.outcome for r in results} == {Outcome.FAILED}
    [not_confirmed] = [r for r in results if r.change is other]
    assert "DAILY limit" in not_confirmed.error
