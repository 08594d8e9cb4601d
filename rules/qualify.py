"""Qualify: a Lead (optionally a subscriber too) matching `qualify.when` becomes an MQL.

The step before promote, off by default. The conditions are judged by `rules.conditions`,
as promote's are: no matching group is no change, an unreadable number is a skip naming the
property and the value. Only the lifecycle stage is written (MQL is a later stage, so
HubSpot's forward-only rule allows it).
"""

from __future__ import annotations

from collections.abc import Iterable

from config.conditions import condition_properties
from config.rules import Rules
from model.changes import Change, RuleName
from model.records import Record
from rules import kit as common
from rules.conditions import evaluate, search_groups
from rules.definition import RuleDef, Situation
from rules.kit import Engagements, Filter, eq, plan_each, update

RULE: RuleName = "qualify"


def stages(rules: Rules) -> list[str]:
    """The stages qualify moves from: lead, and subscriber when `qualify.subscribers`."""
    found = [rules.stages.lead]
    return [*found, rules.stages.subscriber] if rules.qualify.subscribers else found


def contact_properties(rules: Rules) -> list[str]:
    return common.contact_properties(*condition_properties(rules.qualify.conditions))


def search_filter_groups(rules: Rules) -> list[list[Filter]]:
    """One search per stage and condition group."""
    return [
        search
        for stage in stages(rules)
        for search in search_groups([eq("lifecyclestage", stage)], rules.qualify.conditions)
    ]


def plan_qualify(
    contacts: Iterable[Record], _engagements: Engagements, situation: Situation
) -> list[Change]:
    return plan_each(RULE, contacts, lambda record: _decide(record, situation.rules))


def _decide(record: Record, rules: Rules) -> list[Change]:
    if record.get("lifecyclestage") not in stages(rules):
        return []
    match = evaluate(rules.qualify.conditions, record)
    if match is None:
        return []
    return [update(RULE, record, {"lifecyclestage": rules.stages.mql}, match.reason)]


DEFINITION = RuleDef(
    name=RULE,
    description=__doc__.splitlines()[0],
    searches=search_filter_groups,
    properties=contact_properties,
    plan=plan_qualify,
)
