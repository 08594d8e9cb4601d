"""Attempted: a New contact with an outbound email or call logged after it became New moves
to Attempted to contact.

Only outbound touches count (see `rules.kit.is_outbound_touch`): replies, forwards,
inbound calls, bounced/failed/scheduled emails and anything before New do not. A reply or a
connected call is the `connected` rule's, which runs first (the cycle climbs the ladder from
the top: a contact it moved up is no longer New here).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from config.rules import Rules
from model.changes import Change, RuleName
from model.records import Engagement, EngagementKind, Record
from rules import kit as common
from rules.definition import RuleDef, Situation
from rules.kit import (
    SQL_DATE,
    Engagements,
    Filter,
    describe_touch,
    eq,
    is_outbound_touch,
    new_time_or_skip,
    plan_each,
    touches_since,
    update,
)
from rules.triggers import CONTACTS_MODIFIED, EngagementsChanged

RULE: RuleName = "attempted"
ENGAGEMENT_KINDS: tuple[EngagementKind, ...] = ("email", "call")
PROPERTIES_WITH_HISTORY: tuple[str, ...] = common.LEAD_STATUS_HISTORY


def contact_properties(rules: Rules) -> list[str]:
    return common.contact_properties(SQL_DATE)


def search_filters(rules: Rules) -> list[Filter]:
    return [eq("hs_lead_status", rules.lead_status.new)]


def plan_attempted(
    contacts: Iterable[Record], engagements: Engagements, situation: Situation
) -> list[Change]:
    rules = situation.rules
    return plan_each(
        RULE, contacts, lambda record: _decide(record, engagements.get(record.id, ()), rules)
    )


def _decide(record: Record, engagements: Sequence[Engagement], rules: Rules) -> list[Change]:
    if record.get("hs_lead_status") != rules.lead_status.new:
        return []
    if not any(is_outbound_touch(e) for e in engagements):
        return []
    touches = touches_since(engagements, new_time_or_skip(record, rules))
    if not touches:
        return []
    properties = {"hs_lead_status": rules.lead_status.attempted}
    return [update(RULE, record, properties, describe_touch(touches[0]))]


DEFINITION = RuleDef(
    name=RULE,
    description=__doc__.splitlines()[0],
    searches=lambda rules: [search_filters(rules)],
    properties=contact_properties,
    plan=plan_attempted,
    # Logging an email or call need not touch the contact's lastmodifieddate (roll-ups are
    # asynchronous), so the emails and calls logged in the window name candidates too.
    event_based=False,
    history=PROPERTIES_WITH_HISTORY,
    engagement_kinds=ENGAGEMENT_KINDS,
    triggers=(CONTACTS_MODIFIED, EngagementsChanged(ENGAGEMENT_KINDS)),
)
