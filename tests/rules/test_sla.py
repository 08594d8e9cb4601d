"""First-touch SLA: which New leads breach, how a breach is known across runs, and what closes
it. `NOW` is Monday 2026-11-23 12:00 UTC; the SLA is 4 hours."""

from __future__ import annotations

from config.rules import Rules
from rules.definition import Situation
from rules.sla import escalation, find_breaches, late_touches

from rule_builders import NOW, SQL, call, contact, email, task

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
