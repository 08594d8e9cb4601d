"""The `leadops` command: demo, run, check, report, sandbox, deploy, backfill, undo."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from config.rules import ConfigError, load_rules
from config.settings import MissingSettingError, Settings
from leadops.console import MAX_CELL, cell
from leadops.dates import BadDate, past_range
from leadops.deploy import deploy_command
from leadops.ops_tables import option_error, pass_bar, passes_table, undo_table
from leadops.report_print import print_report
from model.changes import ALL_RULES

app = typer.Typer(
    help="HubSpot lead-lifecycle automation as code, run by Prefect.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
console = Console()
err = Console(stderr=True)

RULE_CHOICES = ("cycle", *ALL_RULES)


@app.callback()
def main(
    ctx: typer.Context,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", "-v", help="Show Prefect's run and task logs, and tracebacks of errors."
        ),
    ] = False,
) -> None:
    """HubSpot lead-lifecycle automation as code, run by Prefect.

    Exit codes: 0 done; 1 the run failed or some changes failed (the message says which);
    2 bad input (options, settings, config/lifecycle.yaml), nothing contacted; 130
    interrupted (Ctrl-C), what was applied is reported and a rerun is safe.
    """
    ctx.obj = {"verbose": verbose}
    if not verbose:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


def _settings() -> Settings:
    try:
        settings = Settings()
        settings.access_token()
    except (MissingSettingError, ValueError) as exc:
        raise _fail(str(exc)) from None
    try:
        load_rules(settings.lifecycle_config)
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    return settings


def _quiet_unless_verbose(ctx: typer.Context) -> bool:
    """Drop Prefect's error tracebacks from the console (the command says what failed in one
    line) unless `-v` asked for them. True when verbose."""
    verbose = bool(ctx.obj and ctx.obj.get("verbose"))
    if not verbose:
        from leadops.console import quiet_prefect_tracebacks

        quiet_prefect_tracebacks()
    return verbose


def print_summary(summary: dict) -> None:
    """The run's counts per rule and its failures, as a table."""
    mode = "[yellow]dry run: nothing written[/]" if summary["dry_run"] else "[green]applied[/]"
    table = Table(title=f"{summary['flow']} — {mode}", title_justify="left")
    for column in ("rule", "applied", "dry-run", "failed", "skipped"):
        table.add_column(column, justify="left" if column == "rule" else "right")
    for rule, counts in summary["rules"].items():
        table.add_row(rule, *(str(counts[k]) for k in ("applied", "dry-run", "failed", "skipped")))
    if not summary["rules"]:
        table.add_row("(nothing to do)", "0", "0", "0", "0")
    console.print(table)
    console.print(f"HubSpot API calls: {summary['api_calls']}")
    for failure in summary["failures"]:
        error = cell(failure["error"], 2 * MAX_CELL)
        console.print(f"[red]failed[/] {failure['rule']} contact {failure['contact_id']}: {error}")
    for note in summary["notes"]:
        console.print(f"[yellow]note:[/] {note}")


@app.command()
def run(
    ctx: typer.Context,
    rule: Annotated[str, typer.Argument(help=f"One of: {', '.join(RULE_CHOICES)}.")] = "cycle",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Plan and report; write nothing.")
    ] = False,
    since: Annotated[datetime | None, typer.Option(help="Window start (ISO date/time).")] = None,
    until: Annotated[datetime | None, typer.Option(help="Window end (ISO date/time).")] = None,
    notify: Annotated[bool, typer.Option(help="Email owners their digests.")] = True,
    full: Annotated[
        bool,
        typer.Option("--full", help="Judge every contact, not only what changed since last run."),
    ] = False,
) -> None:
    """Run the full cycle or one rule against the portal in HUBSPOT_BASE_URL."""
    if rule not in RULE_CHOICES:
        raise _fail(f"unknown rule {rule!r}; choose one of: {', '.join(RULE_CHOICES)}")
    _settings()
    from pydantic import ValidationError

    from flows.cycle import RunInterrupted, lifecycle_cycle
    from flows.params import RunParams
    from leadops.console import failure_message, shown_progress

    try:
        params = RunParams(
            dry_run=dry_run,
            since=since,
            until=until,
            rules=list(ALL_RULES) if rule == "cycle" else [rule],
            notify=notify,
            full=full,
        )
    except ValidationError as exc:
        raise _fail("; ".join(e["msg"] for e in exc.errors())) from None
    verbose = _quiet_unless_verbose(ctx)
    try:
        with shown_progress(console, f"{rule}{' (dry run)' if dry_run else ''}"):
            summary = lifecycle_cycle(params)
    except RunInterrupted as exc:
        print_summary(exc.summary.as_dict())
        raise _fail(exc.summary.interrupted or "interrupted; a rerun is safe", 130) from None
    except KeyboardInterrupt:
        raise _fail("interrupted before any change; a rerun is safe", 130) from None
    except Exception as exc:
        if verbose:
            raise
        raise _fail(failure_message(exc), 1) from None
    print_summary(summary)
    if summary["failed"]:
        raise typer.Exit(1)


@app.command()
def check(
    portal: Annotated[
        str | None,
        typer.Option(
            help="Check the set `leadops deploy --portal ID` made: its token block, base URL "
            "and rules file, and that the token is this portal's.",
        ),
    ] = None,
    rules: Annotated[
        Path | None,
        typer.Option(help="Check this rules file instead (e.g. an edit before redeploying)."),
    ] = None,
) -> None:
    """Validate the rules file against the portal. Reads only; writes nothing."""
    from config.check import check_rules, errors
    from flows.engine import gateway_for
    from gateway.client import HubSpotError
    from gateway.identity import PortalIdentityMismatch, settings_for_portal
    from tasks.portal import read_portal_facts

    settings, source = _settings_to_check(portal, rules)
    try:
        rules_file = load_rules(settings.lifecycle_config)
        settings.access_token()
    except (ConfigError, MissingSettingError, ValueError) as exc:
        raise _fail(str(exc)) from None
    try:
        with console.status("Reading the portal…"):
            gateway = gateway_for(settings)
            settings_for_portal(settings, gateway.portal_identity())
            facts = read_portal_facts.fn(gateway, rules_file)
    except (HubSpotError, PortalIdentityMismatch) as exc:
        raise _fail(f"could not check the portal: {exc}", 1) from None
    findings = check_rules(rules_file, facts) + _schedule_findings(settings)
    title = f"leadops check — {settings.hubspot_base_url}"
    if portal:
        title += f" — portal {portal} ({source})"
    table = Table(title=title, title_justify="left")
    table.add_column("", width=2)
    table.add_column("what")
    table.add_column("finding")
    marks = {"ok": "[green]✓[/]", "warning": "[yellow]![/]", "error": "[red]✗[/]"}
    for finding in findings:
        table.add_row(marks[finding.level], cell(finding.subject), cell(finding.message, 300))
    console.print(table)
    problems = errors(findings)
    if problems:
        raise _fail(f"{len(problems)} problem(s): fix {settings.lifecycle_config} or the portal", 1)
    console.print(f"[green]Config matches the portal.[/] Rules: {settings.lifecycle_config}")


def _settings_to_check(portal: str | None, rules: Path | None) -> tuple[Settings, str]:
    from leadops.deploy import PROJECT_ROOT
    from leadops.portals import PortalInputError, settings_to_check

    try:
        settings = Settings()
        if portal is not None:
            return settings_to_check(settings, portal, rules, PROJECT_ROOT)
    except (PortalInputError, ValueError) as exc:
        raise _fail(str(exc)) from None
    if rules is not None:
        settings = settings.model_copy(update={"lifecycle_config": rules})
    return settings, "local settings"


def _schedule_findings(settings: Settings) -> list:
    """The default schedules in prefect.yaml against leadops' share of the daily budget,
    at what each deployment's last run cost (recorded in the run-state database)."""
    from flows.spend import budget_findings
    from leadops.deploy import load_project
    from runstate.deadlines import RunStateStore

    schedules = (load_project().get("definitions") or {}).get("default_schedules") or {}
    costs = RunStateStore.for_settings(settings).last_costs(settings.hubspot_portal_id)
    calls = {flow: spent for flow, (spent, _) in costs.items()}
    share = settings.leadops_daily_budget_share
    return budget_findings(schedules, calls, daily_limit=None, share=share)


@app.command()
def sandbox(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8765,
    seed: Annotated[str, typer.Option(help="demo or empty.")] = "demo",
    contacts: Annotated[int | None, typer.Option(help="Scale the demo to N contacts.")] = None,
    token: Annotated[str, typer.Option(help="Bearer token the sandbox accepts.")] = "sandbox-token",
    now: Annotated[
        str | None,
        typer.Option(help="Start the sandbox's clock here (ISO-8601, e.g. 2026-11-23T12:00:00Z)."),
    ] = None,
) -> None:
    """Serve the local HubSpot-compatible sandbox (Ctrl-C to stop)."""
    if seed not in ("demo", "empty"):
        raise _fail(f"--seed {seed!r} is not allowed; use demo or empty")
    start = None if now is None else _sandbox_clock(now)
    from sandbox.server import serve

    console.print(
        f"Sandbox on http://127.0.0.1:{port} (token {token!r}). Point leadops at it with:\n"
        f"  export HUBSPOT_BASE_URL=http://127.0.0.1:{port} HUBSPOT_ACCESS_TOKEN={token}"
    )
    serve(port=port, seed=seed, contacts=contacts, token=token, now=start)


def _sandbox_clock(value: str) -> datetime:
    """`--now` as an aware datetime (no offset = UTC)."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise _fail(
            f"--now {value!r} is not a date and time; use ISO-8601, e.g. 2026-11-23T12:00:00Z"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


app.command(name="deploy")(deploy_command)


# ---- past dates and taking a run back ------------------------------------------------------


@app.command()
def backfill(
    ctx: typer.Context,
    start: Annotated[
        str, typer.Option(help="First day (2026-10-01 = midnight UTC) or an ISO date and time.")
    ],
    end: Annotated[
        str | None, typer.Option(help="End, exclusive (same formats); default: now.")
    ] = None,
    window_hours: Annotated[
        int, typer.Option(help="Window size in hours for promote and new_lead (24 = a day).")
    ] = 24,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Plan and report; write nothing.")
    ] = False,
) -> None:
    """Run the cycle over past dates: windows for promote/new_lead, then the rest once.

    Promote and new_lead replay each window (oldest first) over the contacts modified in it;
    attempted, followup and recycle are judged once, as of now, after the windows (no task
    is due in the past). Exit 1 if a change or a window failed; a rerun is safe.
    """
    try:
        since, until = past_range(start, end, datetime.now(UTC))
    except BadDate as exc:
        raise _fail(str(exc)) from None
    _settings()
    from pydantic import ValidationError

    from flows.backfill import BackfillParams, backfill, on_progress

    try:
        params = BackfillParams(start=since, end=until, window_hours=window_hours, dry_run=dry_run)
    except ValidationError as exc:
        raise _fail("; ".join(option_error(e) for e in exc.errors())) from None
    _quiet_unless_verbose(ctx)
    with pass_bar(console, "Backfill (dry run)" if dry_run else "Backfill") as show:
        listening = on_progress.set(show)
        try:
            state = backfill(params, return_state=True)
        finally:
            on_progress.reset(listening)
    if not state.is_completed():
        raise _fail(state.message or f"the backfill ended {state.name}", 1)
    summary = state.result()
    console.print(passes_table(summary))
    print_summary(summary)
    if summary["failed"]:
        raise typer.Exit(1)


@app.command()
def undo(
    ctx: typer.Context,
    run: Annotated[
        str,
        typer.Argument(
            help="The run's name, as its report's last note says, or its flow run name alone."
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Plan and report what would be undone; write nothing.")
    ] = False,
) -> None:
    """Take back what a run applied (properties, its open tasks, its list additions).

    Properties go back to their before-values, tasks the run created that are still open are
    deleted, contacts it added to a list are removed. What a person changed since is kept and
    reported; a second undo does nothing. Exit 1 if anything could not be undone.
    """
    settings = _settings()
    from flows.engine import gateway_for
    from flows.undo import UndoParams, undo_run
    from gateway.client import HubSpotError
    from gateway.identity import settings_for_portal
    from runstate.runlog import RunLog, UnknownRun

    try:  # a name that matches no run is told here, before a flow run fails on it
        identity = gateway_for(settings).portal_identity()
        RunLog(settings_for_portal(settings, identity)).load(run)
    except (HubSpotError, UnknownRun) as exc:
        raise _fail(str(exc), 1) from None

    _quiet_unless_verbose(ctx)
    with console.status(f"Undoing {run}{' (dry run)' if dry_run else ''}…"):
        state = undo_run(UndoParams(run=run, dry_run=dry_run), return_state=True)
    if not state.is_completed():
        raise _fail(state.message or f"the undo ended {state.name}", 1)
    summary = state.result()
    console.print(undo_table(summary))
    for failure in summary["failures"]:
        what = f"{failure['action']} contact {failure['contact_id']}"
        console.print(f"[red]failed[/] {what}: {failure['error']}")
    if summary["kept"]:
        console.print(
            f"[yellow]kept:[/] {summary['kept']} change(s) stay as they are (already undone, or "
            "changed since): the `undo-changes` artifact says why for each"
        )
    if summary["failed"]:
        raise typer.Exit(1)


@app.command()
def report(
    ctx: typer.Context,
    since: Annotated[
        datetime | None,
        typer.Option(
            help="Cover SQLs from here (ISO date/time); default: report.lookback_days ago."
        ),
    ] = None,
    until: Annotated[
        datetime | None, typer.Option(help="Up to here (ISO date/time); default: now.")
    ] = None,
    email: Annotated[bool, typer.Option(help="Mail the report to ops (and managers).")] = True,
) -> None:
    """The lead report: funnel, time in status, stuck leads, first-touch SLA, score
    calibration. Reads only; writes nothing to HubSpot. Saves HTML, charts, JSON and CSV."""
    _settings()
    from pydantic import ValidationError

    from flows.lead_report import ReportParams, lead_report

    try:
        params = ReportParams(since=since, until=until, email=email)
    except ValidationError as exc:
        raise _fail("; ".join(e["msg"] for e in exc.errors())) from None
    from leadops.console import failure_message

    verbose = _quiet_unless_verbose(ctx)
    try:
        with console.status("Reading contacts and their histories (batches of 1,000)…"):
            summary = lead_report(params)
    except Exception as exc:
        if verbose:
            raise
        raise _fail(failure_message(exc), 1) from None
    print_report(console, summary)


@app.command()
def demo(
    contacts: Annotated[int | None, typer.Option(help="Scale the demo to N contacts.")] = None,
) -> None:
    """Start the sandbox with demo data, run the whole cycle against it twice, then the
    lead report."""
    from sandbox.server import running_sandbox

    with running_sandbox(seed="demo", contacts=contacts) as handle:
        from flows.cycle import lifecycle_cycle
        from flows.params import RunParams

        # The environment's settings (SMTP, outbox, ...), pointed at the sandbox.
        settings = Settings(
            hubspot_base_url=handle.url,
            hubspot_access_token=handle.token,
            hubspot_token_block=None,
            # The sandbox's identity, over any real portal's checks left in `.env`.
            hubspot_portal_id=str(handle.sandbox.config.portal_id),
            hubspot_portal_timezone=handle.sandbox.config.time_zone,
            hubspot_ui_domain=handle.sandbox.config.ui_domain,
        )
        console.print(f"Sandbox with demo data at {handle.url}")
        console.rule("1. Dry run: plan everything, write nothing")
        with console.status("Starting Prefect and planning…"):
            print_summary(lifecycle_cycle(RunParams(dry_run=True), settings))
        console.print(f"Writes the sandbox received: {handle.stats()['writes_total']}")
        console.rule("2. The cycle, applied")
        with console.status("Applying…"):
            print_summary(lifecycle_cycle(RunParams(), settings))
        console.rule("3. Again: nothing left to do")
        with console.status("Running the cycle again…"):
            print_summary(lifecycle_cycle(RunParams(), settings))
        outbox = settings.outbox_dir.resolve()
        console.print(f"Owner digests are in {outbox / 'pending'} (no SMTP configured).")
        console.rule("4. The lead report (reads only)")
        from flows.lead_report import ReportParams, lead_report

        with console.status("Reading contacts and their histories…"):
            print_report(console, lead_report(ReportParams(), settings))


@app.command()
def bench(
    contacts: Annotated[
        list[int] | None,
        typer.Option("--contacts", help="Contacts to seed; repeat for several sizes."),
    ] = None,
    json_path: Annotated[
        str | None, typer.Option("--json", help="Write the results as JSON to this file.")
    ] = None,
    steady: Annotated[
        bool,
        typer.Option(
            "--steady",
            help="Steady state instead: incremental cycles over a simulated day (1 % of the "
            "contacts touched an hour, a cycle every 15 min) next to full cycles.",
        ),
    ] = False,
    hours: Annotated[
        float, typer.Option("--hours", min=0.25, help="Simulated hours of --steady.")
    ] = 24,
) -> None:
    """Benchmark one cycle per size against a sandbox with HubSpot Professional limits.

    Prints calls per endpoint against the minimum the seeded work needs, wall time against
    the time the limits impose, Prefect overhead, 429s, peak RSS and a per-record baseline
    (default sizes: 1,000 and 10,000 contacts). With --steady: what incremental cycles cost
    a day at each size (default 10,000), next to full cycles. See BENCHMARKS.md.
    """
    import json
    from pathlib import Path

    if steady:
        from bench.steady import run_and_report as run_steady

        results = run_steady(contacts or [10000], hours, 15, console)
        if json_path:
            Path(json_path).write_text(json.dumps(results, indent=2))
        return
    from bench.report import run_and_report

    run_and_report(contacts or [1000, 10000], Path(json_path) if json_path else None, console)
