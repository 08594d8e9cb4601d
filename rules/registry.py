"""Every rule, in cycle order. Adding a rule: its module, and one line here."""

from __future__ import annotations

from model.changes import RuleName
from rules import (
    attempted,
    bad_timing,
    connected,
    followup,
    meeting_scheduled,
    new_lead,
    open_deal,
    promote,
    qualify,
    recycle,
)
from rules.definition import RuleDef

RULES: dict[RuleName, RuleDef] = {
    rule.name: rule
    for rule in (
        qualify.DEFINITION,
        promote.DEFINITION,
        new_lead.DEFINITION,
        # the ladder, top rung first: a contact moved up is not judged again lower down
        open_deal.DEFINITION,
        meeting_scheduled.DEFINITION,
        connected.DEFINITION,
        attempted.DEFINITION,
        followup.DEFINITION,
        bad_timing.DEFINITION,
        recycle.DEFINITION,
    )
}
