"""The lead-status ladder end to end on the demo seed: every transition of the seed's table
(sandbox/seed.py) happens, the negative cases stay untouched, owners read the portal's labels,
and a second cycle plans nothing."""

from __future__ import annotations

from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest

from config.settings import Settings
from flows.cycle import lifecycle_cycle
from flows.params import RunParams
from sandbox.seed import seed_store
from sandbox.server import SandboxHandle
from sandbox.store import Store

pytestmark = pytest.mark.usefixtures("prefect_harness")

GROUPS = seed_store(Store(), "demo")  # ids depend on the table's order only, not on the clock
MOVED = {
    "CONNECTED": (
        "new_connected_call",
        "new_inbound_only",
        "attempted_exhausted_replied",
        "attempted_exhausted_connected",
        "attempted_exhausted_old_reply",
        "ladder_replied",
        "ladder_attempted_replied",
    ),
    "MEETING_SCHEDULED": ("attempted_exhausted_meeting", "ladder_meeting_booked"),
    "OPEN_DEAL": ("ladder_open_deal", "ladder_open_deal_meeting"),
}
UNTOUCHED = {
    "NEW": ("ladder_reply_unprompted",),
    "CONNECTED": ("ladder_meeting_canceled", "ladder_meeting_before_new", "ladder_deal_closed"),
    "MEETING_SCHEDULED": ("ladder_meeting_unrecorded", "ladder_meeting_unrecorded_tasked"),
    "OPEN_DEAL": ("ladder_no_step_back",),
    "UNQUALIFIED": ("unqualified_with_deal",),
    "BAD_TIMING": ("ladder_bad_timing_due", "ladder_bad_timing_tasked"),
}


def statuses(sandbox: SandboxHandle, group: str) -> set[str | None]:
    return {sandbox.store.get("contacts", i).props.get("hs_lead_status") for i in GROUPS[group]}


def leadops_tasks(sandbox: SandboxHandle, group: str, kind: str) -> dict[int, int]:
    """Tasks per contact of `group` whose body carries a `[leadops:<kind>...]` marker."""
    found = {}
    for contact_id in GROUPS[group]:
        tasks = sandbox.store.associated("contacts", contact_id, "tasks")
        bodies = [sandbox.store.get("tasks", t).props.get("hs_task_body", "") for t in tasks]
        found[contact_id] = sum(f"[leadops:{kind}" in body for body in bodies)
    return found


def digests(outbox: Path) -> list[EmailMessage]:
    return [
        message_from_bytes(path.read_bytes(), policy=default)  # type: ignore[misc]
        for path in sorted(outbox.rglob("*.eml"))
    ]


def test_every_rung_moves_the_negatives_stay_and_a_second_cycle_plans_nothing(
    settings: Settings, sandbox: SandboxHandle
) -> None:
    first = lifecycle_cycle(RunParams(notify=True), settings)
    assert first["failed"] == 0

    for status, groups in MOVED.items():
        for group in groups:
            assert statuses(sandbox, group) == {status}, group
    for status, groups in UNTOUCHED.items():
        for group in groups:
            assert statuses(sandbox, group) == {status}, group
    unqualified = [sandbox.store.get("contacts", i) for i in GROUPS["unqualified_with_deal"]]
    assert {c.props["lifecyclestage"] for c in unqualified} == {"salesqualifiedlead"}  # held
    # One task per meeting without an outcome, one re-approach per Bad Timing contact due;
    # none where a (completed) one exists already.
    assert set(leadops_tasks(sandbox, "ladder_meeting_unrecorded", "meeting_outcome").values()) == {
        1
    }
    assert set(
        leadops_tasks(sandbox, "ladder_meeting_unrecorded_tasked", "meeting_outcome").values()
    ) == {1}
    assert set(leadops_tasks(sandbox, "ladder_bad_timing_due", "reapproach").values()) == {1}
    assert set(leadops_tasks(sandbox, "ladder_bad_timing_tasked", "reapproach").values()) == {1}

    # Owners read the portal's labels, not internal values.
    texts = [m.get_body(("plain",)).get_content() for m in digests(settings.outbox_dir)]  # type: ignore[union-attr]
    ladder = "\n".join(t for t in texts if "MOVED UP THE LADDER" in t)
    assert "Lead status: Connected → Meeting Scheduled" in ladder
    assert "Lead status: New → Connected" in ladder
    assert "MEETING_SCHEDULED" not in ladder

    writes = sandbox.stats()["writes_total"]
    second = lifecycle_cycle(RunParams(notify=False), settings)
    assert second["changes"] == 0
    assert sandbox.stats()["writes_total"] == writes
