"""New lead: an SQL without a lead status (made by hand or by a form) gets lead status New."""

from __future__ import annotations

from collections.abc import Iterable

from config.rules import Rules
from model.changes import Change, RuleName
from model.records import EngagementKind, Record
from rules import kit as common
from rules.definition import RuleDef, Situation
from rules.kit import Engagements, Filter, eq, not_has, plan_each, update

RULE: RuleName = "new_lead"
ENGAGEMENT_KINDS: tuple[EngagementKind, ...] = ()
PROPERTIES_WITH_HISTORY: tuple[str, ...] = ()
REASON = "SQL without lead status (created by hand or a form)"


def contact_properties(rules: Rules) -> list[str]:
    return common.contact_properties()


def search_filters(rules: Rules) -> list[Filter]:
    return [eq("lifecyclestage", rules.stages.sql), not_has("hs_lead_status")]


def plan_new_lead(
    contacts: Iterable[Record], _engagements: Engagements, situation: Situation
) -> list[Change]:
    return plan_each(RULE, contacts, lambda record: _decide(record, situation.rules))


def _decide(record: Record, rules: Rules) -> list[Change]:
    if record.get("lifecyclestage") != rules.stages.sql or record.get("hs_lead_status"):
        return []
    return [update(RULE, record, {"hs_lead_status": rules.lead_status.new}, REASON)]


DEFINITION = RuleDef(
    name=RULE,
    description=__doc__.splitlines()[0],
    searches=lambda rules: [search_filters(rules)],
    properties=contact_properties,
    plan=plan_new_lead,
)
