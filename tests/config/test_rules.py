"""Bad config fails at load with the key path, the value and what is allowed."""

from pathlib import Path

import pytest

from config.rules import DEFAULT_RULES, ConfigError, load_rules, parse_rules


def problems_of(data: object) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_rules(data, "test.yaml")
    return caught.value.problems


def test_shipped_defaults_load() -> None:
    rules = load_rules()
    assert rules.promote.threshold == 50
    assert rules.stages.sql == "salesqualifiedlead"
    assert rules.recycle.list_for("Analytics") == "Nurture - Analytics"
    assert rules.recycle.list_for("unknown-thing") == rules.recycle.default_list
    assert rules.recycle.list_for(None) == rules.recycle.default_list


def test_unknown_key_is_named_with_its_path() -> None:
    [problem] = problems_of({"promote": {"treshold": 40}})
    assert problem.startswith("promote.treshold: unknown key")


@pytest.mark.parametrize(
    ("data", "path", "fragment"),
    [
        ({"promote": {"threshold": -200_000}}, "promote.threshold", "greater than or equal"),
        ({"promote": {"threshold": "high"}}, "promote.threshold", "'high'"),
        ({"followup": {"first_touch": {"type": "SMS"}}}, "followup.first_touch.type", "'CALL'"),
        ({"followup": {"next_attempt": {"max_attempts": 0}}}, "next_attempt.max_attempts", "1"),
        ({"promote": {"score_property": "Lead Score"}}, "promote.score_property", "lowercase"),
        ({"notify": {"ops_email": "not-an-address"}}, "notify.ops_email", "not-an-address"),
        ({"followup": {"first_touch": {"subject": "{{ oops"}}}, "first_touch.subject", "Jinja"),
        (
            {"followup": {"business_hours": {"start": "18:00", "end": "09:00"}}},
            "followup.business_hours",
            "must be after start",
        ),
    ],
)
def test_bad_values_name_field_value_and_allowed(data: dict, path: str, fragment: str) -> None:
    [problem] = problems_of(data)
    assert path in problem
    assert fragment in problem


def test_roles_must_be_distinct() -> None:
    [problem] = problems_of({"lead_status": {"new": "X", "attempted": "X"}})
    assert "repeated: ['X']" in problem


def test_recycled_status_must_not_make_contacts_candidates_again() -> None:
    [problem] = problems_of({"recycle": {"lead_status": "NEW"}})
    assert "recycle.lead_status 'NEW'" in problem


def test_every_problem_is_reported_at_once() -> None:
    problems = problems_of({"promote": {"threshold": -1e9}, "recycle": {"min_attempts": 0}})
    assert len(problems) == 2


def test_unreadable_and_invalid_yaml_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read file"):
        load_rules(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("promote: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_rules(broken)
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("42\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_rules(scalar)


def test_shipped_yaml_sets_every_section() -> None:
    text = DEFAULT_RULES.read_text()
    for section in (
        "stages",
        "lead_status",
        "promote",
        "new_lead",
        "attempted",
        "followup",
        "recycle",
        "notify",
    ):
        assert f"\n{section}:" in f"\n{text}"
