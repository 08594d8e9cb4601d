"""What runs cost in HubSpot calls a day: a run's projected daily share at its schedule, and
the check that the deployments' schedules stay inside leadops' share of the daily budget.

HubSpot's daily budget is shared by every app on the portal (HUBSPOT.md: 250,000 on
Free/Starter, 625,000–650,000 on Professional, 1,000,000 on Enterprise).

Example:
    ```python
    from flows.spend import projection, runs_per_day

    print(projection(17, runs_per_day({"cron": "*/15 * * * *"}), daily_limit=None, share=0.2))
    ```
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from config.check import Finding

if TYPE_CHECKING:
    from flows.engine import RunContext
    from flows.report import RunSummary

PROFESSIONAL_DAILY = 650_000  # assumed when HubSpot has not told the portal's budget
DAY = timedelta(days=1)


def runs_per_day(spec: Mapping[str, Any]) -> float:
    """Runs a day of a schedule given as in prefect.yaml: `{cron: ...}` or `{interval: s}`."""
    if "interval" in spec:
        return DAY.total_seconds() / float(spec["interval"])
    if "cron" in spec:
        from prefect._vendor.croniter import croniter  # Prefect's own cron parser

        start = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday: weekday crons count fully
        week = croniter(str(spec["cron"]), start - timedelta(seconds=1))  # start included
        count = 0
        while week.get_next(datetime) < start + 7 * DAY:
            count += 1
        return count / 7
    raise ValueError(f"schedule {dict(spec)!r} needs `cron` or `interval` (seconds)")


def describe_every(per_day: float) -> str:
    minutes = 1440 / per_day if per_day else 0
    if per_day and minutes < 60:
        return f"every {minutes:g} min"
    if per_day and minutes < 1440:
        return f"every {minutes / 60:g} h"
    return f"{per_day:g} run(s) a day"


def projection(calls: int, per_day: float, *, daily_limit: int | None, share: float) -> str:
    """One line for the run report: the calls, what they come to a day at the schedule, and
    that as a share of the portal's budget and of leadops' share of it."""
    limit = daily_limit or PROFESSIONAL_DAILY
    daily = calls * per_day
    assumed = "" if daily_limit else " (a Professional portal's; HubSpot did not say)"
    verdict = "over" if daily > limit * share else "within"
    return (
        f"HubSpot API calls: {calls:,} this run; {describe_every(per_day)} that is "
        f"≈ {daily:,.0f} a day, {daily / limit:.2%} of the portal's {limit:,}{assumed}, "
        f"{verdict} leadops' {share:.0%} share"
    )


def schedule_of_this_run(default_minutes: float) -> float:
    """Runs a day of the deployment running this flow (its active schedules), else one run
    every `default_minutes` (`LEADOPS_SCHEDULE_MINUTES`)."""
    from prefect.runtime import deployment

    deployment_id = deployment.id
    if deployment_id:
        try:
            from prefect.client.orchestration import get_client

            with get_client(sync_client=True) as client:
                schedules = client.read_deployment_schedules(deployment_id)
            total = sum(_schedule_runs(s.schedule) for s in schedules if s.active)
            if total:
                return total
        except Exception:  # the projection is a hint: never fail a run over it
            pass
    return 1440 / default_minutes


def note_spend(ctx: RunContext, summary: RunSummary, flow_name: str) -> None:
    """Add the run's calls and their projected daily share to its report; a writing run
    also records its cost for `leadops check`."""
    calls = sum(summary.api_calls.values())
    limit = ctx.gateway.budget.limit if ctx.gateway.budget is not None else None
    per_day = schedule_of_this_run(ctx.settings.leadops_schedule_minutes)
    share = ctx.settings.leadops_daily_budget_share
    summary.notes.append(projection(calls, per_day, daily_limit=limit, share=share))
    if ctx.state is not None and not ctx.params.dry_run:
        portal = ctx.settings.hubspot_portal_id or ""
        ctx.state.record_cost(portal, flow_name, calls, ctx.now)


def _schedule_runs(schedule: Any) -> float:
    if getattr(schedule, "interval", None) is not None:
        return runs_per_day({"interval": schedule.interval.total_seconds()})
    if getattr(schedule, "cron", None):
        return runs_per_day({"cron": schedule.cron})
    return 0


# The flow names a deployment's runs record their cost under (`run_cycle`'s `flow_name`)
FLOWS_OF_DEPLOYMENT = {
    "cycle": ("lifecycle-cycle",),
    "reconcile": ("reconcile-catch-up", "reconcile"),
}


def budget_findings(
    schedules: Mapping[str, list[Mapping[str, Any]]],
    last_costs: Mapping[str, int],
    *,
    daily_limit: int | None,
    share: float,
) -> list[Finding]:
    """A finding per scheduled deployment (its runs a day × its last run's calls), and a
    warning when together they would spend more than leadops' share of the daily budget.
    A deployment that never ran is listed without a cost."""
    cap = int((daily_limit or PROFESSIONAL_DAILY) * share)
    findings, total = [], 0
    for name, specs in schedules.items():
        per_day = sum(runs_per_day(spec) for spec in specs)
        flows = FLOWS_OF_DEPLOYMENT.get(name, (name,))
        known = [last_costs[f] for f in flows if f in last_costs]
        every = describe_every(per_day)
        if not known:
            findings.append(Finding("ok", f"schedule {name}", f"{every}; no run recorded yet"))
            continue
        daily = int(sum(known) * per_day)
        total += daily
        text = f"{every} × {sum(known):,} calls (last run) ≈ {daily:,} a day"
        findings.append(Finding("ok", f"schedule {name}", text))
    limit = f"{daily_limit:,}" if daily_limit else f"{PROFESSIONAL_DAILY:,} (Professional)"
    verdict = (
        f"≈ {total:,} calls a day of leadops' {share:.0%} share ({cap:,} of the portal's "
        f"{limit}), shared with every other app on the portal"
    )
    if total > cap:
        advice = "run less often or raise LEADOPS_DAILY_BUDGET_SHARE"
        text = f"schedules would spend {verdict}: {advice}"
        findings.append(Finding("warning", "daily budget", text))
    else:
        findings.append(Finding("ok", "daily budget", f"schedules spend {verdict}"))
    return findings
