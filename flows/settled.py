"""Contacts a rule already judged as they are: skipped by the next incremental cycle.

A cycle's own writes (a lead status, a stage, a task whose roll-ups HubSpot writes on the
contact) move the contacts' `lastmodifieddate`, so the next cycles' "contacts modified"
searches find them again inside the watermark's overlap. Each rule with triggers keeps, for
every contact it judges, a fingerprint of the properties it decides with, as they are after
its own writes (`runstate.judged`). A later incremental cycle skips a contact its search
found when the fingerprint of what the search returned is the same: nothing the rule reads
on the contact changed since it judged it.

It is only an optimisation, and it never hides a change the rule could react to:

- a contact named by another trigger (an engagement changed, a deadline passed, an earlier
  rule of the same run changed it) is judged whatever its fingerprint;
- a write by a later rule, by a person, or by HubSpot (a roll-up) to a property the rule
  reads changes the fingerprint; a rule that ran before the writer judged the contact before
  the write, so its fingerprint differs and it judges the contact again;
- changes the rule does not read (a company name) cannot change its decision; time is the
  deadlines' trigger, engagements theirs, a changed rules file judges the whole population;
- a failed change forgets the contact's fingerprint; the reconcile judges everything.

HubSpot leaves open whether a list add or a task's roll-ups move the contact's
`lastmodifieddate`, and when: that only decides whether the contact is found again, and then
it is compared by values. Its OpenAPI specs (CRM Tasks v3, batch create answers
`BatchResponseSimplePublicObject`) promise each created task's `updatedAt`, not that its
`properties` carry `hs_lastmodifieddate`: a task created without it is judged next time.

What it cannot see: a property set to another value and back between two judgments leaves
the same fingerprint with a newer history entry (rules reading history date decisions from
it). The nightly reconcile catches that case.

Example:
    ```python
    from flows.settled import fingerprint

    print(fingerprint({"hs_lead_status": "NEW"}, ["hs_lead_status"]))  # 16 hex digits
    ```
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from model.changes import ChangeResult, Outcome
from model.records import Engagement, Record, parse_time
from rules.definition import RuleDef
from runstate.judged import JudgedStore, created_task_key, engagement_key
from runstate.watermark import DEFAULT_OVERLAP
from tasks.changes import ChangedEngagement

# Moved by every write, HubSpot's own included: never part of what a rule decides with.
VOLATILE = frozenset({"lastmodifieddate", "hs_lastmodifieddate", "hs_object_id", "createdate"})


def fingerprint(properties: Mapping[str, str | None], names: Iterable[str]) -> str:
    """A digest of the named properties' values (unset and empty are the same)."""
    values = {name: properties.get(name) or "" for name in sorted(set(names) - VOLATILE)}
    encoded = json.dumps(values, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()[:16]


def judged_prints(
    records: Iterable[Record], results: Iterable[ChangeResult], names: Sequence[str]
) -> dict[str, str | None]:
    """Each judged contact's fingerprint as the rule's applied writes left it; None for a
    contact with a failed change (it is judged again)."""
    written: dict[str, dict[str, str]] = {}
    failed: set[str] = set()
    for result in results:
        contact = result.change.contact_id
        if result.outcome is Outcome.FAILED:
            failed.add(contact)
        elif result.outcome is Outcome.APPLIED:
            written.setdefault(contact, {}).update(result.change.properties)
    return {
        record.id: None
        if record.id in failed
        else fingerprint({**record.properties, **written.get(record.id, {})}, names)
        for record in records
    }


def unchanged(
    page: Sequence[Record],
    kept: Mapping[str, str],
    names: Sequence[str],
    judge_anyway: set[str],
) -> list[str]:
    """The ids of the page's contacts whose fingerprint is the one kept, and that no other
    trigger names (pure: the skip decision)."""
    return [
        record.id
        for record in page
        if record.id not in judge_anyway
        and kept.get(record.id) == fingerprint(record.properties, names)
    ]


@dataclass
class SettledFilter:
    """Drops, from the pages of a rule's window (its searches or the shared read of the
    modified contacts), the contacts it judged as they are."""

    store: JudgedStore
    portal: str
    rule: RuleDef
    names: Sequence[str]
    judge_anyway: set[str]
    skipped: int = 0

    def __call__(self, page: Sequence[Record]) -> list[Record]:
        kept = self.store.seen(self.portal, self.rule.name, (r.id for r in page))
        drop = set(unchanged(page, kept, self.names, self.judge_anyway)) if kept else set()
        self.skipped += len(drop)
        return [record for record in page if record.id not in drop]

    def describe(self) -> str:
        return (
            f"{self.rule.name}: {self.skipped:,} contact(s) found modified but unchanged "
            "for it since it judged them (not read again)"
        )


def settled_filter(
    rule: RuleDef,
    store: JudgedStore,
    portal: str,
    names: Sequence[str],
    since: datetime | None,
    judge_anyway: Iterable[str],
) -> SettledFilter | None:
    """The skip for an incremental window of a rule with triggers; None for a full judgment
    (it sees all) or a rule without triggers (judging costs it no reads)."""
    if since is None or not rule.triggers:
        return None
    return SettledFilter(store, portal, rule, names, set(judge_anyway))


def engagements_seen(
    engagements: Mapping[str, Sequence[Engagement]],
    created_tasks: Mapping[str, str],
    recent: datetime,
) -> dict[str, str | None]:
    """What a rule saw of the engagements it read for each contact (those modified since
    `recent`: older ones are in no later window) and of the tasks it created (their
    `hs_lastmodifieddate` as HubSpot answered the creation)."""
    seen: dict[str, str | None] = {}
    for contact, found in engagements.items():
        for engagement in found:
            modified = engagement.properties.get("hs_lastmodifieddate")
            when = parse_time(modified)
            if modified and when is not None and when >= recent:
                seen[engagement_key(engagement.kind, engagement.id, contact)] = modified
    seen |= {created_task_key(task): stamp for task, stamp in created_tasks.items()}
    return seen


def _seen_as_is(
    engagement: ChangedEngagement, kind: str, contact: str, seen: Mapping[str, str]
) -> bool:
    if engagement.modified is None:
        return False
    if seen.get(engagement_key(kind, engagement.id, contact)) == engagement.modified:
        return True
    # a task the rule created, still as created and with its one contact
    created = seen.get(created_task_key(engagement.id)) if kind == "task" else None
    return created == engagement.modified and len(engagement.contacts) == 1


def unseen_contacts(
    changed: Sequence[ChangedEngagement], kind: str, seen: Mapping[str, str]
) -> list[str]:
    """The contacts of the changed engagements the rule has not seen, for that contact, as
    they are (pure: an engagement without a modification date is never taken as seen)."""
    return [
        contact
        for engagement in changed
        for contact in engagement.contacts
        if not _seen_as_is(engagement, kind, contact, seen)
    ]


def keep_judgments(
    store: JudgedStore,
    portal: str,
    rule: RuleDef,
    names: Sequence[str],
    judged: tuple[Sequence[Record], Mapping[str, Sequence[Engagement]]],
    results: Sequence[ChangeResult],
    created_tasks: Mapping[str, str],
    now: datetime,
) -> None:
    """Keep what a rule with triggers saw of one batch it judged (`judged`: the contacts
    and their engagements as read): the contacts' fingerprints and the recent engagements."""
    if not rule.triggers:
        return
    records, engagements = judged
    seen = judged_prints(records, results, names)
    seen |= engagements_seen(engagements, created_tasks, now - DEFAULT_OVERLAP)
    store.keep(portal, rule.name, seen, now)
