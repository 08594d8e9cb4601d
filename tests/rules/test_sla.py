"""First-touch SLA: which New leads breach, how a breach is known across runs, and what closes
it. `NOW` is Monday 2026-11-23 12:00 UTC; the SLA is 4 hours."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from config.rules import Rules
from rules.definition import Situation
from rules.kit import RESOLUTION
from rules.sla import escalation, find_breaches, late_touches, next_deadline, told_fields

from rule_builders import NOW, SQL, at, call, contact, email, task

RULES = Rules.model_validate({"sla": {"enabled": True, "first_touch_hours": 4}})
SITUATION = Situation(RULES, NOW)


def new_lead(id: str, since: str, **props: str) -> object:
    return contact(id, stage=SQL, status="NEW", history=[("NEW", since)], **props)


def breached(contacts: list, activity: dict | None = None) -> dict[str, str]:
    return {b.contact_id: b.reason for b in find_breaches(contacts, activity or {}, SITUATION)}


def test_untouched_past_the_hours_is_a_breach_and_not_before() -> None:
    found = breached([new_lead("1", "2026-11-23 07:59"), new_lead("2", "2026-11-23 08:01")])
    assert list(found) == ["1"]
    assert found["1"] == (
        "no outbound touch 4 hour(s) after becoming New (New since 2026-11-23 07:59 UTC)"
    )


def test_a_first_touch_task_past_due_is_a_breach_before_the_hours() -> None:
    overdue = task("t1", "Call\n\n[leadops:first_touch]", due="2026-11-23 11:30")
    later = task("t2", "Call\n\n[leadops:first_touch]", due="2026-11-23 12:30")
    done = task("t3", "[leadops:first_touch]", status="COMPLETED", due="2026-11-23 11:00")
    contacts = [new_lead(str(i), "2026-11-23 11:00") for i in (1, 2, 3)]
    found = breached(contacts, {"1": [overdue], "2": [later], "3": [done]})
    assert list(found) == ["1"]
    assert found["1"].startswith("first-touch task due 2026-11-23 11:30 UTC is not done")


def test_an_outbound_touch_since_new_means_no_breach_whatever_the_tasks() -> None:
    overdue = task("t1", "[leadops:first_touch]", due="2026-11-23 09:00")
    activity = {
        "1": [email("e1", "2026-11-23 10:00"), overdue],  # touched late: not (or no longer) open
        "2": [email("e2", "2026-11-20 10:00")],  # before it became New: does not count
        "3": [email("e3", "2026-11-23 10:00", direction="INCOMING_EMAIL")],  # a reply
        "4": [call("c4", "2026-11-23 10:00", status="CANCELED")],  # never dialled
    }
    contacts = [new_lead(str(i), "2026-11-21 09:00") for i in (1, 2, 3, 4)]
    assert list(breached(contacts, activity)) == ["2", "3", "4"]
    assert late_touches(contacts, activity, SITUATION) == {
        "1": "outbound email on 2026-11-23 10:00 UTC"
    }


def test_only_new_leads_with_a_known_new_time_are_judged() -> None:
    attempted = contact(
        "1", stage=SQL, status="ATTEMPTED_TO_CONTACT", history=[("NEW", "2026-11-01 09:00")]
    )
    unknown = contact("2", stage=SQL, status="NEW")  # no history, no SQL date
    assert breached([attempted, unknown]) == {}


def test_a_breach_is_alerted_once_and_closed_when_it_no_longer_holds() -> None:
    first = find_breaches([new_lead("1", "2026-11-20 09:00")], {}, SITUATION)
    run1 = escalation(first, told={}, touched={})
    assert [b.contact_id for b in run1.new] == ["1"] and run1.closed == ()
    told = {b.key: {"contact_id": b.contact_id, "contact_name": b.contact_name} for b in first}

    run2 = escalation(first, told=told, touched={})  # still untouched: open, not new again
    assert run2.new == () and [b.contact_id for b in run2.still_open] == ["1"]

    run3 = escalation([], told=told, touched={"1": "outbound call on 2026-11-23 10:00 UTC"})
    [closed] = run3.closed
    assert (closed.contact_id, closed.reason) == (
        "1",
        "touched late: outbound call on 2026-11-23 10:00 UTC",
    )
    assert escalation([], told=told, touched={}).closed[0].reason.startswith("no longer")


def test_becoming_new_again_is_a_new_breach() -> None:
    [old] = find_breaches([new_lead("1", "2026-11-01 09:00")], {}, SITUATION)
    [again] = find_breaches([new_lead("1", "2026-11-20 09:00")], {}, SITUATION)
    assert old.key != again.key
    assert [b.key for b in escalation([again], {old.key: {}}, {}).new] == [again.key]


def deadline(record: object, activity: list, now: datetime = NOW) -> datetime | None:
    return next_deadline(record, activity, Situation(RULES, now))  # type: ignore[arg-type]


def test_the_deadline_is_the_hours_after_new_and_a_breach_from_that_instant() -> None:
    lead = new_lead("1", "2026-11-23 09:00")
    due = deadline(lead, [])
    assert due == at("2026-11-23 13:00")
    before, on = Situation(RULES, due - RESOLUTION), Situation(RULES, due)
    assert find_breaches([lead], {}, before) == [] and len(find_breaches([lead], {}, on)) == 1
    assert deadline(lead, [], due - RESOLUTION) == due
    assert deadline(lead, [], due) is None  # in breach: only an edit or a touch changes it


def test_the_deadline_is_just_after_an_open_first_touch_task_falls_due() -> None:
    lead = new_lead("1", "2026-11-23 11:00")
    first_touch = task("t1", "Call\n\n[leadops:first_touch]", due="2026-11-23 12:30")
    due = deadline(lead, [first_touch])
    assert due == at("2026-11-23 12:30") + RESOLUTION
    activity = {"1": [first_touch]}
    assert find_breaches([lead], activity, Situation(RULES, due - RESOLUTION)) == []
    assert len(find_breaches([lead], activity, Situation(RULES, due))) == 1
    # Past the task's due date, the hours remain ahead (the breach's reason may change then)
    assert deadline(lead, [first_touch], due) == at("2026-11-23 15:00")


def test_no_deadline_for_touched_leads_other_statuses_and_done_or_foreign_tasks() -> None:
    lead = new_lead("1", "2026-11-23 11:00")
    assert deadline(lead, [email("e1", "2026-11-23 11:30")]) is None
    attempted = contact(
        "2", stage=SQL, status="ATTEMPTED_TO_CONTACT", history=[("NEW", "2026-11-23 08:00")]
    )
    assert deadline(attempted, []) is None
    done = task("t1", "[leadops:first_touch]", status="COMPLETED", due="2026-11-23 12:30")
    other = task("t2", "[leadops:next_attempt:1]", due="2026-11-23 12:30")
    assert deadline(lead, [done, other]) == at("2026-11-23 15:00")


@settings(max_examples=150, deadline=None)
@given(
    new_minutes=st.integers(-600, 600),
    task_minutes=st.one_of(st.none(), st.integers(-600, 600)),
    step=st.integers(1, 24 * 60),
)
def test_before_the_deadline_time_alone_never_opens_a_breach(
    new_minutes: int, task_minutes: int | None, step: int
) -> None:
    lead = new_lead("1", fmt_minutes(new_minutes))
    activity = (
        [task("t1", "[leadops:first_touch]", due=fmt_minutes(task_minutes))]
        if (task_minutes is not None)
        else []
    )
    due = deadline(lead, activity)
    later = NOW + timedelta(minutes=step)
    if due is not None and later >= due:
        later = due - RESOLUTION
    keys_now = [b.key for b in find_breaches([lead], {"1": activity}, SITUATION)]
    keys_later = [b.key for b in find_breaches([lead], {"1": activity}, Situation(RULES, later))]
    assert keys_later == keys_now


def fmt_minutes(minutes: int) -> str:
    return (NOW + timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M")


def test_told_breaches_of_contacts_not_judged_stay_open_as_told() -> None:
    [breach] = find_breaches([new_lead("1", "2026-11-20 09:00")], {}, SITUATION)
    told = {breach.key: told_fields(breach), "2@2026-11-19T09:00:00+00:00": {"contact_id": "2"}}
    run = escalation([], told=told, touched={}, judged={"3"})
    assert run.new == () and run.closed == ()
    assert [(b.key, b.reason) for b in run.still_open[:1]] == [(breach.key, breach.reason)]
    assert run.still_open[1].key == "2@2026-11-19T09:00:00+00:00"  # a state without `due`
    judged = escalation([], told=told, touched={}, judged={"1"})
    assert [c.contact_id for c in judged.closed] == ["1"] and len(judged.still_open) == 1
