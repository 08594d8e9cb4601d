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

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from prefect import flow, get_run_logger
from prefect.utilities.annotations import quote

from config.check import check_rules, errors
from config.settings import DEFAULT_UI_DOMAIN, Settings
from flows.deal_stages import record_stages, stages_changed
from flows.engine import RunContext, context_for, run_rule
from flows.escalation import escalate, notices
from flows.incremental import (
    ChangeFeed,
    config_hash,
    contact_readers,
    describe_window,
    rule_window,
    triggered_contacts,
)
from flows.params import RunParams, RunSettings
from flows.report import RunSummary, publish
from flows.settled import settled_filter
from flows.spend import note_spend
from gateway.client import DailyLimitReached, Filter, HubSpotError
from model.changes import ChangeResult, Outcome, RuleName
from model.records import Owner
from notify.alerts import ALERT_HOOKS
from notify.channels import plan_channel_post, post_to_channels
from notify.deliver import current_run_name, notify_owners
from notify.outbox import secrets_of
from rules.registry import RULES
from runstate.changes import Joined, RunChanges, changes_csv_path
from runstate.deadlines import RunStateStore
from runstate.journal import Journal
from runstate.judged import JudgedStore
from runstate.lock import portal_lock
from runstate.runlog import RunLog
from runstate.watermark import DEFAULT_OVERLAP, advance_watermark
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
    ctx.deal_stages.update(facts.deal_stages or {})
    ctx.labels.update(facts.labels())
    problems = errors(check_rules(ctx.rules, facts))
    if problems:
        listed = "; ".join(f"{p.subject}: {p.message}" for p in problems)
        raise PortalMismatchError(
            f"config does not match the portal, nothing was written: {listed}. "
            "Fix config/lifecycle.yaml (run `leadops check` for the full report)."
        )


def _promoted(results: Iterable[ChangeResult]) -> list[str]:
    """Contacts this run made New: follow-up must see them before search does."""
    return [
        r.change.contact_id
        for r in results
        if r.change.rule in ("promote", "new_lead")
        and r.outcome in (Outcome.APPLIED, Outcome.PLANNED)
        and "hs_lead_status" in r.change.properties
    ]


def _written(results: Iterable[ChangeResult], rule: RuleName) -> list[str]:
    """Contacts `rule` updated (or would have, in a dry run) in this run."""
    return [
        r.change.contact_id
        for r in results
        if r.change.rule == rule
        and r.outcome in (Outcome.APPLIED, Outcome.PLANNED)
        and r.change.properties
    ]


def run_cycle(
    params: RunParams,
    flow_name: str = "lifecycle-cycle",
    settings: Settings | None = None,
    prior: Sequence[ChangeResult] = (),
) -> RunSummary:
    """Run the chosen rules in order against the portal; always publish what happened.

    `settings` default to the environment (`HUBSPOT_*`, `.env`). A writing run holds the
    portal's run lock (`runstate.lock`) from the portal check to the digests; a notifying one
    journals every batch it writes (`runstate.journal`) so that the changes of a run killed
    midway are told by the next one. `prior`: what earlier passes of a backfill did
    (`RunContext.prior`).
    """
    params = params.model_copy(update={"until": params.now()})  # one instant for the run
    ctx = context_for(params, settings or Settings())  # the portal's identity keys the lock
    ctx = replace(
        ctx,
        state=RunStateStore.for_settings(ctx.settings),
        feed=ChangeFeed(ctx.gateway, ctx.now, *_contact_readers(ctx)),
        changes=RunChanges(changes_csv_path(ctx.settings, current_run_name())),
    )
    ctx.prior = prior
    if params.dry_run:
        return _run_cycle(ctx, flow_name)
    with portal_lock(ctx.settings, on_wait=get_run_logger().warning):
        if params.notify:
            ctx = replace(ctx, journal=Journal(ctx.settings, current_run_name()))
        return _run_cycle(ctx, flow_name)


def _escalates(ctx: RunContext) -> bool:
    """Whether the run ends with the first-touch SLA escalation."""
    return ctx.rules.sla.enabled and "followup" in ctx.params.rules


def _contact_readers(ctx: RunContext) -> tuple[list[str], list[list[Filter]]]:
    return contact_readers(ctx.rules, ctx.params.rules, _escalates(ctx))


def _run_cycle(ctx: RunContext, flow_name: str) -> RunSummary:
    params = ctx.params
    started = datetime.now(UTC)
    verify_portal(ctx)
    summary = RunSummary(flow_name, params.dry_run, params.since, ctx.now, results=ctx.changes)
    earlier = _untold_by_earlier_runs(ctx, summary)
    try:
        for name in params.rules:
            _run_rule(name, ctx, summary)
        if _escalates(ctx):
            summary.escalation = escalate(ctx, summary.results, summary.notes)
        _settle_watermarks(ctx, summary)
    except KeyboardInterrupt as exc:
        _stopped_midway(ctx, summary, exc)
        raise RunInterrupted(summary) from exc
    except BaseException as exc:
        _stopped_midway(ctx, summary, exc)
        raise
    finally:
        # Owners hear about what was applied even when the run stops early.
        owners = _owners_or_empty(ctx)
        _tell_owners(ctx, summary, earlier, owners)
        summary.api_calls = dict(ctx.gateway.calls - ctx.calls_at_start)  # identity included
        if ctx.gateway.budget is not None:
            summary.notes.append(ctx.gateway.budget.describe())
        if not params.dry_run:
            _keep_for_undo(ctx, summary, flow_name, started)
        note_spend(ctx, summary, flow_name)
        _post_to_channels(ctx, summary)
        suffix = ctx.settings.leadops_artifact_suffix  # one portal's set: its own keys
        publish(summary, owners, flow_name.replace("_", "-"), suffix)
    return summary


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a run; `summary` is its report (what it applied, told to owners)."""

    def __init__(self, summary: RunSummary) -> None:
        super().__init__(summary.interrupted or "interrupted")
        self.summary = summary


def _stopped_midway(ctx: RunContext, summary: RunSummary, exc: BaseException) -> None:
    """A run stopped by an error, the DAILY limit, Ctrl-C or a cancellation still reports
    (and tells) what the rule it was running applied before the stop: its finished batches
    are in `ctx.changes` already."""
    if isinstance(exc, DailyLimitReached):
        summary.notes.append(f"stopped early: {exc}")
    elif not isinstance(exc, Exception):  # KeyboardInterrupt, Prefect's TerminationSignal
        applied = sum(c[Outcome.APPLIED.value] for c in summary.counts().values())
        summary.interrupted = f"interrupted after {applied} change(s); a rerun is safe"
        doubt = ctx.journal.in_doubt if ctx.journal is not None else 0
        kept = f"; {doubt} change(s) in flight kept in the journal for the next run to check"
        summary.notes.append(f"{summary.interrupted} ({type(exc).__name__}{kept if doubt else ''})")


def _keep_for_undo(ctx: RunContext, summary: RunSummary, flow_name: str, started: datetime) -> None:
    """Record what the run applied (`runstate.runlog`), and say how to take it back."""
    finished = datetime.now(UTC)
    kept = RunLog(ctx.settings).save(
        current_run_name(), flow_name, started, finished, summary.results
    )
    if kept is not None:
        summary.notes.append(f"undo this run with: leadops undo {kept.stem}")


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


def _run_rule(name: RuleName, ctx: RunContext, summary: RunSummary) -> None:
    """One rule, its results into `ctx.changes`; incremental rules judge what changed since
    their watermark (`flows.incremental`), or their whole population when no full judgment
    holds."""
    rule = RULES[name]
    if not getattr(ctx.rules, name).enabled:
        summary.notes.append(f"{name} is disabled in the config")
        return
    earlier = Joined(ctx.prior, ctx.changes)  # read from disk, not copied
    if ctx.params.dry_run:  # later rules see the earlier rules' planned writes
        for result in earlier:
            ctx.overlay.setdefault(result.change.contact_id, {}).update(result.change.properties)
    assert ctx.state is not None and ctx.feed is not None  # set by run_cycle
    portal = ctx.settings.hubspot_portal_id or ""
    restaged = stages_changed(ctx, rule)  # a deal pipeline edited: judge everything once
    since = rule_window(
        rule,
        ctx.rules,
        portal,
        ctx.state,
        all_rules=RULES,
        since=ctx.params.since,
        full=ctx.params.full or restaged,
    )
    summary.windows[name] = since
    if rule.triggers:
        summary.notes.append(describe_window(name, since))
    elif rule.event_based:
        start = since.isoformat() if since else "the beginning"
        summary.notes.append(f"{name}: contacts modified since {start}")
    extra = _promoted(earlier) if name == "followup" else []
    if name == "promote":  # just-qualified MQLs: search may not show them yet
        extra = _written(earlier, "qualify")
    # A dry run keeps no judgments: it judges what it finds.
    judged = None if ctx.params.dry_run else JudgedStore(ctx.state)
    if since is not None and rule.triggers:
        extra += triggered_contacts(
            rule, ctx.rules, ctx.feed, ctx.state, portal, since, earlier, judged
        )
    settled = None
    if judged is not None:
        names = rule.properties(ctx.rules)
        settled = settled_filter(rule, judged, portal, names, since, extra)
    planned = run_rule(rule, ctx, since=since, extra_ids=extra, settled=settled)
    if settled is not None and settled.skipped:
        summary.notes.append(settled.describe())
    get_run_logger().info("%s: %d change(s)", name, planned)


def _settle_watermarks(ctx: RunContext, summary: RunSummary) -> None:
    """Advance each incremental rule's watermark to this run's instant, unless it is disabled
    or failed any change (the next run then looks at the same window again); a rule judged
    in full also records the config it judged with (`flows.incremental`). Dry runs wrote
    nothing, and explicit windows (backfills, manual `since`) may lie anywhere in the past:
    neither moves a watermark."""
    if ctx.params.dry_run or ctx.params.since is not None:
        return
    assert ctx.state is not None
    portal = ctx.settings.hubspot_portal_id or ""
    failed = {r.change.rule for r in summary.failures}
    # Judgments older than the overlap name no contact a later window can find unchanged.
    JudgedStore(ctx.state).prune(portal, ctx.now - DEFAULT_OVERLAP)
    for name in ctx.params.rules:
        rule = RULES[name]
        ran = getattr(ctx.rules, name).enabled and name not in failed
        if rule.incremental and ran:
            advance_watermark(portal, name, ctx.now)
            if summary.windows.get(name) is None:
                digest = config_hash(ctx.rules, rule, RULES)
                ctx.state.set_baseline(portal, name, digest, ctx.now)
                record_stages(ctx, rule)


def _tell_owners(
    ctx: RunContext, summary: RunSummary, earlier: list[ChangeResult], owners: dict[str, Owner]
) -> None:
    """Digest what was applied (an earlier run's change this run redid is told once), then
    forget the journal."""
    if earlier:
        redone = {r.change.key for r in summary.results if r.outcome is Outcome.APPLIED}
        earlier = [r for r in earlier if r.change.key not in redone]
    # New SLA breaches go on top of their owners' digests; the run's changes are read from disk
    told = Joined(earlier, summary.results, notices(summary.escalation))
    if ctx.params.notify and not ctx.params.dry_run and told:
        # quote(): Prefect would walk (and index) every change of the run first
        sent = notify_owners(quote(told), owners, ctx.rules, ctx.settings, labels=ctx.labels)
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


@flow(name="lifecycle-cycle", **ALERT_HOOKS)
def lifecycle_cycle(params: RunParams = RunParams(), settings: RunSettings = None) -> dict:
    """Every rule in cycle order (qualify when enabled, promote, new lead, the ladder,
    follow-up, bad timing, recycle), then notify owners."""
    return run_cycle(params, "lifecycle-cycle", settings).as_dict()
