"""`promote.when` / `qualify.when`, `sla` and `channels`: bad values are refused at load with
the key path, the value and what is allowed; the old score keys still mean one condition."""

from __future__ import annotations

import pytest

from config.conditions import Condition
from config.rules import ConfigError, Rules, parse_rules


def problems_of(data: object) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_rules(data, "test.yaml")
    return caught.value.problems


def when(*conditions: dict) -> dict:
    return {"promote": {"when": [list(conditions)]}}


@pytest.mark.parametrize(
    ("data", "fragments"),
    [
        (when({"property": "fit", "op": "≥", "value": 3}), ["promote.when.0.0.op", "'≥'", "'>='"]),
        (when({"property": "fit", "op": ">=", "value": "high"}), ["fit >=", "'high'", "number"]),
        (when({"property": "fit", "op": ">="}), ["promote.when.0.0", "needs one value"]),
        (when({"property": "label", "op": "in", "value": "A1"}), ["label in", "list"]),
        (when({"property": "label", "op": "in", "value": []}), ["label in", "non-empty list"]),
        (when({"property": "fit", "op": "has", "value": 1}), ["fit has", "takes no value"]),
        (when({"property": "Fit Score", "op": "has"}), ["promote.when.0.0.property", "lowercase"]),
        (when({"property": "fit", "op": "=", "value": [1]}), ["fit =", "one value"]),
        (when({"property": "fit", "op": "has", "colour": "red"}), ["colour", "unknown key"]),
        ({"promote": {"when": []}}, ["promote.when", "at least one group"]),
        ({"promote": {"when": [[]]}}, ["promote.when", "group 1 is empty"]),
        ({"promote": {"when": [[{"property": "a", "op": "has"}]] * 6}}, ["6 groups", "at most 5"]),
        (
            {"promote": {"threshold": 40, "when": [[{"property": "a", "op": "has"}]]}},
            ["promote", "either `when` or score_property/threshold", "threshold"],
        ),
        ({"qualify": {"enabled": True}}, ["qualify", "no `when` conditions"]),
        ({"sla": {"managers": {"7": "not-mail"}}}, ["sla.managers", "not-mail"]),
        ({"sla": {"first_touch_hours": 0}}, ["sla.first_touch_hours", "0"]),
        ({"sla": {"escalation_email": "ops"}}, ["sla.escalation_email", "'ops'"]),
        ({"channels": {"post": ["everything"]}}, ["channels.post", "'summary'"]),
        ({"channels": {"blocks": ["sales-team"]}}, ["channels.blocks", "slack-webhook/"]),
    ],
)
def test_bad_conditions_name_field_value_and_allowed(data: dict, fragments: list[str]) -> None:
    [problem] = problems_of(data)
    for fragment in fragments:
        assert fragment in problem


def test_old_score_keys_mean_one_condition_and_thresholds_may_be_negative() -> None:
    rules = parse_rules({"promote": {"score_property": "hs_score_2", "threshold": -10}})
    [[condition]] = rules.promote.conditions
    assert (condition.property, condition.op, condition.value) == ("hs_score_2", ">=", -10)
    assert condition.label == "score"
    assert parse_rules({"promote": {"threshold": 0}}).promote.threshold == 0


def test_when_replaces_the_score_keys() -> None:
    rules = parse_rules(
        {"promote": {"when": [[{"property": "fit", "op": ">=", "value": 30, "label": "fit"}]]}}
    )
    assert rules.promote.conditions == (
        (Condition(property="fit", op=">=", value=30.0, label="fit"),),
    )


def test_qualify_is_off_by_default_and_sla_managers_match_case_insensitively() -> None:
    rules = Rules()
    assert not rules.qualify.enabled and not rules.sla.enabled and rules.channels.blocks == ()
    sla = parse_rules(
        {
            "sla": {
                "managers": {"Grace@Example.com": "boss@example.com"},
                "escalation_email": "ops@x.io",
            }
        }
    ).sla
    assert sla.manager_of("7", "grace@example.com") == "boss@example.com"
    assert sla.manager_of("8", "other@example.com") == "ops@x.io"
    by_id = parse_rules({"sla": {"managers": {70000002: "emea@example.com"}}}).sla
    assert by_id.manager_of("70000002", None) == "emea@example.com"
    assert by_id.manager_of("1", None) is None  # no escalation address: ops get it
