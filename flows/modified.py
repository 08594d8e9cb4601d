"""One search of the contacts modified in a window, shared by every rule that watches them.

An incremental rule used to send one windowed search per search group (the demo's rules: 22)
each cycle that any contact changed, and each paged through the contacts of its population
written since: after a busy cycle, the same written contacts were paged once per group they
fall in. Now the cycle reads every contact modified in the window once, with the properties
all those rules need, and each rule takes the contacts of its groups in memory.

Whether that is cheaper depends on who was modified: contacts outside every rule's
population (a bulk edit of customers) cost the shared search pages the groups' own searches
would not. So the shared search stops as soon as it has spent as many pages as the groups'
own searches would need at the least (`searches_needed`: one call per group, one per 200
contacts it matches among those read so far); then each rule searches on its own, as before.
Used, it never costs more than the groups' searches; given up, at most twice.

Matching in memory must find every contact HubSpot's search would (`may_match`: a superset;
a filter it cannot judge holds). A contact matched too widely only costs a read: planners
recheck their conditions. Contacts an earlier rule of the same run wrote are left out of the
shared pages (their `lastmodifieddate` left the window, so a rule's own search would not
return them either): the rules that should see them read them by id, fresh.

Example:
    ```python
    from flows.modified import may_match

    group = [{"propertyName": "hs_lead_status", "operator": "EQ", "value": "NEW"}]
    print(may_match({"hs_lead_status": "NEW"}, group))  # True
    ```
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from gateway.client import Filter, HubSpotGateway
from model.changes import ChangeResult, Outcome
from model.records import Record
from tasks.changes import modified_between

PAGE = 200  # contacts per search page
MAX_PAGES = 100  # held in memory at most (20,000 contacts); beyond, each rule searches
# HubSpot's search returns these whatever was asked for
ALWAYS_RETURNED = ("hs_object_id", "createdate", "lastmodifieddate")


def _holds(value: str | None, condition: Filter) -> bool:
    """Whether HubSpot could match `value` with `condition`: True unless it surely cannot."""
    operator = condition.get("operator")
    if operator == "HAS_PROPERTY":
        return value is not None
    if operator == "NOT_HAS_PROPERTY":
        return not value
    if operator == "EQ":
        return value is not None and _may_equal(value, str(condition.get("value", "")))
    return True  # an operator judged only by HubSpot: keep the contact


def _may_equal(value: str, wanted: str) -> bool:
    """Strings compare case-insensitively, numbers as numbers, a multiple-checkbox value
    (`a;b`) by any of its options: whichever HubSpot applies, a match is kept."""
    if value.casefold() == wanted.casefold():
        return True
    if any(part.strip().casefold() == wanted.casefold() for part in value.split(";")):
        return True
    try:
        return math.isclose(float(value), float(wanted))
    except ValueError:
        return False


def may_match(properties: Mapping[str, str | None], group: Sequence[Filter]) -> bool:
    """Whether a contact with these properties may match the AND `group` (pure)."""
    return all(_holds(properties.get(f["propertyName"]), f) for f in group)


def searches_needed(matched: Sequence[int]) -> int:
    """The calls searching each group on its own needs at the least, given how many contacts
    each group matches: one per group, one per page of 200 matches (pure)."""
    return sum(max(1, math.ceil(count / PAGE)) for count in matched)


@dataclass
class ModifiedContacts:
    """The contacts modified in one window, as the shared search read them."""

    pages: list[list[Record]] = field(default_factory=list)
    _by_id: dict[str, Mapping[str, str | None]] | None = field(default=None, repr=False)

    def __bool__(self) -> bool:
        return any(self.pages)

    def surely_outside(self, ids: Iterable[str], groups: Sequence[Sequence[Filter]]) -> set[str]:
        """Of `ids`, those read here that cannot match any of `groups`: a full cycle's
        search of the groups would not find them, so judging them cannot change anything.
        The caller leaves out the contacts this run wrote (their values here are old)."""
        if self._by_id is None:
            self._by_id = {r.id: r.properties for page in self.pages for r in page}
        known = self._by_id
        return {i for i in ids if i in known and not any(may_match(known[i], g) for g in groups)}

    def matching(
        self, groups: Sequence[Sequence[Filter]], names: Sequence[str], leave_out: set[str]
    ) -> Iterator[list[Record]]:
        """Page by page, the contacts that may match any of `groups`, with the properties
        `names` (as the rule's own search would return them), but those in `leave_out`."""
        keep = set(names) | set(ALWAYS_RETURNED)
        for page in self.pages:
            yield [
                Record(r.id, {k: v for k, v in r.properties.items() if k in keep})
                for r in page
                if r.id not in leave_out and any(may_match(r.properties, g) for g in groups)
            ]


def written_by(results: Iterable[ChangeResult]) -> set[str]:
    """Contacts these results wrote: what the shared read holds of them may be older than
    HubSpot's, and their `lastmodifieddate` left the window."""
    return {r.change.contact_id for r in results if r.outcome is Outcome.APPLIED}


def read_modified(
    gateway: HubSpotGateway,
    since: datetime,
    until: datetime,
    properties: Iterable[str],
    groups: Sequence[Sequence[Filter]],
) -> ModifiedContacts | None:
    """Every contact modified in `[since, until)`, or None when reading them all would cost
    more than searching `groups` on their own (module docstring), or when the `properties`
    do not fit one search body (HubSpot's 3,000 characters)."""
    window = modified_between("lastmodifieddate", since, until)
    matched = [0] * len(groups)
    found = ModifiedContacts()
    try:
        pages = gateway.search("contacts", window, sorted(set(properties)), page_size=PAGE)
    except ValueError:  # all the properties asked for do not fit one search body
        return None
    for page in pages:
        found.pages.append(page)
        for index, group in enumerate(groups):
            matched[index] += sum(1 for r in page if may_match(r.properties, group))
        if len(page) == PAGE and (
            len(found.pages) >= searches_needed(matched) or len(found.pages) >= MAX_PAGES
        ):
            return None  # stop before the next page: the groups search on their own
    return found
