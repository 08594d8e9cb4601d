"""Recycle: Unqualified, or Attempted K times with no answer for N days → Lead + nurture list."""

from __future__ import annotations

import pytest

from config.rules import Rules
from model.changes import Change
from model.records import Engagement, Record
from rules.definition import Situation
from rules.recycle import ENGAGEMENT_KINDS, contact_properties, plan_recycle, search_filter_groups

from rule_builders import CONNECTED_GUID, LEAD, MQL, NOW, SQL, call, contact, email, meeting

NEW_SINCE = [("ATTEMPTED_TO_CONTACT", "2026-10-02 09:00"), ("NEW", "2026-10-01 09:00")]
FIVE_TOUCHES = [call(f"c{i}", f"2026-10-0{i + 1} 10:00") for i in range(1, 6)]  # Oct 2–6


def attempted(**props: str | None) -> Record:
    return contact(stage=SQL, status="ATTEMPTED_TO_CONTACT", history=NEW_SINCE, **props)


def plan(record: Record, engagements: list[Engagement], rules: Rules) -> list[Change]:
    return plan_recycle([record], {record.id: engagements}, Situation(rules, NOW))


def test_unqualified_is_recycled_into_its_product_list(rules: Rules) -> None:
    update, listed = plan(
        contact(stage=MQL, status="UNQUALIFIED", product_interest="CRM"), [], rules
    )
    assert update.properties == {"lifecyclestage": LEAD, "hs_lead_status": ""}
    assert update.before == {"lifecyclestage": MQL, "hs_lead_status": "UNQUALIFIED"}
    assert update.reason == "lead status UNQUALIFIED"
    assert listed.list_name == "Nurture - CRM" and listed.properties == {}
    assert listed.reason == "product_interest 'CRM'"
    assert {update.rule, listed.rule} == {"recycle"}
    assert listed.owner_id == update.owner_id == "101"


def test_attempted_without_answer_is_recycled(rules: Rules) -> None:
    update, listed = plan(attempted(product_interest="analytics"), FIVE_TOUCHES, rules)
    assert update.properties == {"lifecyclestage": LEAD, "hs_lead_status": ""}
    assert update.reason == (
        "5 outbound touches since NEW on 2026-10-01 09:00 UTC, "
        "no reply, connection or meeting in 14 days"
    )
    assert listed.list_name == "Nurture - Analytics"


def test_configured_lead_status_after_recycling() -> None:
    rules = Rules.model_validate({"recycle": {"lead_status": "BAD_TIMING"}})
    update, _ = plan(contact(stage=SQL, status="UNQUALIFIED"), [], rules)
    assert update.properties["hs_lead_status"] == "BAD_TIMING"


def test_too_few_attempts(rules: Rules) -> None:
    assert plan(attempted(), FIVE_TOUCHES[:4], rules) == []


def test_touches_before_new_do_not_count(rules: Rules) -> None:
    record = contact(
        stage=SQL, status="ATTEMPTED_TO_CONTACT", history=[("NEW", "2026-10-04 00:00")]
    )
    assert plan(record, FIVE_TOUCHES, rules) == []


@pytest.mark.parametrize(
    "answer",
    [
        email("r", "2026-11-20 10:00", direction="INCOMING_EMAIL"),
        call("c", "2026-11-20 10:00", disposition=CONNECTED_GUID),
        call("c", "2026-11-20 10:00", direction="INBOUND", disposition=CONNECTED_GUID),
        meeting("m", "2026-11-20 10:00"),
        meeting("m", None, start="2026-12-01 10:00"),  # upcoming
        meeting("m", "2026-09-01 10:00", created="2026-11-20 10:00"),  # booked recently
    ],
)
def test_recent_reply_connection_or_meeting_prevents_recycling(
    rules: Rules, answer: Engagement
) -> None:
    assert plan(attempted(), [*FIVE_TOUCHES, answer], rules) == []


@pytest.mark.parametrize(
    "old",
    [
        email("r", "2026-11-08 10:00", direction="INCOMING_EMAIL"),  # 15 days ago
        call("c", "2026-11-20 10:00", direction="INBOUND"),  # not connected
        email("f", "2026-11-20 10:00", direction="FORWARDED_EMAIL"),
    ],
)
def test_old_or_non_answers_do_not_prevent_recycling(rules: Rules, old: Engagement) -> None:
    assert len(plan(attempted(), [*FIVE_TOUCHES, old], rules)) == 2


@pytest.mark.parametrize(
    "props",
    [
        {"hs_sequences_is_enrolled": "true"},
        {"notes_next_activity_date": "2026-11-30T10:00:00Z"},
        {"num_associated_deals": "1"},
    ],
)
def test_held_back_without_a_skip(rules: Rules, props: dict[str, str]) -> None:
    assert plan(contact(stage=SQL, status="UNQUALIFIED", **props), [], rules) == []


def test_past_next_activity_no_deals_and_not_enrolled_do_not_hold_back(rules: Rules) -> None:
    record = contact(
        stage=SQL,
        status="UNQUALIFIED",
        hs_sequences_is_enrolled="false",
        notes_next_activity_date="2026-11-01T10:00:00Z",
        num_associated_deals="0",
    )
    assert len(plan(record, [], rules)) == 2


@pytest.mark.parametrize(
    ("props", "named"),
    [
        ({"notes_next_activity_date": "next week"}, "notes_next_activity_date"),
        ({"num_associated_deals": "a few"}, "num_associated_deals"),
    ],
)
def test_unreadable_hold_values_are_skips(rules: Rules, props: dict[str, str], named: str) -> None:
    [change] = plan(contact(stage=SQL, status="UNQUALIFIED", **props), [], rules)
    assert change.skip and named in change.reason


def test_attempted_with_unknown_new_time_is_a_skip(rules: Rules) -> None:
    [change] = plan(contact(stage=SQL, status="ATTEMPTED_TO_CONTACT"), FIVE_TOUCHES, rules)
    assert change.skip and "cannot tell" in change.reason


@pytest.mark.parametrize("stage", ["opportunity", "customer", LEAD, "subscriber", "evangelist"])
def test_only_mqls_and_sqls(rules: Rules, stage: str | None) -> None:
    assert plan(contact(stage=stage, status="UNQUALIFIED"), [], rules) == []


def test_a_half_applied_recycle_without_stage_is_resumed(rules: Rules) -> None:
    update, listed = plan(contact(stage=None, status="UNQUALIFIED"), [], rules)
    assert update.properties["lifecyclestage"] == LEAD
    assert listed.list_name == "Nurture - General"


@pytest.mark.parametrize("status", ["NEW", "CONNECTED", "OPEN_DEAL", None])
def test_other_statuses_stay(rules: Rules, status: str | None) -> None:
    record = contact(stage=SQL, status=status, history=NEW_SINCE)
    assert plan(record, FIVE_TOUCHES, rules) == []


@pytest.mark.parametrize(
    ("interest", "list_name", "says"),
    [
        (None, "Nurture - General", "no product_interest"),
        ("hardware", "Nurture - General", "'hardware' has no nurture list"),
        ("hardware;payments", "Nurture - Payments", "'payments'"),
        (" Analytics ", "Nurture - Analytics", "'Analytics'"),
    ],
)
def test_nurture_list_by_product_interest(
    rules: Rules, interest: str | None, list_name: str, says: str
) -> None:
    _, listed = plan(contact(stage=SQL, status="UNQUALIFIED", product_interest=interest), [], rules)
    assert listed.list_name == list_name and says in listed.reason


def test_unowned_contact_is_recycled_without_owner(rules: Rules) -> None:
    changes = plan(contact(stage=SQL, status="UNQUALIFIED", owner=None), [], rules)
    assert len(changes) == 2 and all(c.owner_id is None for c in changes)


def test_fetch_needs(rules: Rules) -> None:
    groups = search_filter_groups(rules)
    assert len(groups) == 6 and all(len(g) == 2 for g in groups)
    assert {(g[0].get("value"), g[1]["value"]) for g in groups} == {
        (MQL, "UNQUALIFIED"),
        (MQL, "ATTEMPTED_TO_CONTACT"),
        (SQL, "UNQUALIFIED"),
        (SQL, "ATTEMPTED_TO_CONTACT"),
        (None, "UNQUALIFIED"),
        (None, "ATTEMPTED_TO_CONTACT"),
    }
    assert {"product_interest", "num_associated_deals", "hs_sequences_is_enrolled"} <= set(
        contact_properties(rules)
    )
    assert "meeting" in ENGAGEMENT_KINDS
