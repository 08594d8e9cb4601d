"""The run forms ops fill in the Prefect UI: what they show, and what the Prefect server
refuses before a run starts (the deployment's parameter schema, checked as the server does)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from prefect.utilities.callables import parameter_schema
from prefect.utilities.schema_tools.validation import ValidationError, validate

from flows.cycle import lifecycle_cycle
from flows.params import RunParams
from flows.rule_flows import followup_flow, promote_flow


def schema_of(flow: Any) -> dict[str, Any]:
    """What `prefect deploy` stores as the deployment's parameter schema."""
    return parameter_schema(flow).model_dump_for_openapi()


def fields(flow: Any) -> dict[str, Any]:
    schema = schema_of(flow)
    params = schema["properties"]["params"]
    ref = params.get("$ref") or params["allOf"][0]["$ref"]
    ref = ref.rsplit("/", 1)[1]
    return schema["definitions"][ref]["properties"]


def server_accepts(flow: Any, params: dict[str, Any]) -> bool:
    try:
        validate({"params": params}, schema_of(flow), raise_on_error=True)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("flow", [promote_flow, followup_flow])
def test_single_rule_forms_have_no_rules_field(flow: Any) -> None:
    assert "rules" not in fields(flow)
    assert {"dry_run", "since", "until", "notify", "full"} == set(fields(flow))
    assert not server_accepts(flow, {"rules": ["recycle"]})


def test_the_cycle_form_says_empty_means_every_rule() -> None:
    rules = fields(lifecycle_cycle)["rules"]
    assert "empty = all rules" in rules["description"]
    assert RunParams(rules=[]).rules == RunParams().rules
    assert RunParams(rules=["recycle", "promote"]).rules == ["promote", "recycle"]  # cycle order


def test_dates_alone_are_accepted_where_the_form_promises_them() -> None:
    assert "a date (midnight UTC)" in fields(lifecycle_cycle)["since"]["description"]
    assert server_accepts(lifecycle_cycle, {"since": "2026-10-01", "until": "2026-10-02"})
    assert server_accepts(lifecycle_cycle, {"since": "2026-10-01T08:30:00+02:00"})
    params = RunParams(since="2026-10-01", until="2026-10-02T06:00")
    assert params.since == datetime(2026, 10, 1, tzinfo=UTC)
    assert params.until == datetime(2026, 10, 2, 6, tzinfo=UTC)  # no offset: UTC


@pytest.mark.parametrize(
    "params",
    [
        {"rules": ["promot"]},
        {"rules": "promote"},
        {"rules": ["promote", "promote"]},
        {"dry_run": "maybe"},
        {"since": "last tuesday"},
        {"windw": 3},
    ],
    ids=["unknown-rule", "not-a-list", "rule-twice", "not-a-bool", "not-a-date", "unknown-field"],
)
def test_the_server_refuses_invalid_values_before_a_run(params: dict[str, Any]) -> None:
    assert not server_accepts(lifecycle_cycle, params)
