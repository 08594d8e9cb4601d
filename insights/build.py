"""The lead report, accumulated batch by batch: `ReportBuilder.add(batch, engagements)` keeps
counters and durations (compact arrays of hours, for exact medians and p90s), never the
records, so a 100k-contact report holds aggregates only. Listed contacts (stuck leads, SLA
breaches) go to `on_listed` as they are found (the flow writes them to the CSV); each owner's
longest stay (`insights.listed.Shortlist`). `finish()` gives the `LeadReport`.

Example:
    ```python
    from datetime import UTC, datetime

    from config.rules import Rules
    from insights.build import ReportBuilder

    builder = ReportBuilder(Rules(), since=datetime(2026, 6, 1, tzinfo=UTC),
                            until=datetime(2026, 12, 1, tzinfo=UTC), owners={})
    builder.add(contacts_with_history, engagements_by_contact)
    print(builder.finish().tables["funnel"])
    ```
"""

from __future__ import annotations

import math
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from config.rules import Rules
from insights.history import STATUS, became_sql_at, spells, value_at
from insights.listed import LISTED_KEPT, Listed, Shortlist
from insights.outcomes import CONVERTED, ladder_level, outcome_now
from insights.report import ALL_OWNERS, FirstTouch, LeadReport, ScoreRow
from model.records import Engagement, Owner, Record
from rules.kit import as_utc, became_new_at, touches_since

UNOWNED = ""
STUCK, BREACH = "stuck", "sla_breach"  # the lists `on_listed` hears of
OnListed = Callable[[str, Listed], None]


class ReportBuilder:
    """Accumulates one report over `[since, until)`: SQL cohorts by the month (in `tz`) they
    became SQL, lead-status spells that began in the window, New leads of the window and their
    first touch, and stuck leads and MQL scores as of `until`."""

    def __init__(
        self,
        rules: Rules,
        *,
        since: datetime,
        until: datetime,
        owners: Mapping[str, Owner],
        tz: tzinfo = ZoneInfo("UTC"),
        on_listed: OnListed | None = None,
        keep_listed: int = LISTED_KEPT,
    ) -> None:
        self.rules, self.since, self.until, self.tz = rules, as_utc(since), as_utc(until), tz
        self.owners = owners
        self.settings = rules.report
        self.thresholds = self.settings.thresholds_around(rules.promote.threshold)
        self.outcomes: dict[str, Counter[str]] = defaultdict(Counter)  # month -> outcome
        self.reached: dict[str, Counter[int]] = defaultdict(Counter)  # month -> ladder level
        # (owner, status) -> hours of each finished spell: 8 bytes a spell
        self.durations: dict[tuple[str, str], array[float]] = defaultdict(lambda: array("d"))
        self.on_listed = on_listed
        self.stuck = Shortlist(keep_listed)
        self.first_touch: dict[str, FirstTouch] = defaultdict(FirstTouch)
        self.breaches = Shortlist(keep_listed)
        self.scores: dict[str, Counter[str]] = {"mqls": Counter(), "sqls": Counter()}
        self.band_converted: Counter[str] = Counter()
        self.what_if: dict[float, Counter[str]] = {t: Counter() for t in self.thresholds}
        self.contacts = 0

    def in_window(self, when: datetime | None) -> bool:
        return when is not None and self.since <= when < self.until

    def new_since(self, record: Record) -> datetime | None:
        """When the contact's latest New spell began: from its lead-status history, or, for a
        contact New now without such history (imported), when it became an SQL. None for
        contacts never New (an SQL without a status, a customer imported as such)."""
        new = self.rules.lead_status.new
        if any(spell.status == new for spell in spells(record)) or record.get(STATUS) == new:
            return became_new_at(record, self.rules)
        return None

    def needs_touches(self, record: Record) -> bool:
        """Whether the first-touch SLA needs this contact's engagements (New in the window)."""
        return self.in_window(self.new_since(record))

    def add(self, batch: Sequence[Record], engagements: Mapping[str, Sequence[Engagement]]) -> None:
        """Count a batch of contacts (read with lifecyclestage and hs_lead_status history);
        `engagements` by contact id, for those `needs_touches` picked."""
        for record in batch:
            self.contacts += 1
            owner = record.get("hubspot_owner_id") or UNOWNED
            self._cohort(record)
            self._spells(record, owner)
            self._stuck(record, owner)
            if self.needs_touches(record):
                self._first_touch(record, owner, engagements.get(record.id, ()))

    def add_mqls(self, batch: Sequence[Record]) -> None:
        """Count current MQLs' scores (no history needed)."""
        for record in batch:
            if (record.get("lifecyclestage") or "") != self.rules.stages.mql:
                continue
            score = _number(record.get(self.rules.promote.score_property))
            self.scores["mqls"][self.settings.band_of(score)] += 1
            for threshold in self.thresholds:
                if score is not None and score >= threshold:
                    self.what_if[threshold]["mqls"] += 1

    # ---- one contact -------------------------------------------------------------------

    def _cohort(self, record: Record) -> None:
        became = became_sql_at(record, self.rules.stages.sql)
        if not self.in_window(became):
            return
        assert became is not None
        month = became.astimezone(self.tz).strftime("%Y-%m")
        self.outcomes[month][outcome_now(record, self.rules)] += 1
        level = ladder_level(record, self.rules)
        self.reached[month][level] += 1
        # The score it had when it became an SQL: what a threshold would have judged.
        score = _number(value_at(record, self.rules.promote.score_property, became))
        band = self.settings.band_of(score)
        converted = level >= CONVERTED
        self.scores["sqls"][band] += 1
        self.band_converted[band] += converted
        for threshold in self.thresholds:
            if score is not None and score >= threshold:
                self.what_if[threshold]["sqls"] += 1
                self.what_if[threshold]["converted"] += converted

    def _spells(self, record: Record, owner: str) -> None:
        for spell in spells(record):
            if spell.end is not None and self.in_window(spell.start) and spell.end <= self.until:
                hours = spell.hours(self.until)
                self.durations[(owner, spell.status)].append(hours)
                self.durations[(ALL_OWNERS, spell.status)].append(hours)

    def _stuck(self, record: Record, owner: str) -> None:
        status = record.get(STATUS) or ""
        roles = self.rules.lead_status
        limits = {roles.new: self.settings.stuck_days.new}
        limits[roles.attempted] = self.settings.stuck_days.attempted
        if status not in limits:
            return
        current = [s for s in spells(record) if s.end is None and s.status == status]
        since = current[-1].start if current else None
        if since is None and status == roles.new:
            since = became_new_at(record, self.rules)
        if since is None or since > self.until:
            return
        days = (self.until - since).total_seconds() / 86400
        if days > limits[status]:
            self._list(STUCK, Listed(record.id, record.name, owner, status, since, None, days * 24))

    def _first_touch(self, record: Record, owner: str, engagements: Sequence[Engagement]) -> None:
        new_at = self.new_since(record)
        assert new_at is not None
        touches = [t for t in touches_since(engagements, new_at) if t.timestamp <= self.until]
        first = touches[0].timestamp if touches else None
        hours = ((first or self.until) - new_at).total_seconds() / 3600
        sla = self.settings.first_touch_sla_hours
        if first is None and hours <= sla:
            return  # still within its SLA: neither met nor breached yet
        for key in (owner, ALL_OWNERS):
            self.first_touch[key].add(hours if first else None, hours <= sla and first is not None)
        if first is None or hours > sla:
            listed = Listed(
                record.id, record.name, owner, self.rules.lead_status.new, new_at, first, hours
            )
            self._list(BREACH, listed)

    def _list(self, kind: str, item: Listed) -> None:
        (self.stuck if kind == STUCK else self.breaches).add(item)
        if self.on_listed is not None:
            self.on_listed(kind, item)

    # ---- the result --------------------------------------------------------------------

    def finish(self) -> LeadReport:
        bands = [*self.settings.band_labels(), "no score"]
        score_rows = [
            ScoreRow(
                band,
                self.scores["mqls"][band],
                self.scores["sqls"][band],
                self.band_converted[band],
            )
            for band in bands
        ]
        return LeadReport(
            rules=self.rules,
            since=self.since,
            until=self.until,
            owners=self.owners,
            contacts=self.contacts,
            outcomes=dict(self.outcomes),
            reached=dict(self.reached),
            durations=dict(self.durations),
            stuck=self.stuck,
            first_touch=dict(self.first_touch),
            breaches=self.breaches,
            scores=score_rows,
            what_if={t: dict(c) for t, c in self.what_if.items()},
        )


def _number(raw: str | None) -> float | None:
    """A score as a finite number; None when unset or unreadable (`n/a`, `nan`)."""
    try:
        score = float(raw) if raw is not None else None
    except ValueError:
        return None
    return score if score is not None and math.isfinite(score) else None
