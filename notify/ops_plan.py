"""What ops are told: the run summary (counts, who got a digest, failures and skips) and the
failure alert of a flow run. Pure.

Example:
    ```python
    from notify.ops_plan import plan_ops_summary

    summary = plan_ops_summary(results, digests, rules, portal_id="12345", run_name="amber-fox")
    print(summary and summary.counts)
    ```
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from config.rules import Rules
from config.settings import DEFAULT_UI_DOMAIN
from model.changes import ChangeResult, Outcome
from notify.digest import Digest, DigestTally
from notify.plan import SLA_NOTICE
from notify.text import one_line, record_url

SUMMARY_LIMIT = 50  # failures / skips listed in the ops summary


@dataclass(frozen=True)
class SummaryLine:
    """A failed or skipped change in the ops summary."""

    contact_id: str
    name: str
    url: str
    rule: str
    text: str


@dataclass(frozen=True)
class RuleCount:
    rule: str
    applied: int
    failed: int
    skipped: int


@dataclass(frozen=True)
class OpsSummary:
    """The short run summary ops receive: counts, who got a digest, failures and skips."""

    run_name: str
    counts: tuple[RuleCount, ...]
    digests: tuple[tuple[str, str, int], ...]  # (name, address, lines)
    failures: tuple[SummaryLine, ...]
    skipped: tuple[SummaryLine, ...]
    more_failures: int = 0
    more_skipped: int = 0
    routed_to_ops: int = 0


@dataclass(frozen=True)
class FailureAlert:
    """What ops are told when a flow run fails or crashes (the first of a streak), or, with
    state "Recovered", when it works again after `failures` failed runs."""

    flow_name: str
    run_name: str
    state: str
    error: str
    url: str | None = None
    portal: str = ""
    deployment: str = ""
    failures: int = 1

    @property
    def recovered(self) -> bool:
        return self.state == "Recovered"


def routed_to_ops(digests: Iterable[Digest | DigestTally]) -> int:
    """How many digest lines went to ops because their owner could not be reached."""
    return sum(d.routed for d in digests)


def _summary_line(result: ChangeResult, portal_id: str, ui_domain: str) -> SummaryLine:
    change = result.change
    return SummaryLine(
        contact_id=change.contact_id,
        name=one_line(change.contact_name) or f"contact {change.contact_id}",
        url=record_url(portal_id, change.contact_id, ui_domain),
        rule=change.rule,
        text=one_line(result.error if result.outcome is Outcome.FAILED else change.reason, 500),
    )


def plan_ops_summary(
    results: Iterable[ChangeResult],
    digests: Sequence[Digest | DigestTally],
    rules: Rules,
    *,
    portal_id: str,
    run_name: str,
    ui_domain: str = DEFAULT_UI_DOMAIN,
) -> OpsSummary | None:
    """The ops run summary, or None when it is switched off or the run changed nothing.

    `results` are read once (a big run's come from disk); the failures and skips listed are
    the first `SUMMARY_LIMIT` of each, the rest counted."""
    if not rules.notify.ops_summary:
        return None
    counts: dict[str, Counter[Outcome]] = {}
    listed: dict[Outcome, list[SummaryLine]] = {Outcome.FAILED: [], Outcome.SKIPPED: []}
    seen: Counter[Outcome] = Counter()
    for result in results:
        seen[result.outcome] += 1
        if result.change.rule != SLA_NOTICE:  # a breach notice is told, not applied
            counts.setdefault(result.change.rule, Counter())[result.outcome] += 1
        lines = listed.get(result.outcome)
        if lines is not None and len(lines) < SUMMARY_LIMIT:
            lines.append(_summary_line(result, portal_id, ui_domain))
    if not seen:
        return None
    return OpsSummary(
        run_name=run_name,
        counts=tuple(
            RuleCount(rule, c[Outcome.APPLIED], c[Outcome.FAILED], c[Outcome.SKIPPED])
            for rule, c in counts.items()
        ),
        digests=tuple((d.owner_name, d.recipient, d.total) for d in digests),
        failures=tuple(listed[Outcome.FAILED]),
        skipped=tuple(listed[Outcome.SKIPPED]),
        more_failures=max(0, seen[Outcome.FAILED] - SUMMARY_LIMIT),
        more_skipped=max(0, seen[Outcome.SKIPPED] - SUMMARY_LIMIT),
        routed_to_ops=routed_to_ops(digests),
    )
