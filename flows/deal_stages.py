"""Deal pipelines edited between runs: the rules that read deal stages judge in full once.

Editing a pipeline in HubSpot's settings (a stage marked closed or open again, its probability,
a stage renamed or removed) changes what `open_deal` decides about every contact with a deal
in it, yet it writes no deal and no contact: nothing in an incremental window shows it
(HubSpot's Pipelines API lists every pipeline in one answer, with no modified-since filter).
Every run reads the pipelines anyway (the portal check), so a run that judged such a rule in
full keeps a digest of the stages it judged with (`runstate.deadlines`, as the rules-config
digest), and a run that reads different stages judges the rule's whole population again, as
after a changed rules file. No extra call.

Example:
    ```python
    from flows.deal_stages import stages_digest
    from model.records import DealStage

    stage = DealStage("default", "closedlost", "Closed Lost", closed=True, probability=0.0)
    print(stages_digest({("default", "closedlost"): stage}))
    ```
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict

from flows.engine import RunContext
from model.records import DealStage
from rules.definition import RuleDef


def reads_deal_stages(rule: RuleDef) -> bool:
    return "deal" in rule.engagement_kinds


def stages_digest(stages: Mapping[tuple[str, str], DealStage]) -> str:
    """A digest of every stage as the rules see it (order-independent)."""
    rows = sorted((asdict(stage) for stage in stages.values()), key=lambda s: json.dumps(s))
    encoded = json.dumps(rows, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()[:16]


def _key(rule: RuleDef) -> str:
    return f"{rule.name}:deal-stages"


def stages_changed(ctx: RunContext, rule: RuleDef) -> bool:
    """Whether `rule` reads deal stages and they differ from those of its last full
    judgment (or none is on record). False when the portal check could not read them."""
    if not reads_deal_stages(rule) or not ctx.deal_stages or ctx.state is None:
        return False
    portal = ctx.settings.hubspot_portal_id or ""
    return ctx.state.baseline(portal, _key(rule)) != stages_digest(ctx.deal_stages)


def record_stages(ctx: RunContext, rule: RuleDef) -> None:
    """After a full judgment of `rule`: the stages it judged with."""
    if not reads_deal_stages(rule) or not ctx.deal_stages or ctx.state is None:
        return
    portal = ctx.settings.hubspot_portal_id or ""
    ctx.state.set_baseline(portal, _key(rule), stages_digest(ctx.deal_stages), ctx.now)
