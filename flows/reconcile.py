"""The reconcile: a full judgment that proves (or repairs) what incremental cycles did.

Incremental cycles judge only what their triggers name (`flows.incremental`). Once a day the
reconcile first catches up the way a scheduled cycle does, then judges every rule's whole
population at the same instant: whatever that second pass changes, the incremental cycles
missed (an engagement deleted, an association added later, a lost run-state database). It
applies those changes like any cycle, tells the owners, and lists them in its report.

Example:
    ```python
    from flows.params import RunParams
    from flows.reconcile import reconcile

    print(reconcile(RunParams(dry_run=True))["missed"])
    ```
"""

from __future__ import annotations

from collections.abc import Sequence

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from config.settings import Settings
from flows.artifact_keys import artifact_key
from flows.cycle import run_cycle
from flows.params import RunParams, RunSettings
from flows.report import RunSummary
from model.changes import ChangeResult, Outcome
from notify.alerts import ALERT_HOOKS


def run_reconcile(
    params: RunParams, settings: Settings | None = None
) -> tuple[RunSummary | None, RunSummary]:
    """(catch-up cycle, full judgment). A dry run has nothing to catch up: its full
    judgment plans what a full cycle would change now."""
    params = params.model_copy(update={"until": params.now(), "full": False})
    caught_up = None
    if not params.dry_run:
        caught_up = run_cycle(params, "reconcile-catch-up", settings)
    checked = run_cycle(params.model_copy(update={"full": True}), "reconcile", settings)
    missed, breaches = missed_changes(checked), missed_breaches(checked)
    create_markdown_artifact(
        key=artifact_key("reconcile-missed", settings or Settings()),
        markdown=missed_markdown(missed, breaches),
        description="Changes the full judgment made that incremental cycles had missed",
    )
    if missed or breaches:
        get_run_logger().warning(
            "reconcile: %d change(s) and %d SLA breach update(s) incremental cycles missed",
            len(missed),
            len(breaches),
        )
    return caught_up, checked


def missed_changes(checked: RunSummary) -> list[ChangeResult]:
    return [r for r in checked.results if r.outcome in (Outcome.APPLIED, Outcome.PLANNED)]


def missed_breaches(checked: RunSummary) -> list[str]:
    """First-touch SLA breaches the full judgment alerted or closed: the incremental
    escalation had missed them (a deleted task, a deleted contact)."""
    sla = checked.escalation
    if sla is None:
        return []
    opened = [f"breach opened: {b.contact_name} ({b.contact_id}): {b.reason}" for b in sla.new]
    return opened + [
        f"breach closed: {c.contact_name} ({c.contact_id}): {c.reason}" for c in sla.closed
    ]


def missed_markdown(missed: list[ChangeResult], breaches: Sequence[str] = ()) -> str:
    if not missed and not breaches:
        return "# Reconcile\n\nIncremental cycles missed nothing: a full judgment changed nothing."
    lines = [
        "# Reconcile",
        "",
        f"The full judgment made {len(missed)} change(s) incremental cycles had missed:",
        "",
    ]
    lines += [
        f"- {r.change.rule} · {r.change.contact_name} ({r.change.contact_id}): "
        f"{r.change.describe()} — {r.change.reason}"
        for r in missed
    ]
    lines += [f"- first-touch SLA · {line}" for line in breaches]
    return "\n".join(lines)


@flow(name="reconcile", **ALERT_HOOKS)
def reconcile(params: RunParams = RunParams(), settings: RunSettings = None) -> dict:
    """Catch up, then judge every rule's whole population; report what incremental cycles
    missed (daily by default)."""
    caught_up, checked = run_reconcile(params, settings)
    return {
        **checked.as_dict(),
        "missed": len(missed_changes(checked)),
        "missed_breaches": len(missed_breaches(checked)),
        "catch_up": caught_up.as_dict() if caught_up else None,
    }
