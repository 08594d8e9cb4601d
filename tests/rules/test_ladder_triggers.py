"""The ladder rules' triggers: what each declares, and deadlines that are exact — before a
contact's deadline, time alone never changes meeting_scheduled's or bad_timing's decision."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from config.rules import load_rules
from model.records import DealStage, Engagement, Record
from rules import bad_timing, meeting_scheduled
from rules.definition import Situation
from rules.open_deal import plan_open_deal
from rules.registry import RULES
from rules.triggers import CONTACTS_MODIFIED, DEALS_CHANGED, engagement_kinds, next_deadlines

from rule_builders import NOW, SQL, contact, iso, task

RULES_FILE = load_rules()
HOUR = timedelta(hours=1)
NEW_AT = NOW - timedelta(days=3)
SET_AT = "2026-10-01 09:00"


def lead(status: str, history: list[tuple[str, str]]) -> Record:
    return contact(stage=SQL, status=status, history=history)


def new_lead() -> Record:
    return lead("NEW", [("NEW", iso(NEW_AT)[:16].replace("T", " "))])


def meeting(id: str, start: datetime, booked: datetime, outcome: str | None = None) -> Engagement:
    props = {
        "hs_timestamp": iso(start),
        "hs_meeting_start_time": iso(start),
        "hs_meeting_end_time": iso(start + HOUR),
        "hs_createdate": iso(booked),
        "hs_meeting_outcome": outcome,
    }
    return Engagement(id, "meeting", props)


def test_ladder_rules_declare_what_may_change_their_decisions() -> None:
    assert RULES["open_deal"].triggers == (CONTACTS_MODIFIED, DEALS_CHANGED)
    assert engagement_kinds(RULES["connected"].triggers) == ("email", "call")
    assert engagement_kinds(RULES["meeting_scheduled"].triggers) == ("meeting", "task")
    assert engagement_kinds(RULES["bad_timing"].triggers) == ("task",)
    assert all(RULES[name].incremental for name in RULES)  # every rule judges what changed


def test_a_deal_names_no_contact_without_a_ladder_status() -> None:
    """Triggered contacts are read by id: open_deal rechecks its searches' statuses."""
    deal = Engagement("d1", "deal", {"dealname": "Big", "dealstage": "s", "pipeline": "p"})
    stages = {("p", "s"): DealStage("p", "s", "Qualified", False, 0.2)}
    situation = Situation(RULES_FILE, NOW, deal_stages=stages)
    unstatused = contact(stage=SQL, status=None)
    assert plan_open_deal([unstatused], {"1": [deal]}, situation) == []
    [moved] = plan_open_deal([new_lead()], {"1": [deal]}, situation)
    assert moved.properties["hs_lead_status"] == "OPEN_DEAL"


def test_meeting_deadlines_are_its_start_and_its_end() -> None:
    situation = Situation(RULES_FILE, NOW)
    before_new = meeting("m1", NOW + 5 * HOUR, booked=NEW_AT - HOUR)
    assert meeting_scheduled.next_deadline(new_lead(), [before_new], situation) == NOW + 5 * HOUR
    after_new = meeting("m2", NOW + 5 * HOUR, booked=NEW_AT + HOUR)
    due = meeting_scheduled.next_deadline(new_lead(), [after_new], situation)
    assert due is not None and NOW + 6 * HOUR < due < NOW + 6 * HOUR + timedelta(seconds=1)
    told = task("t", "[leadops:meeting_outcome:m2]")
    assert meeting_scheduled.next_deadline(new_lead(), [after_new, told], situation) is None
    done = meeting("m3", NOW + 5 * HOUR, booked=NEW_AT + HOUR, outcome="COMPLETED")
    assert meeting_scheduled.next_deadline(new_lead(), [done], situation) is None


def test_bad_timing_deadline_is_reapproach_days_after_it_was_set() -> None:
    record = lead("BAD_TIMING", [("BAD_TIMING", SET_AT), ("CONNECTED", "2026-09-20 09:00")])
    situation = Situation(RULES_FILE, NOW - timedelta(days=60))
    due = bad_timing.next_deadline(record, [], situation)
    assert due == datetime.fromisoformat(SET_AT + "Z") + timedelta(
        days=RULES_FILE.bad_timing.reapproach_days
    )
    ref = int(datetime.fromisoformat(SET_AT + "Z").timestamp() * 1000)
    done = task("t", f"[leadops:reapproach:{ref}]", status="COMPLETED")
    assert bad_timing.next_deadline(record, [done], situation) is None
    assert bad_timing.next_deadline(new_lead(), [], situation) is None


def _decision(rule: str, record: Record, engagements: list[Engagement], now: datetime) -> list:
    planned = RULES[rule].plan([record], {record.id: engagements}, Situation(RULES_FILE, now))
    return [(c.key, c.properties, c.task.kind if c.task else None) for c in planned]


meetings = st.lists(
    st.tuples(
        st.integers(-72, 72),  # starts, hours from now
        st.integers(-96, 24),  # booked, hours from now (before or after New)
        st.sampled_from((None, "SCHEDULED", "COMPLETED", "NO_SHOW")),
        st.booleans(),  # its record-outcome task exists
    ),
    max_size=4,
)


@settings(max_examples=60, deadline=None)
@given(
    found=meetings,
    status=st.sampled_from(("NEW", "ATTEMPTED_TO_CONTACT", "MEETING_SCHEDULED", "BAD_TIMING")),
    set_days=st.integers(20, 40),  # days ago the status was set
    minutes=st.integers(1, 59),
)
def test_time_alone_changes_no_ladder_decision_before_the_deadline(
    found: list[tuple[int, int, str | None, bool]], status: str, set_days: int, minutes: int
) -> None:
    set_at = iso(NOW - timedelta(days=set_days))[:16].replace("T", " ")
    record = lead(status, [(status, set_at)])
    engagements: list[Engagement] = []
    for n, (start, booked, outcome, told) in enumerate(found):
        engagements.append(meeting(f"m{n}", NOW + start * HOUR, NOW + booked * HOUR, outcome))
        if told:
            engagements.append(task(f"t{n}", f"[leadops:meeting_outcome:m{n}]"))
    rule = "bad_timing" if status == "BAD_TIMING" else "meeting_scheduled"
    situation = Situation(RULES_FILE, NOW)
    deadline = next_deadlines(RULES[rule].triggers, [record], {"1": engagements}, situation)["1"]
    now_decision = _decision(rule, record, engagements, NOW)
    for hours in range(0, 16 * 24, 3):  # every three hours of the next sixteen days
        later = NOW + timedelta(hours=hours, minutes=minutes)
        if deadline is not None and later >= deadline:
            break
        assert _decision(rule, record, engagements, later) == now_decision, later
