"""One flow per rule (its own deployment): the portal check, report and digests of a cycle,
for that rule alone.

Example:
    ```python
    from flows.params import RunParams, RunSettings
    from flows.rule_flows import promote_flow

    print(promote_flow(RunParams(dry_run=True))["rules"])
    ```
"""

from __future__ import annotations

from prefect import Flow, flow

from flows.cycle import run_cycle
from flows.params import RunParams, RunSettings
from notify.deliver import alert_ops_on_failure
from rules.definition import RuleDef
from rules.registry import RULES


def rule_flow(definition: RuleDef) -> Flow:
    """A flow that runs one rule, named after it (`new_lead` → `new-lead`)."""
    name = definition.name.replace("_", "-")

    @flow(
        name=name,
        description=definition.description,
        on_failure=[alert_ops_on_failure],
        on_crashed=[alert_ops_on_failure],
    )
    def run_one_rule(params: RunParams = RunParams(), settings: RunSettings = None) -> dict:
        only_this = params.model_copy(update={"rules": [definition.name]})
        return run_cycle(only_this, name, settings).as_dict()

    return run_one_rule


# prefect.yaml's entrypoints name these (`flows/rule_flows.py:promote_flow`).
qualify_flow = rule_flow(RULES["qualify"])
promote_flow = rule_flow(RULES["promote"])
new_lead_flow = rule_flow(RULES["new_lead"])
attempted_flow = rule_flow(RULES["attempted"])
followup_flow = rule_flow(RULES["followup"])
recycle_flow = rule_flow(RULES["recycle"])
