"""Promote: MQL with a score at or above the threshold → SQL + lead status New."""

from __future__ import annotations

import pytest

from config.rules import Rules
from rules.definition import Situation
from rules.promote import contact_properties, plan_promote, search_filter_groups

from rule_builders import LEAD, MQL, NOW, SQL, contact


def test_mql_at_threshold_is_promoted(rules: Rules) -> None:
    record = contact(stage=MQL, status=None, lead_score="50")
    [change] = plan_promote([record], {}, Situation(rules, NOW))
    assert change.properties == {"lifecyclestage": SQL, "hs_lead_status": "NEW"}
    assert change.before == {"lifecyclestage": MQL, "hs_lead_status": None}
    assert change.reason == "score 50 ≥ 50"
    assert (change.rule, change.contact_id, change.contact_name) == ("promote", "1", "Ada Lovelace")
    assert change.owner_id == "101" and not change.skip


def test_reason_shows_the_score(rules: Rules) -> None:
    [change] = plan_promote([contact(stage=MQL, lead_score="72")], {}, Situation(rules, NOW))
    assert change.reason == "score 72 ≥ 50"


@pytest.mark.parametrize("score", ["49.9", "0", "-5", None, ""])
def test_below_threshold_or_no_score_is_left_alone(rules: Rules, score: str | None) -> None:
    assert plan_promote([contact(stage=MQL, lead_score=score)], {}, Situation(rules, NOW)) == []


@pytest.mark.parametrize("score", ["n/a", "12abc", "nan", "inf", "-inf", " "])
def test_non_numeric_score_is_a_skip_naming_property_and_value(rules: Rules, score: str) -> None:
    [change] = plan_promote([contact(stage=MQL, lead_score=score)], {}, Situation(rules, NOW))
    assert change.skip and change.properties == {}
    assert "lead_score" in change.reason and repr(score) in change.reason


@pytest.mark.parametrize(
    "stage", [SQL, "opportunity", "customer", "evangelist", "other", "1234", LEAD]
)
def test_other_stages_are_untouched_even_with_a_high_score(rules: Rules, stage: str) -> None:
    assert plan_promote([contact(stage=stage, lead_score="99")], {}, Situation(rules, NOW)) == []


def test_configured_score_property_and_threshold() -> None:
    rules = Rules.model_validate({"promote": {"score_property": "hs_score_2", "threshold": 80}})
    records = [
        contact("1", stage=MQL, hs_score_2="85", lead_score="10"),
        contact("2", stage=MQL, hs_score_2="79", lead_score="99"),
    ]
    [change] = plan_promote(records, {}, Situation(rules, NOW))
    assert change.contact_id == "1" and change.reason == "score 85 ≥ 80"
    assert "hs_score_2" in contact_properties(rules)


def test_unowned_contact_is_promoted_without_owner(rules: Rules) -> None:
    [change] = plan_promote(
        [contact(stage=MQL, owner=None, lead_score="60")], {}, Situation(rules, NOW)
    )
    assert change.owner_id is None and not change.skip


def test_search_finds_scored_mqls_so_bad_scores_are_reported(rules: Rules) -> None:
    assert search_filter_groups(rules) == [
        [
            {"propertyName": "lifecyclestage", "operator": "EQ", "value": MQL},
            {"propertyName": "lead_score", "operator": "HAS_PROPERTY"},
        ]
    ]
    assert {"lifecyclestage", "hs_lead_status", "lead_score", "hubspot_owner_id"} <= set(
        contact_properties(rules)
    )
