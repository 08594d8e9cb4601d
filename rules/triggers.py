"""What may change a rule's decision about a contact: the sources of an incremental cycle.

A rule declares its triggers on its `RuleDef`; an incremental cycle judges only the contacts
they name since the rule's watermark, instead of the rule's whole population:

- `ContactsModified`: contacts matching the rule's searches whose `lastmodifieddate` falls in
  the window (a score, a stage, a lead status written by anyone);
- `EngagementsChanged(kinds)`: engagements of those kinds created or modified in the window
  (`hs_lastmodifieddate`: logging an email, completing a task), through their associations to
  the contacts they belong to; deals are read like engagements (kind "deal": creating one,
  moving it to another stage), `DEALS_CHANGED`;
- `DeadlinePassed(next_deadline)`: contacts whose decision may change by time alone. Each time
  a contact is judged, `next_deadline` says the first instant after `now` at which it might
  (a follow-up falling due, `no_reply_days` elapsing); the run keeps it
  (`runstate.deadlines`) and a later cycle judges the contact again once it has passed.

A rule without triggers keeps its behaviour: an `event_based` rule sees the contacts modified
in the window, the others judge their whole population every cycle. A rule with triggers
must recheck its searches' conditions in its planner: triggered contacts are read by id.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from config.rules import Rules
from model.records import Engagement, EngagementKind, Record
from rules.kit import CannotJudge


class AtInstant(Protocol):
    """What deadlines are judged against (`rules.definition.Situation`, which imports this)."""

    @property
    def now(self) -> datetime: ...


# (contact, its engagements, the Situation) -> the deadline, or None
NextDeadline = Callable[[Record, Sequence[Engagement], Any], datetime | None]


@dataclass(frozen=True)
class ContactsModified:
    """Contacts matching the rule's searches, modified in the window."""


@dataclass(frozen=True)
class EngagementsChanged:
    """Contacts of the engagements of `kinds` created or modified in the window."""

    kinds: tuple[EngagementKind, ...]


@dataclass(frozen=True)
class DeadlinePassed:
    """Contacts whose next deadline (`next_deadline`, kept when last judged) has passed."""

    next_deadline: NextDeadline


Trigger = ContactsModified | EngagementsChanged | DeadlinePassed
CONTACTS_MODIFIED = ContactsModified()
# Deals carry `hs_lastmodifieddate` as engagements do, and reach contacts the same way.
DEALS_CHANGED = EngagementsChanged(("deal",))


def on_changes_and_deadlines(
    kinds: tuple[EngagementKind, ...], next_deadline: NextDeadline
) -> tuple[Trigger, ...]:
    """A time-based rule's triggers: contacts modified, these engagements changed, and its
    deadlines passing."""
    return (CONTACTS_MODIFIED, EngagementsChanged(kinds), DeadlinePassed(next_deadline))


def engagement_kinds(triggers: Iterable[Trigger]) -> tuple[EngagementKind, ...]:
    """Every engagement kind the triggers watch, once each, in order."""
    kinds = (kind for t in triggers if isinstance(t, EngagementsChanged) for kind in t.kinds)
    return tuple(dict.fromkeys(kinds))


def next_deadlines(
    triggers: Iterable[Trigger],
    contacts: Iterable[Record],
    engagements: Mapping[str, Sequence[Engagement]],
    situation: AtInstant,
) -> dict[str, datetime | None]:
    """Each contact's earliest deadline after `situation.now` (None: time alone changes
    nothing). A contact the rule cannot judge has none: it is judged again when it changes."""
    deciders = [t.next_deadline for t in triggers if isinstance(t, DeadlinePassed)]
    found: dict[str, datetime | None] = {}
    for record in contacts:
        moments = []
        for decide in deciders:
            try:
                moments.append(decide(record, engagements.get(record.id, ()), situation))
            except CannotJudge:
                continue
        future = [m for m in moments if m is not None and m > situation.now]
        found[record.id] = min(future, default=None)
    return found


def rule_config_hash(rules: Rules, rule: str, rule_names: Iterable[str]) -> str:
    """A digest of what configures `rule`: its own section and the shared ones (stages, lead
    statuses, ...), not the other rules' sections. A change means the rule's earlier
    judgments may no longer hold, so its next run judges its whole population."""
    others = set(rule_names) - {rule}
    relevant = {k: v for k, v in rules.model_dump(mode="json").items() if k not in others}
    encoded = json.dumps(relevant, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()[:16]
