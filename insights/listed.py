"""The contacts a report lists (stuck leads, SLA breaches), kept short: every one is counted
and handed on as it is found (the CSV gets them all), but only each owner's `keep` longest
stay in memory, for the email, the artifacts and the HTML file.

Example:
    ```python
    from insights.listed import Shortlist

    stuck = Shortlist(keep=2)
    for item in found:  # Listed contacts, in any order
        stuck.add(item)
    print(stuck.total(), stuck.items())  # every one counted; each owner's 2 longest kept
    ```
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

LISTED_KEPT = 1000  # per owner and list: the artifacts show the first 1,000 rows at most


@dataclass(frozen=True, slots=True)
class Listed:
    """A contact the report lists: stuck in `status` since `since`, or an SLA breach (New at
    `since`, first touch at `touched`, None when none yet)."""

    contact_id: str
    name: str
    owner_id: str
    status: str
    since: datetime
    touched: datetime | None
    hours: float


def longest_first(item: Listed) -> tuple[float, str]:
    """The order within an owner's rows: longest first, then by contact id."""
    return (-item.hours, item.contact_id)


class Shortlist:
    """Counts every listed contact per owner; keeps each owner's `keep` first by
    `longest_first` (exactly those: the list is cut back to `keep` whenever it doubles)."""

    def __init__(self, keep: int = LISTED_KEPT) -> None:
        self.keep = keep
        self.counts: Counter[str] = Counter()
        self._kept: dict[str, list[Listed]] = defaultdict(list)

    def add(self, item: Listed) -> None:
        self.counts[item.owner_id] += 1
        kept = self._kept[item.owner_id]
        kept.append(item)
        if len(kept) >= 2 * self.keep:
            self._cut(kept)

    def _cut(self, kept: list[Listed]) -> None:
        kept.sort(key=longest_first)
        del kept[self.keep :]

    def items(self) -> list[Listed]:
        """The kept contacts of every owner (each owner's `keep` longest at most)."""
        for kept in self._kept.values():
            self._cut(kept)
        return [item for kept in self._kept.values() for item in kept]

    def total(self) -> int:
        return sum(self.counts.values())

    def for_owners(self, owner_ids: Collection[str]) -> Shortlist:
        """The same list restricted to some owners (counts and kept contacts)."""
        mine = Shortlist(self.keep)
        for owner in set(owner_ids) & set(self.counts):
            mine.counts[owner] = self.counts[owner]
            mine._kept[owner] = list(self._kept[owner])
        return mine
