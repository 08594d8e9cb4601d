"""The lead report's result: aggregates in, tables (lists of JSON-able rows) out.

`LeadReport.tables()` is what every output shows: the email, the Prefect artifacts, the files
and the checked-in expected JSON of the demo seed. Its stuck and breach tables hold each
owner's longest (`insights.listed`); the CSV, written as they are found, has every one.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar

from config.rules import Rules
from insights.listed import Listed, Shortlist, longest_first
from insights.outcomes import LADDER, OUTCOMES
from insights.stats import hours, median, percentile, rate
from model.records import Owner

ALL_OWNERS = "*"
Row = dict[str, Any]
K = TypeVar("K")


@dataclass
class FirstTouch:
    """One owner's New leads judged against the SLA: touch delays (a compact array of
    hours), and how many were in time."""

    delays: array[float] = field(default_factory=lambda: array("d"))
    leads: int = 0
    within: int = 0

    def add(self, delay: float | None, within: bool) -> None:
        self.leads += 1
        self.within += within
        if delay is not None:
            self.delays.append(delay)


@dataclass(frozen=True)
class ScoreRow:
    band: str
    mqls: int
    sqls: int
    converted: int


@dataclass(frozen=True)
class LeadReport:
    rules: Rules
    since: datetime
    until: datetime
    owners: Mapping[str, Owner]
    contacts: int
    outcomes: Mapping[str, Counter[str]]
    reached: Mapping[str, Counter[int]]
    durations: Mapping[tuple[str, str], Sequence[float]]
    stuck: Shortlist
    first_touch: Mapping[str, FirstTouch]
    breaches: Shortlist
    scores: list[ScoreRow]
    what_if: Mapping[float, Mapping[str, int]]

    def owner_name(self, owner_id: str) -> str:
        return owner_label(self.owners, owner_id)

    def _owner_order(self, owner_ids: Collection[str]) -> list[str]:
        rest = sorted((o for o in owner_ids if o != ALL_OWNERS), key=self.owner_name)
        return ([ALL_OWNERS] if ALL_OWNERS in owner_ids else []) + rest

    def for_owners(self, owner_ids: Collection[str]) -> LeadReport:
        """The report a manager gets: their owners' rows and contacts, beside the whole
        portal's rows ("All owners"); the funnel and score calibration stay portal-wide."""
        keep = {*owner_ids, ALL_OWNERS}
        return replace(
            self,
            durations={k: v for k, v in self.durations.items() if k[0] in keep},
            stuck=self.stuck.for_owners(keep),
            first_touch={k: v for k, v in self.first_touch.items() if k in keep},
            breaches=self.breaches.for_owners(keep),
        )

    def status_order(self) -> list[str]:
        """Lead statuses seen, in ladder order of their roles, then others alphabetically."""
        roles = self.rules.lead_status
        known = [roles.new, roles.attempted, roles.connected]
        known += [self.rules.report.meeting_scheduled_status, roles.open_deal, roles.unqualified]
        seen = {status for _, status in self.durations}
        return [s for s in known if s in seen] + sorted(seen - set(known))

    # ---- tables ------------------------------------------------------------------------

    def tables(self) -> dict[str, list[Row]]:
        return {
            "funnel": self.funnel_rows(),
            "funnel_reached": self.reached_rows(),
            "time_in_status": self.time_in_status_rows(),
            "stuck": self.listed_rows(self.stuck, stuck=True),
            "first_touch": self.first_touch_rows(),
            "sla_breaches": self.listed_rows(self.breaches, stuck=False),
            "score_bands": self.score_rows(),
            "what_if": self.what_if_rows(),
        }

    def funnel_rows(self) -> list[Row]:
        """Per month the SQLs of that month became: how many, and their outcome now."""
        return _by_month(self.outcomes, _outcome_row)

    def reached_rows(self) -> list[Row]:
        """Per month: how many of its SQLs ever reached each ladder step (or a later one)."""
        return _by_month(self.reached, _reached_row)

    def time_in_status_rows(self) -> list[Row]:
        rows = []
        owners = {owner for owner, _ in self.durations}
        for owner in self._owner_order(owners):
            for status in self.status_order():
                values = self.durations.get((owner, status))
                if values:
                    rows.append(
                        {
                            "owner": self.owner_name(owner),
                            "owner_id": owner,
                            "status": status,
                            "spells": len(values),
                            "median_hours": hours(median(values)),
                            "p90_hours": hours(percentile(values, 0.9)),
                        }
                    )
        return rows

    def first_touch_rows(self) -> list[Row]:
        rows = []
        for owner in self._owner_order(self.first_touch):
            judged = self.first_touch[owner]
            rows.append(
                {
                    "owner": self.owner_name(owner),
                    "owner_id": owner,
                    "leads": judged.leads,
                    "touched": len(judged.delays),
                    "within_sla": judged.within,
                    "share_within_sla": rate(judged.within, judged.leads),
                    "median_hours": hours(median(judged.delays)),
                    "p90_hours": hours(percentile(judged.delays, 0.9)),
                    "breaches": judged.leads - judged.within,
                }
            )
        return rows

    def listed_rows(self, listed: Shortlist, *, stuck: bool) -> list[Row]:
        """The kept contacts of a list (each owner's longest), by owner, longest first."""
        items = listed.items()
        order = {owner: n for n, owner in enumerate(self._owner_order({x.owner_id for x in items}))}
        items.sort(key=lambda x: (order[x.owner_id], *longest_first(x)))
        return [listed_row(item, self.owner_name(item.owner_id), stuck=stuck) for item in items]

    def score_rows(self) -> list[Row]:
        return [
            {
                "band": row.band,
                "mqls": row.mqls,
                "sqls": row.sqls,
                "converted": row.converted,
                "conversion_rate": rate(row.converted, row.sqls),
            }
            for row in self.scores
        ]

    def what_if_rows(self) -> list[Row]:
        current = self.rules.promote.threshold
        return [
            {
                "threshold": threshold,
                "current": threshold == current,
                "mqls_promoted_now": counts.get("mqls", 0),
                "sqls_at_or_above": counts.get("sqls", 0),
                "converted": counts.get("converted", 0),
                "conversion_rate": rate(counts.get("converted", 0), counts.get("sqls", 0)),
            }
            for threshold, counts in sorted(self.what_if.items())
        ]

    def as_json(self) -> dict[str, Any]:
        """Everything the report shows, JSON-able (the expected-JSON test compares this)."""
        settings = self.rules.report
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "contacts_read": self.contacts,
            "settings": {
                "stuck_days": settings.stuck_days.model_dump(),
                "first_touch_sla_hours": settings.first_touch_sla_hours,
                "score_property": self.rules.promote.score_property,
                "threshold": self.rules.promote.threshold,
            },
            "tables": self.tables(),
        }


def owner_label(owners: Mapping[str, Owner], owner_id: str) -> str:
    """An owner's name as the report shows it ("All owners", "(no owner)", or the id of an
    owner the portal no longer has)."""
    if owner_id == ALL_OWNERS:
        return "All owners"
    owner = owners.get(owner_id)
    return owner.name if owner else (owner_id or "(no owner)")


def listed_row(item: Listed, owner: str, *, stuck: bool) -> Row:
    """One listed contact as a table row (and a CSV line)."""
    row: Row = {
        "owner": owner,
        "owner_id": item.owner_id,
        "contact_id": item.contact_id,
        "contact": item.name,
        "status": item.status,
    }
    if stuck:
        return row | {"since": item.since.isoformat(), "days": round(item.hours / 24, 1)}
    touched = item.touched.isoformat() if item.touched else ""
    return row | {
        "new_at": item.since.isoformat(),
        "first_touch_at": touched,
        "hours": hours(item.hours),
    }


def _by_month(counts: Mapping[str, Counter[K]], row: Callable[[str, Counter[K]], Row]) -> list[Row]:
    """A row per month, oldest first, then a `total` row (no rows for no months)."""
    total: Counter[K] = Counter()
    rows = []
    for month in sorted(counts):
        rows.append(row(month, counts[month]))
        total.update(counts[month])
    return [*rows, row("total", total)] if rows else []


def _outcome_row(month: str, counts: Counter[str]) -> Row:
    sqls = sum(counts.values())
    row: Row = {"month": month, "sqls": sqls}
    for outcome in OUTCOMES:
        row[outcome] = counts[outcome]
        row[f"{outcome}_rate"] = rate(counts[outcome], sqls)
    return row


def _reached_row(month: str, levels: Counter[int]) -> Row:
    sqls = sum(levels.values())
    row: Row = {"month": month, "sqls": sqls}
    for index, step in enumerate(LADDER):
        at_or_past = sum(n for level, n in levels.items() if level >= index)
        row[step] = at_or_past
        row[f"{step}_rate"] = rate(at_or_past, sqls)
    return row
