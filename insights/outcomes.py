"""What became of an SQL: its outcome now, and how far up the sales ladder it ever got.

Status values come from the config (`lead_status` roles and `report.meeting_scheduled_status`);
a value the portal lacks simply never matches.
"""

from __future__ import annotations

from config.rules import Rules
from insights.history import STAGE, STATUS, stages_ever, statuses_ever
from model.records import Record

OPPORTUNITY = "opportunity"
CUSTOMER_STAGES = frozenset({"customer", "evangelist"})
EARLY_STAGES = ("subscriber",)  # before MQL in every portal; lead and MQL come from the config

# The outcome of each SQL now, in display order (the rows of the funnel sum to the SQLs).
OUTCOMES = (
    "new",
    "attempted",
    "connected",
    "meeting_scheduled",
    "open_deal",
    "customer",
    "recycled",
    "unqualified",
    "other",
)
# The ladder an SQL climbs; "reached" counts every contact at or past a step.
LADDER = ("attempted", "connected", "meeting_scheduled", "open_deal", "customer")
CONVERTED = LADDER.index("open_deal")


def _status_roles(rules: Rules) -> dict[str, str]:
    roles = rules.lead_status
    return {
        roles.new: "new",
        roles.attempted: "attempted",
        roles.connected: "connected",
        rules.report.meeting_scheduled_status: "meeting_scheduled",
        roles.open_deal: "open_deal",
        roles.unqualified: "unqualified",
    }


def outcome_now(record: Record, rules: Rules) -> str:
    """One of `OUTCOMES`. Stages win over statuses: a customer is a customer whatever its lead
    status; an SQL moved back before SQL (lead, MQL, or no stage) is recycled."""
    stage = record.get(STAGE) or ""
    if stage in CUSTOMER_STAGES:
        return "customer"
    status_role = _status_roles(rules).get(record.get(STATUS) or "")
    if stage == OPPORTUNITY or status_role == "open_deal":
        return "open_deal"
    if stage in ("", rules.stages.lead, rules.stages.mql, *EARLY_STAGES):
        return "recycled"
    return status_role or "other"


def ladder_level(record: Record, rules: Rules) -> int:
    """The highest `LADDER` step the contact ever reached (index), -1 for none, from its
    stage and lead-status histories and current values."""
    stages, roles = stages_ever(record), _status_roles(rules)
    if stages & CUSTOMER_STAGES:
        return LADDER.index("customer")
    reached = {roles[s] for s in statuses_ever(record) if s in roles}
    if OPPORTUNITY in stages:
        reached.add("open_deal")
    return max((LADDER.index(step) for step in reached if step in LADDER), default=-1)
