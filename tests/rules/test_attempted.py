"""Attempted: New + an outbound touch after becoming New → Attempted."""

from __future__ import annotations

import pytest

from config.rules import Rules
from model.changes import Change
from model.records import Engagement, Record
from rules.attempted import ENGAGEMENT_KINDS, plan_attempted, search_filters
from rules.definition import Situation

from rule_builders import CONNECTED_GUID, NOW, SQL, call, contact, email, meeting

NEW_SINCE = [("NEW", "2026-11-20 09:00"), (None, "2026-11-01 09:00")]


def new_contact(**props: str | None) -> Record:
    return contact(stage=SQL, status="NEW", history=NEW_SINCE, **props)


def plan(engagements: list[Engagement], rules: Rules, record: Record | None = None) -> list[Change]:
    record = record or new_contact()
    return plan_attempted([record], {record.id: engagements}, Situation(rules, NOW))


def test_outbound_call_after_new_moves_to_attempted(rules: Rules) -> None:
    [change] = plan([call("c1", "2026-11-20 14:02")], rules)
    assert change.properties == {"hs_lead_status": "ATTEMPTED_TO_CONTACT"}
    assert change.before == {"hs_lead_status": "NEW"}
    assert change.reason == "outbound call on 2026-11-20 14:02 UTC"
    assert change.rule == "attempted"


def test_reason_names_the_first_touch_after_new(rules: Rules) -> None:
    touches = [call("c2", "2026-11-22 10:00"), email("e1", "2026-11-21 08:30")]
    [change] = plan(touches, rules)
    assert change.reason == "outbound email on 2026-11-21 08:30 UTC"


@pytest.mark.parametrize(
    "engagement",
    [
        email("e", "2026-11-21 10:00", direction="INCOMING_EMAIL"),
        email("e", "2026-11-21 10:00", direction="FORWARDED_EMAIL"),
        email("e", "2026-11-21 10:00", status="BOUNCED"),
        email("e", "2026-11-21 10:00", status="FAILED"),
        email("e", "2026-11-21 10:00", status="SCHEDULED"),
        call("c", "2026-11-21 10:00", direction="INBOUND"),
        meeting("m", "2026-11-21 10:00"),
        call("c", "2026-11-19 10:00"),  # before New
        email("e", "2026-11-20 08:59"),  # before New
    ],
)
def test_what_does_not_count(rules: Rules, engagement: Engagement) -> None:
    assert plan([engagement], rules) == []


def test_touch_before_a_later_return_to_new_does_not_count(rules: Rules) -> None:
    record = contact(
        status="NEW",
        history=[("NEW", "2026-11-20 09:00"), ("ATTEMPTED_TO_CONTACT", "2026-11-10 09:00")],
    )
    assert plan([call("c", "2026-11-15 09:00")], rules, record) == []


def test_falls_back_to_the_sql_date(rules: Rules) -> None:
    record = contact(
        status="NEW", hs_lifecyclestage_salesqualifiedlead_date="2026-11-20T09:00:00.000Z"
    )
    assert plan([call("old", "2026-11-19 09:00")], rules, record) == []
    assert len(plan([call("new", "2026-11-21 09:00")], rules, record)) == 1


def test_unknown_new_time_is_a_skip_with_reason(rules: Rules) -> None:
    record = contact(status="NEW")
    [change] = plan([call("c", "2026-11-21 09:00")], rules, record)
    assert change.skip and "cannot tell when lead status became NEW" in change.reason


def test_unknown_new_time_without_touches_is_no_skip(rules: Rules) -> None:
    assert (
        plan(
            [email("e", "2026-11-21 09:00", direction="INCOMING_EMAIL")],
            rules,
            contact(status="NEW"),
        )
        == []
    )


@pytest.mark.parametrize("status", ["ATTEMPTED_TO_CONTACT", "CONNECTED", None, "OPEN_DEAL"])
def test_only_new_contacts(rules: Rules, status: str | None) -> None:
    record = contact(status=status, history=NEW_SINCE)
    assert plan([call("c", "2026-11-21 09:00")], rules, record) == []


def test_a_connected_call_is_an_attempt_here_the_connected_rule_moves_it_further(
    rules: Rules,
) -> None:
    [change] = plan([call("c", "2026-11-22 10:00", disposition=CONNECTED_GUID)], rules)
    assert change.properties == {"hs_lead_status": "ATTEMPTED_TO_CONTACT"}


def test_engagements_of_other_contacts_are_ignored(rules: Rules) -> None:
    record = new_contact()
    assert (
        plan_attempted([record], {"other": [call("c", "2026-11-22 10:00")]}, Situation(rules, NOW))
        == []
    )


def test_fetch_needs(rules: Rules) -> None:
    assert search_filters(rules) == [
        {"propertyName": "hs_lead_status", "operator": "EQ", "value": "NEW"}
    ]
    assert set(ENGAGEMENT_KINDS) == {"email", "call"}
