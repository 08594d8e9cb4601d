"""The lead-status ladder: New < Attempted < Connected < Meeting Scheduled < Open Deal.

A rule only ever moves a contact *up* it. Outcome statuses people set (Unqualified, Bad
Timing) and Open Deal are left alone by every rule but the one that owns them: recycle
resets Unqualified (and exhausted Attempted) contacts, bad_timing only reminds, open_deal
sets Open Deal. A status the ladder does not know (a portal's own, e.g. IN_PROGRESS) is
left alone too. Pure.
"""

from __future__ import annotations

from config.rules import Rules
from model.records import Record

STATUS = "hs_lead_status"


def rungs(rules: Rules) -> tuple[str, ...]:
    """The portal's values of the ladder's rungs, lowest first (an unmapped rung left out)."""
    roles = rules.lead_status
    values = (roles.new, roles.attempted, roles.connected, roles.meeting_scheduled, roles.open_deal)
    return tuple(value for value in values if value)


def rung(status: str | None, rules: Rules) -> int:
    """The status's height on the ladder: -1 for no status, -2 for a status not on it."""
    if not status:
        return -1
    order = rungs(rules)
    return order.index(status) if status in order else -2


def can_move(record: Record, target: str, rules: Rules) -> bool:
    """True when setting lead status `target` moves the contact strictly up the ladder:
    from no status or a lower rung, never from an outcome or a status the ladder lacks."""
    here, there = rung(record.get(STATUS), rules), rung(target, rules)
    return here != -2 and there > here
