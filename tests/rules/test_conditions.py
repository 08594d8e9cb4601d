"""Groups of conditions: every operator, AND inside a group, OR across groups, the reason that
names what matched, and the search filters that narrow the candidates first."""

from __future__ import annotations

import pytest

from config.conditions import Condition
from config.rules import Rules
from rules import followup
from rules.conditions import SEARCH_FILTERS, evaluate, search_filter, search_groups
from rules.definition import Situation
from rules.kit import CannotJudge
from rules.promote import plan_promote
from rules.promote import search_filter_groups as promote_searches

from rule_builders import MQL, NOW, SQL, contact


def cond(prop: str, op: str, value: object = None) -> Condition:
    return Condition.model_validate({"property": prop, "op": op, "value": value})


def holds(condition: Condition, raw: str | None) -> bool:
    return evaluate([(condition,)], contact(**{condition.property: raw})) is not None


@pytest.mark.parametrize(
    ("op", "value", "raw", "expected"),
    [
        (">=", 30, "30", True),
        (">=", 30, "29.99", False),
        (">", 30, "30", False),
        (">", 30, "30.5", True),
        ("<=", 0, "0", True),
        ("<=", 0, "0.1", False),
        ("<", -5, "-6", True),
        ("<", -5, "-5", False),
        ("=", 30, "30.0", True),  # numbers compare as numbers
        ("=", 30, "31", False),
        ("=", "A1", "A1", True),  # texts exactly (enumeration values are case-sensitive)
        ("=", "A1", "a1", False),
        ("!=", "A1", "B2", True),
        ("!=", "A1", "A1", False),
        ("!=", 30, "30.0", False),
        ("!=", "A1", None, True),  # a missing value is not A1
        ("in", ["A1", "A2", "B1"], "A2", True),
        ("in", ["A1", "A2", "B1"], "C3", False),
        ("in", ["crm"], "analytics;crm", True),  # multi-select: any overlap
        ("in", ["A1"], None, False),
        ("not-in", ["C2", "C3"], "A1", True),
        ("not-in", ["C2", "C3"], "C3", False),
        ("not-in", ["C3"], None, True),
        ("has", None, "anything", True),
        ("has", None, None, False),
        ("has", None, "", False),  # HubSpot's empty string is no value
        ("not-has", None, None, True),
        ("not-has", None, "x", False),
        (">=", 30, None, False),
        ("=", 30, None, False),
        ("=", "A1", None, False),
    ],
)
def test_every_operator(op: str, value: object, raw: str | None, expected: bool) -> None:
    assert holds(cond("fit", op, value), raw) is expected


FIT_AND_ENGAGED = (cond("fit", ">=", 30), cond("engagement", ">=", 20))
TOP_LABEL = (cond("label", "in", ["A1", "A2", "B1"]),)


@pytest.mark.parametrize(
    ("props", "reason"),
    [
        ({"fit": "42", "engagement": "25"}, "fit 42 ≥ 30 and engagement 25 ≥ 20"),
        ({"fit": "42", "engagement": "5", "label": "A2"}, "label A2 in A1, A2, B1"),
        ({"fit": "10", "engagement": "25", "label": "B1"}, "label B1 in A1, A2, B1"),
        ({"fit": "42", "engagement": "25", "label": "A1"}, "fit 42 ≥ 30 and engagement 25 ≥ 20"),
        ({"fit": "42", "engagement": "5", "label": "C3"}, None),  # AND: one part fails
        ({"fit": "42"}, None),
        ({}, None),
    ],
)
def test_and_inside_a_group_or_across_groups_first_match_names_the_reason(
    props: dict[str, str], reason: str | None
) -> None:
    match = evaluate([FIT_AND_ENGAGED, TOP_LABEL], contact(**props))
    assert (match.reason if match else None) == reason


def test_an_unreadable_number_is_a_skip_only_when_nothing_else_decides() -> None:
    groups = [FIT_AND_ENGAGED, TOP_LABEL]
    with pytest.raises(CannotJudge, match="fit is not a number: 'n/a'"):
        evaluate(groups, contact(fit="n/a", engagement="25"))
    # another group matches: promoted on that one
    assert evaluate(groups, contact(fit="n/a", label="A1")).reason == "label A1 in A1, A2, B1"  # type: ignore[union-attr]
    # the same group fails on a readable condition: simply no match
    assert evaluate(groups, contact(fit="n/a", engagement="5")) is None


def test_promote_on_groups_of_conditions_with_a_negative_threshold() -> None:
    rules = Rules.model_validate(
        {
            "promote": {
                "when": [
                    [
                        {"property": "fit_score", "op": ">=", "value": 30, "label": "fit"},
                        {
                            "property": "engagement_score",
                            "op": ">=",
                            "value": 20,
                            "label": "engagement",
                        },
                    ],
                    [{"property": "score_delta", "op": "<=", "value": -10}],
                ]
            }
        }
    )
    records = [
        contact("1", stage=MQL, fit_score="42", engagement_score="25"),
        contact("2", stage=MQL, fit_score="42", engagement_score="19"),
        contact("3", stage=MQL, score_delta="-12"),
        contact("4", stage=SQL, fit_score="99", engagement_score="99"),
    ]
    changes = plan_promote(records, {}, Situation(rules, NOW))
    assert [(c.contact_id, c.reason) for c in changes] == [
        ("1", "fit 42 ≥ 30 and engagement 25 ≥ 20"),
        ("3", "score_delta -12 ≤ -10"),
    ]
    assert all(c.properties == {"lifecyclestage": SQL, "hs_lead_status": "NEW"} for c in changes)


def test_search_filters_narrow_each_group_within_hubspots_limits() -> None:
    rules = Rules.model_validate(
        {
            "promote": {
                "when": [
                    [
                        {"property": "tier", "op": "=", "value": "gold"},
                        {"property": "label", "op": "!=", "value": "C3"},  # planner only
                        {"property": "fit", "op": ">=", "value": 30},
                        {"property": "engagement", "op": ">", "value": 20},  # past the room
                    ],
                    [{"property": "label", "op": "in", "value": ["A1", "A2"]}],
                ]
            }
        }
    )
    first, second = promote_searches(rules)
    stage = {"propertyName": "lifecyclestage", "operator": "EQ", "value": MQL}
    assert first == [
        stage,
        {"propertyName": "tier", "operator": "EQ", "value": "gold"},
        {"propertyName": "fit", "operator": "HAS_PROPERTY"},
    ]
    assert second == [stage, {"propertyName": "label", "operator": "HAS_PROPERTY"}]
    assert all(len(search) <= SEARCH_FILTERS for search in (first, second))


@pytest.mark.parametrize(
    ("op", "value", "wire"),
    [
        # numbers only narrow to "has a value": a GTE would hide "n/a", which is a skip
        (">=", 1.5, ("HAS_PROPERTY", None)),
        (">", 0, ("HAS_PROPERTY", None)),
        ("<=", -3, ("HAS_PROPERTY", None)),
        ("<", 10, ("HAS_PROPERTY", None)),
        ("=", 30, ("HAS_PROPERTY", None)),
        ("=", "A1", ("EQ", "A1")),
        ("has", None, ("HAS_PROPERTY", None)),
        ("not-has", None, ("NOT_HAS_PROPERTY", None)),
        ("in", ["A1"], ("HAS_PROPERTY", None)),
        ("!=", "A1", None),
        ("!=", 30, None),
        ("not-in", ["A1"], None),
    ],
)
def test_search_filter_per_operator(op: str, value: object, wire: tuple | None) -> None:
    found = search_filter(cond("fit", op, value))
    assert (None if found is None else (found["operator"], found.get("value"))) == wire


def test_identical_implied_filters_are_sent_once() -> None:
    group = (cond("label", "in", ["A1"]), cond("label", "has"))
    assert search_groups([], [group]) == [[{"propertyName": "label", "operator": "HAS_PROPERTY"}]]


def test_task_templates_may_use_score_and_the_properties_conditions_read() -> None:
    rules = Rules.model_validate(
        {
            "promote": {
                "when": [
                    [
                        {"property": "lead_score_label", "op": "in", "value": ["A1"]},
                        {"property": "fit_score", "op": ">=", "value": 30},
                    ]
                ]
            },
            "followup": {
                "first_touch": {
                    "subject": "{{ contact.name }}: score {{ score }}, label {{ lead_score_label }}"
                }
            },
        }
    )
    record = contact(
        stage=SQL,
        status="NEW",
        history=[("NEW", "2026-11-23 09:00")],
        fit_score="42",
        lead_score_label="A1",
    )
    [change] = followup.plan_followups([record], {}, Situation(rules, NOW))
    assert change.task is not None
    assert change.task.subject == "Ada Lovelace: score 42, label A1"
    assert {"fit_score", "lead_score_label"} <= set(followup.contact_properties(rules))
