"""Qualify: a Lead (and, when asked, a subscriber) matching `qualify.when` becomes an MQL."""

from __future__ import annotations

from config.rules import Rules
from rules.definition import Situation
from rules.qualify import plan_qualify, search_filter_groups

from rule_builders import LEAD, MQL, NOW, SQL, contact

WHEN = [
    [{"property": "fit_score", "op": ">=", "value": 30, "label": "fit"}],
    [{"property": "lead_score_label", "op": "in", "value": ["A1"]}],
]


def rules(**qualify: object) -> Rules:
    return Rules.model_validate({"qualify": {"enabled": True, "when": WHEN, **qualify}})


def test_leads_matching_become_mqls_with_the_condition_as_reason() -> None:
    records = [
        contact("1", stage=LEAD, fit_score="35"),
        contact("2", stage=LEAD, fit_score="29", lead_score_label="A1"),
        contact("3", stage=LEAD, fit_score="29"),
        contact("4", stage="subscriber", fit_score="90"),
        contact("5", stage=MQL, fit_score="90"),
        contact("6", stage=SQL, fit_score="90"),
    ]
    changes = plan_qualify(records, {}, Situation(rules(), NOW))
    assert [(c.contact_id, c.reason) for c in changes] == [
        ("1", "fit 35 ≥ 30"),
        ("2", "lead_score_label A1 in A1"),
    ]
    assert changes[0].properties == {"lifecyclestage": MQL}
    assert changes[0].before == {"lifecyclestage": LEAD}


def test_subscribers_only_when_asked_with_one_search_per_stage_and_group() -> None:
    subscriber = contact("4", stage="subscriber", fit_score="90")
    assert plan_qualify([subscriber], {}, Situation(rules(), NOW)) == []
    [change] = plan_qualify([subscriber], {}, Situation(rules(subscribers=True), NOW))
    assert change.before == {"lifecyclestage": "subscriber"}
    stages = [s[0]["value"] for s in search_filter_groups(rules(subscribers=True))]
    assert stages == [LEAD, LEAD, "subscriber", "subscriber"]


def test_an_unreadable_number_is_a_skip() -> None:
    [change] = plan_qualify([contact(stage=LEAD, fit_score="high")], {}, Situation(rules(), NOW))
    assert change.skip and change.reason == "fit_score is not a number: 'high'"
