"""New lead: SQL without lead status → New."""

from __future__ import annotations

import pytest

from config.rules import Rules
from rules.definition import Situation
from rules.new_lead import REASON, plan_new_lead, search_filters

from rule_builders import MQL, NOW, SQL, contact


def test_sql_without_status_becomes_new(rules: Rules) -> None:
    [change] = plan_new_lead([contact(stage=SQL, status="")], {}, Situation(rules, NOW))
    assert change.properties == {"hs_lead_status": "NEW"}
    assert change.before == {"hs_lead_status": None}
    assert change.reason == REASON == "SQL without lead status (created by hand or a form)"
    assert change.rule == "new_lead"


@pytest.mark.parametrize("status", ["NEW", "ATTEMPTED_TO_CONTACT", "UNQUALIFIED", "CUSTOM_1"])
def test_sql_with_any_status_is_left_alone(rules: Rules, status: str) -> None:
    assert plan_new_lead([contact(stage=SQL, status=status)], {}, Situation(rules, NOW)) == []


@pytest.mark.parametrize("stage", [MQL, "opportunity", "customer", None])
def test_other_stages_are_left_alone(rules: Rules, stage: str | None) -> None:
    assert plan_new_lead([contact(stage=stage, status=None)], {}, Situation(rules, NOW)) == []


def test_portal_values_of_the_roles() -> None:
    rules = Rules.model_validate({"stages": {"sql": "123"}, "lead_status": {"new": "🆕"}})
    [change] = plan_new_lead([contact(stage="123", owner=None)], {}, Situation(rules, NOW))
    assert change.properties == {"hs_lead_status": "🆕"} and change.owner_id is None
    assert search_filters(rules) == [
        {"propertyName": "lifecyclestage", "operator": "EQ", "value": "123"},
        {"propertyName": "hs_lead_status", "operator": "NOT_HAS_PROPERTY"},
    ]
