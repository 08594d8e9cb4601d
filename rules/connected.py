"""Connected: a New or Attempted contact who replied or picked up moves to Connected.

- a reply: an incoming email (`hs_email_direction` INCOMING_EMAIL) after an outbound touch
  logged since the contact became New (`connected.on_reply`);
- a connected call: a call in either direction since New whose outcome is one of
  `connected.call_dispositions` (`connected.on_connected_call`).

A reply with no outbound touch before it, or anything before New, does not count. Contacts
higher up the ladder (`rules.ladder`) are never moved back to Connected.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from config.rules import Rules
from model.changes import Change, RuleName
from model.records import Engagement, EngagementKind, Record
from rules import kit as common
from rules import ladder
from rules.definition import RuleDef, Situation, engagement_planner
from rules.kit import (
    SQL_DATE,
    Filter,
    fmt,
    is_connected_call,
    is_reply,
    new_time_or_skip,
    status_groups,
    touches_since,
    update,
)
from rules.triggers import CONTACTS_MODIFIED, EngagementsChanged

RULE: RuleName = "connected"
ENGAGEMENT_KINDS: tuple[EngagementKind, ...] = ("email", "call")
PROPERTIES_WITH_HISTORY: tuple[str, ...] = common.LEAD_STATUS_HISTORY


def contact_properties(rules: Rules) -> list[str]:
    return common.contact_properties(SQL_DATE)


def search_filter_groups(rules: Rules) -> list[list[Filter]]:
    """Two OR-ed groups (one search each): lead status New, lead status Attempted."""
    return status_groups(rules.lead_status.new, rules.lead_status.attempted)


def _decide(
    record: Record, engagements: Sequence[Engagement], situation: Situation
) -> list[Change]:
    rules = situation.rules
    status, target = record.get("hs_lead_status"), rules.lead_status.connected
    if status not in (rules.lead_status.new, rules.lead_status.attempted):
        return []
    if not ladder.can_move(record, target, rules):
        return []
    if not any(is_reply(e) or is_connected_call(e, rules) for e in engagements):
        return []  # nothing to judge: no need for the New date
    reason = connection(engagements, new_time_or_skip(record, rules), rules)
    if reason is None:
        return []
    return [update(RULE, record, {"hs_lead_status": target}, reason)]


def connection(engagements: Sequence[Engagement], new_at: datetime, rules: Rules) -> str | None:
    """Why the contact counts as connected since `new_at` (the earliest sign), else None."""
    config, signs = rules.connected, []
    if config.on_connected_call:
        signs += [
            (
                e.timestamp,
                " ".join(["connected", (e.get("hs_call_direction") or "").lower(), "call"]),
            )
            for e in engagements
            if is_connected_call(e, rules) and e.timestamp is not None and e.timestamp > new_at
        ]
    touches = touches_since(engagements, new_at)
    if config.on_reply and touches:
        first_touch = touches[0].timestamp
        assert first_touch is not None
        signs += [
            (e.timestamp, f"reply after an outbound {touches[0].kind} on {fmt(first_touch)}")
            for e in engagements
            if is_reply(e) and e.timestamp is not None and e.timestamp > first_touch
        ]
    if not signs:
        return None
    when, what = min(signs, key=lambda sign: sign[0])
    return f"{' '.join(what.split())} on {fmt(when)}"


plan_connected = engagement_planner(RULE, _decide)

DEFINITION = RuleDef(
    name=RULE,
    description=__doc__.splitlines()[0],
    searches=search_filter_groups,
    properties=contact_properties,
    plan=plan_connected,
    event_based=False,
    history=PROPERTIES_WITH_HISTORY,
    engagement_kinds=ENGAGEMENT_KINDS,
    # Logging an email or call need not touch the contact (roll-ups are asynchronous): the
    # engagement feed names its contacts. Time alone changes nothing.
    triggers=(CONTACTS_MODIFIED, EngagementsChanged(ENGAGEMENT_KINDS)),
)
