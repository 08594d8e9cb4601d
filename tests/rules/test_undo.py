"""The undo planner: what a run's applied changes become when taken back, and what stays."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from model.changes import Change, ChangeResult, Outcome, TaskSpec
from model.records import Record
from rules.undo import PortalNow, UndoStep, plan_undo

from rule_builders import MQL, NOW, SQL

RUN = "cycle-brave-owl-1234abcd"
ENDED = NOW + timedelta(minutes=5)


def promoted(contact_id: str = "1") -> ChangeResult:
    change = Change(
        "promote",
        contact_id,
        "Ada Lovelace",
        "101",
        "score 80 ≥ 50",
        before={"lifecyclestage": MQL, "hs_lead_status": None},
        properties={"lifecyclestage": SQL, "hs_lead_status": "NEW"},
    )
    return ChangeResult(change, Outcome.APPLIED)


def attempted(contact_id: str = "1") -> ChangeResult:
    change = Change(
        "attempted",
        contact_id,
        "Ada Lovelace",
        "101",
        "outbound call",
        before={"hs_lead_status": "NEW"},
        properties={"hs_lead_status": "ATTEMPTED_TO_CONTACT"},
    )
    return ChangeResult(change, Outcome.APPLIED)


def task_made(task_id: str | None = "900") -> ChangeResult:
    spec = TaskSpec(
        "first_touch", "Call Ada", "Call her\n\n[leadops:first_touch]", NOW, "CALL", "HIGH"
    )
    return ChangeResult(
        Change("followup", "1", "Ada Lovelace", "101", "New", task=spec),
        Outcome.APPLIED,
        created=task_id,
    )


def listed(list_id: str | None = "77") -> ChangeResult:
    change = Change("recycle", "1", "Ada Lovelace", "101", "unqualified", list_name="Nurture")
    return ChangeResult(change, Outcome.APPLIED, created=list_id)


def portal(
    stage: str | None = SQL, status: str | None = "NEW", history: dict | None = None, **more: object
) -> PortalNow:
    props = {"lifecyclestage": stage, "hs_lead_status": status}
    contacts = {"1": Record("1", props, history or {})}
    return PortalNow(
        contacts,
        more.get("tasks", {}),  # type: ignore[arg-type]
        more.get("lists_of", {}),  # type: ignore[arg-type]
    )


def only(steps: list[UndoStep]) -> UndoStep:
    assert len(steps) == 1
    return steps[0]


def test_a_promotion_goes_back_to_mql_with_no_lead_status() -> None:
    step = only(plan_undo(RUN, [promoted()], ENDED, portal()))
    assert not step.keep and step.action == "restore"
    assert step.restore == {"lifecyclestage": MQL, "hs_lead_status": ""}
    change = step.as_change()  # the apply path sees a stage moving back: cleared first
    assert change.before["lifecyclestage"] == SQL and change.properties["lifecyclestage"] == MQL
    assert RUN in step.reason


def test_two_rules_on_one_contact_are_undone_as_one_net_change() -> None:
    now = portal(status="ATTEMPTED_TO_CONTACT")
    step = only(plan_undo(RUN, [promoted(), attempted()], ENDED, now))
    assert step.rules == ("promote", "attempted")
    assert step.restore == {"lifecyclestage": MQL, "hs_lead_status": ""}


def test_a_property_a_person_changed_since_keeps_the_whole_change() -> None:
    step = only(plan_undo(RUN, [promoted()], ENDED, portal(status="CONNECTED")))
    assert step.keep and step.restore == {}
    assert "hs_lead_status is now CONNECTED" in step.reason and "kept as is" in step.reason


def test_a_property_written_again_after_the_run_is_kept_even_with_the_same_value() -> None:
    history = {"hs_lead_status": (("NEW", ENDED + timedelta(hours=1)), ("NEW", NOW))}
    step = only(plan_undo(RUN, [promoted()], ENDED, portal(history=history)))
    assert step.keep and "written again since" in step.reason


def test_the_runs_own_writes_in_the_history_do_not_count_as_changes_since() -> None:
    history = {"hs_lead_status": (("NEW", ENDED + timedelta(seconds=20)),)}  # clock skew
    assert not only(plan_undo(RUN, [promoted()], ENDED, portal(history=history))).keep


def test_an_undone_change_needs_nothing_more() -> None:
    step = only(plan_undo(RUN, [promoted()], ENDED, portal(stage=MQL, status=None)))
    assert step.keep and "already undone" in step.reason


def test_a_contact_deleted_since_is_reported() -> None:
    now = PortalNow({}, {}, {})
    assert "no longer exists" in only(plan_undo(RUN, [promoted()], ENDED, now)).reason


def test_an_open_task_is_deleted_a_completed_or_missing_one_kept() -> None:
    open_task = {"900": Record("900", {"hs_task_status": "NOT_STARTED"})}
    step = only(plan_undo(RUN, [task_made()], ENDED, portal(tasks=open_task)))
    assert (step.action, step.target, step.keep) == ("delete-task", "900", False)
    done = {"900": Record("900", {"hs_task_status": "COMPLETED"})}
    assert (
        "completed since" in only(plan_undo(RUN, [task_made()], ENDED, portal(tasks=done))).reason
    )
    assert "already deleted" in only(plan_undo(RUN, [task_made()], ENDED, portal())).reason


def test_a_list_membership_the_run_added_is_removed_one_it_found_is_kept() -> None:
    member = portal(lists_of={"1": {"77"}})
    step = only(plan_undo(RUN, [listed()], ENDED, member))
    assert (step.action, step.target, step.keep) == ("leave-list", "77", False)
    assert "before" in only(plan_undo(RUN, [listed(None)], ENDED, member)).reason
    assert "no longer in list" in only(plan_undo(RUN, [listed()], ENDED, portal())).reason


STATUSES = st.sampled_from([None, "NEW", "ATTEMPTED_TO_CONTACT", "CONNECTED"])


@given(before=STATUSES, written=STATUSES.filter(bool), now=STATUSES)
def test_undoing_what_an_undo_left_plans_no_write(
    before: str | None, written: str, now: str | None
) -> None:
    change = Change(
        "attempted",
        "1",
        "Ada",
        None,
        "r",
        before={"hs_lead_status": before},
        properties={"hs_lead_status": written},
    )
    applied = [ChangeResult(change, Outcome.APPLIED)]
    first = only(plan_undo(RUN, applied, ENDED, portal(status=now)))
    after = dict(first.restore) or {"hs_lead_status": now}
    again = only(plan_undo(RUN, applied, ENDED, portal(status=after["hs_lead_status"] or None)))
    assert again.keep and not again.restore
