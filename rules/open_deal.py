"""Open Deal: a contact associated with an open deal moves up to Open Deal.

A deal is open when its stage (`dealstage`) is not closed (`metadata.isClosed`) in its
pipeline (`GET /crm/v3/pipelines/deals`, read once per run). Only contacts below Open Deal on
the ladder move (New, Attempted, Connected, Meeting Scheduled): closed deals alone, an
Unqualified or Bad Timing status, and statuses the ladder does not know are left unchanged.
A deal whose stage the pipelines do not list cannot be judged (a skip naming it) unless
another deal is open. With `open_deal.lifecycle_to_opportunity`, a contact before
opportunity also moves to that stage (for portals whose deal-to-contact stage sync is off).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from config.rules import Rules
from model.changes import Change, RuleName
from model.records import STAGE_ORDER, DealStage, Engagement, EngagementKind, Record
from rules import kit as common
from rules import ladder
from rules.definition import RuleDef, Situation, engagement_planner
from rules.kit import (
    CannotJudge,
    Filter,
    status_groups,
    update,
)
from rules.triggers import CONTACTS_MODIFIED, DEALS_CHANGED

RULE: RuleName = "open_deal"
ENGAGEMENT_KINDS: tuple[EngagementKind, ...] = ("deal",)
PROPERTIES_WITH_HISTORY: tuple[str, ...] = ()

DealStages = Mapping[tuple[str, str], DealStage]


def contact_properties(rules: Rules) -> list[str]:
    return common.contact_properties()


def below_open_deal(rules: Rules) -> tuple[str, ...]:
    """The statuses open_deal moves from: the rungs below Open Deal (unmapped ones left out)."""
    roles = rules.lead_status
    statuses = (roles.new, roles.attempted, roles.connected, roles.meeting_scheduled)
    return tuple(status for status in statuses if status)


def search_filter_groups(rules: Rules) -> list[list[Filter]]:
    """OR-ed groups (one search each): the rungs below Open Deal."""
    return status_groups(*below_open_deal(rules))


def _decide(
    record: Record, engagements: Sequence[Engagement], situation: Situation
) -> list[Change]:
    rules, stages = situation.rules, situation.deal_stages
    target = rules.lead_status.open_deal
    deals = [e for e in engagements if e.kind == "deal"]
    # A contact its deal names is read by id: without a status it is no candidate either.
    if record.get("hs_lead_status") not in below_open_deal(rules):
        return []
    if not deals or not ladder.can_move(record, target, rules):
        return []
    judged = [
        (deal, stages.get((deal.get("pipeline") or "", deal.get("dealstage") or "")))
        for deal in deals
    ]
    open_deals = [(deal, stage) for deal, stage in judged if stage is not None and not stage.closed]
    if not open_deals:
        unknown = [deal for deal, stage in judged if stage is None]
        if unknown:
            deal = unknown[0]
            raise CannotJudge(
                f"deal {deal.id} is in stage {deal.get('dealstage')!r} of pipeline "
                f"{deal.get('pipeline')!r}, which the portal's deal pipelines do not list"
            )
        return []
    properties = {"hs_lead_status": target}
    if rules.open_deal.lifecycle_to_opportunity and _before_opportunity(record, rules):
        properties["lifecyclestage"] = rules.stages.opportunity
    return [update(RULE, record, properties, _why(*open_deals[0]))]


def _before_opportunity(record: Record, rules: Rules) -> bool:
    """A stage HubSpot orders before opportunity (no stage or a custom one: left alone)."""
    stage, target = record.get("lifecyclestage"), rules.stages.opportunity
    if stage not in STAGE_ORDER or target not in STAGE_ORDER:
        return False
    return STAGE_ORDER.index(stage) < STAGE_ORDER.index(target)


def _why(deal: Engagement, stage: DealStage) -> str:
    name = deal.get("dealname") or f"deal {deal.id}"
    pipeline = f" ({stage.pipeline_label})" if stage.pipeline_label else ""
    return f"open deal '{name}' in stage '{stage.label}'{pipeline}"


plan_open_deal = engagement_planner(RULE, _decide)

DEFINITION = RuleDef(
    name=RULE,
    description=__doc__.splitlines()[0],
    searches=search_filter_groups,
    properties=contact_properties,
    plan=plan_open_deal,
    event_based=False,
    engagement_kinds=ENGAGEMENT_KINDS,
    # Creating or moving a deal need not touch the contact: the deal feed names its contacts.
    # An association added to an older deal moves the contact's `num_associated_deals` (when
    # HubSpot's roll-up bumps `lastmodifieddate`), else the reconcile finds it.
    triggers=(CONTACTS_MODIFIED, DEALS_CHANGED),
)
