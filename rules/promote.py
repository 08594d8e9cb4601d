"""Promote: an MQL whose score reaches the threshold becomes an SQL with lead status New.

A missing score or one below the threshold is no change; a score that is not a finite number
("n/a", "12abc", "nan", "inf") is a skip naming the property and the value. Contacts past MQL
are never touched.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from config.rules import Rules
from model.changes import Change, RuleName
from model.records import EngagementKind, Record
from rules import kit as common
from rules import ladder
from rules.definition import RuleDef, Situation
from rules.kit import CannotJudge, Engagements, Filter, eq, has, plan_each, update

RULE: RuleName = "promote"
ENGAGEMENT_KINDS: tuple[EngagementKind, ...] = ()
PROPERTIES_WITH_HISTORY: tuple[str, ...] = ()


def contact_properties(rules: Rules) -> list[str]:
    return common.contact_properties(rules.promote.score_property)


def search_filters(rules: Rules) -> list[Filter]:
    """One AND group: MQLs that have a score (the threshold is checked here, so bad scores
    are reported instead of silently filtered out)."""
    return [eq("lifecyclestage", rules.stages.mql), has(rules.promote.score_property)]


def parse_score(value: str) -> float | None:
    """The score as a finite float, or None when it is not one."""
    try:
        score = float(value)
    except ValueError:
        return None
    return score if math.isfinite(score) else None


def plan_promote(
    contacts: Iterable[Record], _engagements: Engagements, situation: Situation
) -> list[Change]:
    return plan_each(RULE, contacts, lambda record: _decide(record, situation.rules))


def _decide(record: Record, rules: Rules) -> list[Change]:
    prop, threshold = rules.promote.score_property, rules.promote.threshold
    raw = record.get(prop)
    if record.get("lifecyclestage") != rules.stages.mql or raw is None:
        return []
    score = parse_score(raw)
    if score is None:
        raise CannotJudge(f"{prop} is not a number: {raw!r}")
    if score < threshold:
        return []
    properties = {"lifecyclestage": rules.stages.sql}
    if ladder.can_move(record, rules.lead_status.new, rules):  # a status set by hand stays
        properties["hs_lead_status"] = rules.lead_status.new
    return [update(RULE, record, properties, f"score {score:g} ≥ {threshold:g}")]


DEFINITION = RuleDef(
    name=RULE,
    description=__doc__.splitlines()[0],
    searches=lambda rules: [search_filters(rules)],
    properties=contact_properties,
    plan=plan_promote,
)
