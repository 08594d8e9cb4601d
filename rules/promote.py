"""Promote: an MQL matching `promote.when` becomes an SQL with lead status New.

Without `when`, the condition is `score_property ≥ threshold`. The conditions are judged by
`rules.conditions`: no matching group is no change; a property compared as a number that
holds something else ("n/a", "12abc", "nan", "inf") is a skip naming the property and the
value. Contacts past MQL are never touched.
"""

from __future__ import annotations

from collections.abc import Iterable

from config.conditions import condition_properties
from config.rules import Rules
from model.changes import Change, RuleName
from model.records import EngagementKind, Record
from rules import kit as common
from rules import ladder
from rules.conditions import evaluate, search_groups
from rules.definition import RuleDef, Situation
from rules.kit import Engagements, Filter, eq, plan_each, update

RULE: RuleName = "promote"
ENGAGEMENT_KINDS: tuple[EngagementKind, ...] = ()
PROPERTIES_WITH_HISTORY: tuple[str, ...] = ()


def contact_properties(rules: Rules) -> list[str]:
    return common.contact_properties(*condition_properties(rules.promote.conditions))


def search_filter_groups(rules: Rules) -> list[list[Filter]]:
    """One search per condition group: MQLs, narrowed by what the group's conditions imply."""
    return search_groups([eq("lifecyclestage", rules.stages.mql)], rules.promote.conditions)


def plan_promote(
    contacts: Iterable[Record], _engagements: Engagements, situation: Situation
) -> list[Change]:
    return plan_each(RULE, contacts, lambda record: _decide(record, situation.rules))


def _decide(record: Record, rules: Rules) -> list[Change]:
    if record.get("lifecyclestage") != rules.stages.mql:
        return []
    match = evaluate(rules.promote.conditions, record)
    if match is None:
        return []
    properties = {"lifecyclestage": rules.stages.sql}
    if ladder.can_move(record, rules.lead_status.new, rules):  # a status set by hand stays
        properties["hs_lead_status"] = rules.lead_status.new
    return [update(RULE, record, properties, match.reason)]


DEFINITION = RuleDef(
    name=RULE,
    description=__doc__.splitlines()[0],
    searches=search_filter_groups,
    properties=contact_properties,
    plan=plan_promote,
)
