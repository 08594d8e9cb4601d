"""Promote: an MQL whose score reaches the threshold becomes an SQL with lead status New.

A missing score or one below the threshold is no change; a score that is not a finite number
("n/a", "12abc", "nan", "inf") is a skip naming the property and the value. Contacts past MQL
are never touched.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from config.rules import Rules
from flows import common
from flows.common import CannotJudge, Filter, eq, has, plan_each, update
from flows.cycle import rule_flow
from flows.engine import RuleDef
from flows.params import RuleName
from leadops.model import Change, EngagementKind, Record

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


def plan_promote(contacts: Iterable[Record], rules: Rules) -> list[Change]:
    return plan_each(RULE, contacts, lambda record: _decide(record, rules))


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
    properties = {"lifecyclestage": rules.stages.sql, "hs_lead_status": rules.lead_status.new}
    return [update(RULE, record, properties, f"score {score:g} ≥ {threshold:g}")]


DEFINITION = RuleDef(
    name=RULE,
    searches=lambda rules: [search_filters(rules)],
    properties=contact_properties,
    plan=lambda contacts, _engagements, ctx: plan_promote(contacts, ctx.rules),
)
promote_flow = rule_flow(DEFINITION, __doc__.splitlines()[0])
