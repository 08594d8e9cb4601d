"""One flow per rule (its own deployment): the portal check, report and digests of a cycle,
for that rule alone.

Example:
    ```python
    from flows.params import RunParams, RunSettings, WindowParams
    from flows.rule_flows import promote_flow

    print(promote_flow(RunParams(dry_run=True))["rules"])
    ```
"""

from __future__ import annotations

from prefect import Flow, flow

from flows.cycle import run_cycle
from flows.params import RunParams, RunSettings, WindowParams
from notify.alerts import ALERT_HOOKS
from rules.definition import RuleDef
from rules.registry import RULES


def rule_flow(definition: RuleDef) -> Flow:
    """A flow that runs one rule, named after it (`new_lead` → `new-lead`)."""
    name = definition.name.replace("_", "-")

    @flow(
        name=name,
        description=definition.description,
        **ALERT_HOOKS,
    )
    def run_one_rule(params: WindowParams = WindowParams(), settings: RunSettings = None) -> dict:
        # The form has no Rules field: this flow runs its own rule only.
        only_this = RunParams(**{**params.model_dump(), "rules": [definition.name]})
        return run_cycle(only_this, name, settings).as_dict()

    return run_one_rule


# prefect.yaml's entrypoints name these (`flows/rule_flows.py:promote_flow`).
qualify_flow = rule_flow(RULES["qualify"])
promote_flow = rule_flow(RULES["promote"])
new_lead_flow = rule_flow(RULES["new_lead"])
open_deal_flow = rule_flow(RULES["open_deal"])
meeting_scheduled_flow = rule_flow(RULES["meeting_scheduled"])
connected_flow = rule_flow(RULES["connected"])
attempted_flow = rule_flow(RULES["attempted"])
followup_flow = rule_flow(RULES["followup"])
bad_timing_flow = rule_flow(RULES["bad_timing"])
recycle_flow = rule_flow(RULES["recycle"])
