"""Every rule, in cycle order. Adding a rule: its module, and one line here."""

from __future__ import annotations

from model.changes import RuleName
from rules import attempted, followup, new_lead, promote, qualify, recycle
from rules.definition import RuleDef

RULES: dict[RuleName, RuleDef] = {
    rule.name: rule
    for rule in (
        qualify.DEFINITION,
        promote.DEFINITION,
        new_lead.DEFINITION,
        attempted.DEFINITION,
        followup.DEFINITION,
        recycle.DEFINITION,
    )
}
