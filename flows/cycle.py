"""The full lifecycle cycle: every rule in order, one report, one digest per owner.

Read top to bottom: check the portal, tell what an earlier run left untold, run each rule
(each returns its results), settle the watermarks, then tell owners and publish the report.

Example:
    ```python
    from config.settings import DEFAULT_UI_DOMAIN, Settings
    from flows.cycle import lifecycle_cycle, run_cycle
    from flows.params import RunParams, RunSettings

    summary = lifecycle_cycle(RunParams(dry_run=True))  # settings from HUBSPOT_* / .env
    print(summary["rules"])
    settings = Settings(hubspot_access_token="sandbox-token", hubspot_base_url="http://127.0.0.1:8765")
    print(run_cycle(RunParams(dry_run=True), settings=settings).counts())  # explicit settings
    ```
"""

from __future__ import annotations

from dataclasses import replace

from prefect import flow, get_run_logger
from prefect.utilities.annotations import quote

from config.check import check_rules, errors
from config.settings import DEFAULT_UI_DOMAIN, Settings
from flows.engine import RunContext, context_for, run_rule
from flows.escalation import escalate, notices
from flows.params import RunParams, RunSettings
from flows.report import RunSummary, publish
from gateway.client import DailyLimitReached, HubSpotError
from model.changes import ChangeResult, Outcome, RuleName
from model.records import Owner
from notify.channels import plan_channel_post, post_to_channels
from notify.deliver import alert_ops_on_failure, current_run_name, notify_owners
from notify.outbox import secrets_of
from rules.registry import RULES
from runstate.journal import Journal
from runstate.lock import portal_lock
from runstate.watermark import advance_watermark, window_start
from tasks.portal import read_portal_facts


class PortalMismatchError(RuntimeError):
    """The rules name something the portal lacks; nothing was written."""


def verify_portal(ctx: RunContext) -> None:
    """Refuse to write when the rules do not match the portal (`leadops check` shows details)."""
    facts = read_portal_facts(ctx.gateway, ctx.rules)
    # What the check read, the run reuses: owners and nurture-list ids are not read again.
    if not facts.problems_reading:
        ctx.seed_owners(facts.owners)
    ctx.list_ids.update({name: i for name, i in facts.lists.items() if i is not None})
    problems = errors(check_rules(ctx.rules, facts))
    if problems:
        listed = "; ".join(f"{p.subject}: {p.message}" for p in problems)
        raise PortalMismatchError(
            f"config does not match the portal, nothing was written: {listed}. "
            "Fix config/lifecycle.yaml (run `leadops check` for the full report)."
        )


def _promoted(results: list[ChangeResult]) -> list[str]:
    """Contacts this run made New: follow-up must see them before search does."""
    return [
        r.change.contact_id
        for r in results
        if r.change.rule in ("promote", "new_lead")
        and r.outcome in (Outcome.APPLIED, Outcome.PLANNED)
        and "hs_lead_status" in r.change.properties
    ]


def _written(results: list[ChangeResult], rule: RuleName) -> list[str]:
    """Contacts `rule` updated (or would have, in a dry run) in this run."""
    return [
        r.change.contact_id
        for r in results
        if r.change.rule == rule
        and r.outcome in (Outcome.APPLIED, Outcome.PLANNED)
        and r.change.properties
    ]


def run_cycle(
    params: RunParams, flow_name: str = "lifecycle-cycle", settings: Settings | None = None
) -> RunSummary:
    """Run the chosen rules in order against the portal; always publish what happened.

    `settings` default to the environment (`HUBSPOT_*`, `.env`). A writing run holds the
    portal's run lock (`runstate.lock`) from the portal check to the digests; a notifying one
    journals every batch it writes (`runstate.journal`) so that the changes of a run killed
    midway are told by the next one.
    """
    params = params.model_copy(update={"until": params.now()})  # one instant for the run
    ctx = context_for(params, settings or Settings())  # the portal's identity keys the lock
    if params.dry_run:
        return _run_cycle(ctx, flow_name)
    with portal_lock(ctx.settings, on_wait=get_run_logger().warning):
        if params.notify:
            ctx = replace(ctx, journal=Journal(ctx.settings, current_run_name()))
        return _run_cycle(ctx, flow_name)


def _run_cycle(ctx: RunContext, flow_name: str) -> RunSummary:
    params = ctx.params
    verify_portal(ctx)
    summary = RunSummary(flow_name, params.dry_run, params.since, ctx.now)
    earlier = _untold_by_earlier_runs(ctx, summary)
    try:
        for name in params.rules:
            summary.results += _run_rule(name, ctx, summary)
        if ctx.rules.sla.enabled and "followup" in params.rules:
            summary.escalation = escalate(ctx, summary.results)
        _settle_watermarks(ctx, summary)
    except DailyLimitReached as exc:
        summary.results += exc.results  # what the stopped rule did before the limit
        summary.notes.append(f"stopped early: {exc}")
        raise
    finally:
        # Owners hear about what was applied even when the run stops early.
        owners = _owners_or_empty(ctx)
        _tell_owners(ctx, summary, earlier, owners)
        summary.api_calls = dict(ctx.gateway.calls - ctx.calls_at_start)  # identity included
        if ctx.gateway.budget is not None:
            summary.notes.append(ctx.gateway.budget.describe())
        _post_to_channels(ctx, summary)
        publish(summary, owners, flow_name.replace("_", "-"))
    return summary


def _untold_by_earlier_runs(ctx: RunContext, summary: RunSummary) -> list[ChangeResult]:
    """Changes a killed (or unconfirmed) earlier run made but did not tell; read before the
    rules plan anything again."""
    if ctx.journal is None:
        return []
    earlier = ctx.journal.recover(ctx.gateway)
    if earlier:
        summary.notes.append(
            f"told {len(earlier)} change(s) an earlier run made but did not tell "
            "(it was killed, or could not confirm them)"
        )
    return earlier


def _run_rule(name: RuleName, ctx: RunContext, summary: RunSummary) -> list[ChangeResult]:
    """One rule's results; event-based rules look at the window since their watermark."""
    rule = RULES[name]
    if not getattr(ctx.rules, name).enabled:
        summary.notes.append(f"{name} is disabled in the config")
        return []
    if ctx.params.dry_run:  # later rules see the earlier rules' planned writes
        ctx.overlay.update(
            {r.change.contact_id: dict(r.change.properties) for r in summary.results}
        )
    since = None
    if rule.event_based:
        since = window_start(ctx.settings.hubspot_portal_id, name, ctx.params.since)
        start = since.isoformat() if since else "the beginning"
        summary.notes.append(f"{name}: contacts modified since {start}")
    extra = _promoted(summary.results) if name == "followup" else ()
    if name == "promote":  # just-qualified MQLs: search may not show them yet
        extra = _written(summary.results, "qualify")
    results = run_rule(rule, ctx, since=since, extra_ids=extra)
    get_run_logger().info("%s: %d change(s)", name, len(results))
    return results


def _settle_watermarks(ctx: RunContext, summary: RunSummary) -> None:
    """Advance each event-based rule's watermark to this run's instant, unless it is disabled
    or failed any change (the next run then looks at the same window again). Dry runs wrote
    nothing, and explicit windows (backfills, manual `since`) may lie anywhere in the past:
    neither moves a watermark."""
    if ctx.params.dry_run or ctx.params.since is not None:
        return
    failed = {r.change.rule for r in summary.failures}
    for name in ctx.params.rules:
        ran = getattr(ctx.rules, name).enabled and name not in failed
        if RULES[name].event_based and ran:
            advance_watermark(ctx.settings.hubspot_portal_id, name, ctx.now)


def _tell_owners(
    ctx: RunContext, summary: RunSummary, earlier: list[ChangeResult], owners: dict[str, Owner]
) -> None:
    """Digest what was applied (an earlier run's change this run redid is told once), then
    forget the journal."""
    redone = {r.change.key for r in summary.results if r.outcome is Outcome.APPLIED}
    told = [r for r in earlier if r.change.key not in redone] + summary.results
    told += notices(summary.escalation)  # new SLA breaches, on top of their owners' digests
    if ctx.params.notify and not ctx.params.dry_run and told:
        # quote(): Prefect would walk (and index) every change of the run first
        sent = notify_owners(quote(told), owners, ctx.rules, ctx.settings)
        summary.notes.append(f"notifications: {sent.describe()}")
    if ctx.journal is not None:
        ctx.journal.close()


def _post_to_channels(ctx: RunContext, summary: RunSummary) -> None:
    """The run's one message to the team channels (`channels.blocks`); a writing, notifying
    run only. A channel that fails is reported in the run's notes, never fails the run."""
    channels = ctx.rules.channels
    if not channels.blocks or ctx.params.dry_run or not ctx.params.notify:
        return
    secrets = secrets_of(ctx.settings)
    post = plan_channel_post(
        run_name=current_run_name(),
        counts=summary.counts(),
        failures=summary.failures,
        escalation=summary.escalation,
        stopped=[note for note in summary.notes if note.startswith("stopped early")],
        post=channels.post,
        portal_id=ctx.settings.hubspot_portal_id or "0",
        ui_domain=ctx.settings.hubspot_ui_domain or DEFAULT_UI_DOMAIN,
        secrets=secrets,
    )
    if post is not None:
        report = post_to_channels(post, channels.blocks, secrets)
        summary.notes.append(report.describe())
        if report.failed:
            get_run_logger().warning(report.describe())


def _owners_or_empty(ctx: RunContext) -> dict[str, Owner]:
    """Owner names for the report; a report without them beats no report."""
    try:
        return ctx.owners()
    except HubSpotError:
        return {}


@flow(name="lifecycle-cycle", on_failure=[alert_ops_on_failure], on_crashed=[alert_ops_on_failure])
def lifecycle_cycle(params: RunParams = RunParams(), settings: RunSettings = None) -> dict:
    """Qualify (when enabled), promote, new lead, attempted, follow-up and recycle, then
    notify owners."""
    return run_cycle(params, "lifecycle-cycle", settings).as_dict()
