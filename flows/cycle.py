"""The full lifecycle cycle: every rule in order, one report, one digest per owner.

Example:
    ```python
    from flows.cycle import lifecycle_cycle
    from flows.params import RunParams

    summary = lifecycle_cycle(RunParams(dry_run=True))  # uses HUBSPOT_* from the environment
    print(summary["rules"])
    ```
"""

from __future__ import annotations

from prefect import Flow, flow, get_run_logger
from prefect.utilities.annotations import quote

from config.check import check_rules, errors
from flows.engine import RuleDef, RunContext, context_for, run_rule
from flows.journal import Journal
from flows.notify import alert_ops_on_failure, current_run_name, notify_owners
from flows.params import RuleName, RunParams
from flows.report import RunSummary, publish
from flows.runlock import portal_lock
from leadops.model import ChangeResult, Outcome, Owner
from tasks.gateway import DailyLimitReached, HubSpotError
from tasks.portal import read_portal_facts
from tasks.watermark import settle_watermark, window_for


class PortalMismatchError(RuntimeError):
    """The rules name something the portal lacks; nothing was written."""


def rule_registry() -> dict[RuleName, RuleDef]:
    from flows import attempted, followup, new_lead, promote, recycle

    modules = (promote, new_lead, attempted, followup, recycle)
    return {module.DEFINITION.name: module.DEFINITION for module in modules}


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


def run_cycle(params: RunParams, flow_name: str) -> RunSummary:
    """Run the chosen rules in order against the portal; always publish what happened.

    A writing run holds the portal's run lock (`flows.runlock`) from the portal check to the
    digests; a notifying one journals every batch it writes (`flows.journal`) so that the
    changes of a run killed midway are told by the next one.
    """
    params = params.model_copy(update={"until": params.now()})  # one instant for the run
    ctx = context_for(params)
    if params.dry_run:
        return _run_cycle(ctx, params, flow_name, None)
    with portal_lock(ctx.settings, on_wait=get_run_logger().warning):
        journal = Journal(ctx.settings, current_run_name()) if params.notify else None
        return _run_cycle(ctx, params, flow_name, journal)


def _run_cycle(
    ctx: RunContext, params: RunParams, flow_name: str, journal: Journal | None
) -> RunSummary:
    logger = get_run_logger()
    calls_before = ctx.gateway.calls.copy()
    verify_portal(ctx)
    registry = rule_registry()
    summary = RunSummary(flow_name, params.dry_run, ctx.since, ctx.until)
    current: list[ChangeResult] = []  # the running rule's results, batch by batch

    def on_applied(results: list[ChangeResult]) -> None:
        current.extend(results)
        if journal is not None:
            journal.record(results)

    ctx.on_applied = on_applied
    earlier: list[ChangeResult] = []
    if journal is not None:
        ctx.on_planned = journal.intend
        earlier = journal.recover(ctx.gateway)  # before the rules plan anything again
        if earlier:
            summary.notes.append(
                f"told {len(earlier)} change(s) an earlier run made but did not tell "
                "(it was killed, or could not confirm them)"
            )
    try:
        for name in params.rules:
            current.clear()
            if not getattr(ctx.rules, name).enabled:
                summary.notes.append(f"{name} is disabled in the config")
                continue
            extra = _promoted(summary.results) if name == "followup" else ()
            if params.dry_run:
                ctx.overlay.update(
                    {r.change.contact_id: dict(r.change.properties) for r in summary.results}
                )
            if registry[name].event_based:
                ctx.since, _ = window_for(ctx.settings.hubspot_portal_id, name, params)
                start = ctx.since.isoformat() if ctx.since else "the beginning"
                summary.notes.append(f"{name}: contacts modified since {start}")
            rule_results = run_rule(registry[name], ctx, extra)
            summary.results += rule_results
            logger.info("%s: %d change(s)", name, len(rule_results))
        _settle_watermarks(ctx, params, summary, registry)
    except DailyLimitReached as exc:
        summary.results += current  # what the stopped rule did before the limit
        summary.notes.append(f"stopped early: {exc}")
        raise
    finally:
        owners = _owners_or_empty(ctx)
        # An earlier run's change this run redid (an idempotent list add) is told once.
        redone = {r.change.key for r in summary.results if r.outcome is Outcome.APPLIED}
        told = [r for r in earlier if r.change.key not in redone] + summary.results
        # Owners hear about what was applied even when the run stops early.
        if params.notify and not params.dry_run and told:
            # quote(): Prefect would walk (and index) every change of the run first
            sent = notify_owners(quote(told), owners, ctx.rules, ctx.settings)
            summary.notes.append(f"notifications: {sent.describe()}")
        if journal is not None:
            journal.close()
        summary.api_calls = dict(ctx.gateway.calls - calls_before)
        if ctx.gateway.budget is not None:
            summary.notes.append(ctx.gateway.budget.describe())
        publish(summary, owners, flow_name.replace("_", "-"))
    return summary


def _settle_watermarks(
    ctx: RunContext, params: RunParams, summary: RunSummary, registry: dict[RuleName, RuleDef]
) -> None:
    """Advance each event-based rule's watermark to this run's instant, unless it is disabled
    or failed any change (the next run then looks at the same window again)."""
    failed = {r.change.rule for r in summary.failures}
    for name in params.rules:
        ran = getattr(ctx.rules, name).enabled and name not in failed
        if registry[name].event_based and ran:
            settle_watermark(ctx.settings.hubspot_portal_id, name, params, ctx.until)


def _owners_or_empty(ctx: RunContext) -> dict[str, Owner]:
    """Owner names for the report; a report without them beats no report."""
    try:
        return ctx.owners()
    except HubSpotError:
        return {}


@flow(name="lifecycle-cycle", on_failure=[alert_ops_on_failure], on_crashed=[alert_ops_on_failure])
def lifecycle_cycle(params: RunParams = RunParams()) -> dict:
    """Promote, new lead, attempted, follow-up and recycle, then notify owners."""
    return run_cycle(params, "lifecycle-cycle").as_dict()


def rule_flow(definition: RuleDef, description: str) -> Flow:
    """A flow that runs one rule (with the portal check, report and digests of a cycle)."""
    name = definition.name.replace("_", "-")

    @flow(
        name=name,
        description=description,
        on_failure=[alert_ops_on_failure],
        on_crashed=[alert_ops_on_failure],
    )
    def run_one_rule(params: RunParams = RunParams()) -> dict:
        only_this = params.model_copy(update={"rules": [definition.name]})
        return run_cycle(only_this, name).as_dict()

    return run_one_rule
