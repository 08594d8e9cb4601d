"""Undo a run: take back what it applied, from what `runstate.runlog` kept of it.

Read top to bottom: find the run's record, read what the portal shows now, plan (pure,
`rules.undo`), take back in batches (properties to their before-values, open tasks it created
deleted, contacts it added to a list removed), report like a run (`undo-changes` table and
`undo-summary` markdown artifacts, a returned summary). What a person changed since is kept and
reported. Idempotent: a second undo finds everything already taken back and writes nothing.

Example:
    ```python
    from flows.undo import UndoParams, undo_run

    summary = undo_run(UndoParams(run="cycle-clever-fox-1a2b3c4d", dry_run=True))
    print(summary["actions"])
    ```
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.utilities.annotations import quote
from pydantic import BaseModel, ConfigDict, Field

from config.settings import Settings
from flows.artifact_keys import artifact_key
from flows.engine import RunContext, context_for
from flows.params import RunParams, RunSettings
from flows.report import OUTCOMES
from model.changes import Outcome
from notify.alerts import ALERT_HOOKS
from rules.undo import UndoResult, plan_undo
from runstate.lock import portal_lock
from runstate.runlog import RecordedRun, RunLog
from tasks.revert import delete_tasks, leave_lists, read_portal_now, restore_properties


class UndoParams(BaseModel):
    """The run to take back, and whether only to plan it."""

    model_config = ConfigDict(extra="forbid")

    run: str = Field(
        min_length=1,
        description="The run's name, as its report's last note says (`undo this run with: "
        "leadops undo NAME`), or its flow run name alone when unique.",
    )
    dry_run: bool = Field(default=False, description="Plan and report only; write nothing.")


@dataclass
class UndoSummary:
    """What an undo did, per action and outcome; JSON-able through `as_dict()`."""

    run: str
    dry_run: bool
    results: list[UndoResult] = field(default_factory=list)
    api_calls: Mapping[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, dict[str, int]]:
        table: dict[str, Counter[str]] = {}
        for result in self.results:
            table.setdefault(result.step.action, Counter())[result.outcome.value] += 1
        return {action: {o.value: c[o.value] for o in OUTCOMES} for action, c in table.items()}

    @property
    def failures(self) -> list[UndoResult]:
        return [r for r in self.results if r.outcome is Outcome.FAILED]

    def as_dict(self) -> dict[str, Any]:
        return {
            "flow": "undo",
            "run": self.run,
            "dry_run": self.dry_run,
            "actions": self.counts(),
            "changes": sum(r.outcome is not Outcome.SKIPPED for r in self.results),
            "kept": sum(r.outcome is Outcome.SKIPPED for r in self.results),
            "failed": len(self.failures),
            "failures": [
                {"contact_id": r.step.contact_id, "action": r.step.action, "error": r.error}
                for r in self.failures[:50]
            ],
            "api_calls": sum(self.api_calls.values()),
            "notes": self.notes,
        }


def run_undo(params: UndoParams, settings: Settings | None = None) -> UndoSummary:
    """Take `params.run` back (or plan to); a writing undo holds the portal's run lock."""
    ctx = context_for(RunParams(dry_run=params.dry_run, notify=False), settings or Settings())
    run = RunLog(ctx.settings).load(params.run)
    if params.dry_run:
        return _undo(ctx, run)
    with portal_lock(ctx.settings, on_wait=get_run_logger().warning):
        return _undo(ctx, run)


WRITERS = (
    ("restore", restore_properties),
    ("delete-task", delete_tasks),
    ("leave-list", leave_lists),
)


def _undo(ctx: RunContext, run: RecordedRun) -> UndoSummary:
    summary = UndoSummary(run.name, ctx.params.dry_run)
    try:
        now = read_portal_now(ctx.gateway, quote(list(run.applied)))
        steps = plan_undo(run.name, run.applied, run.finished, now)
        summary.results += [UndoResult(s, Outcome.SKIPPED) for s in steps if s.keep]
        todo = [s for s in steps if not s.keep]
        if ctx.params.dry_run:
            summary.results += [UndoResult(s, Outcome.PLANNED) for s in todo]
        else:
            for action, writer in WRITERS:
                batch = [s for s in todo if s.action == action]
                if batch:
                    summary.results += writer(ctx.gateway, batch)
    finally:
        summary.api_calls = dict(ctx.gateway.calls - ctx.calls_at_start)
        summary.notes.append(f"{run.flow} run {run.name}: {len(run.applied)} applied change(s)")
        _publish(summary, ctx.settings)
    return summary


def _publish(summary: UndoSummary, settings: Settings) -> None:
    rows = [
        {
            "contact": f"{r.step.contact_name} ({r.step.contact_id})",
            "rule": "+".join(r.step.rules),
            "undo": r.step.describe(),
            "reason": r.step.reason,
            "outcome": r.outcome.value,
            "error": r.error or "",
        }
        for r in summary.results
    ]
    create_table_artifact(
        key=artifact_key("undo-changes", settings),
        table=rows or [{"contact": "(nothing to undo)"}],
        description=f"Every change of {summary.run} taken back, or kept and why.",
    )
    create_markdown_artifact(
        key=artifact_key("undo-summary", settings), markdown=undo_markdown(summary)
    )


def undo_markdown(summary: UndoSummary) -> str:
    mode = "dry run: nothing written" if summary.dry_run else "applied"
    lines = [
        f"# Undo of {summary.run} ({mode})",
        "",
        f"HubSpot API calls: {sum(summary.api_calls.values())}",
        "",
        "| undo | " + " | ".join(o.value for o in OUTCOMES) + " |",
        "|---|" + "---|" * len(OUTCOMES),
    ]
    for action, counts in summary.counts().items():
        lines.append(f"| {action} | " + " | ".join(str(counts[o.value]) for o in OUTCOMES) + " |")
    kept = [r for r in summary.results if r.outcome in (Outcome.SKIPPED, Outcome.FAILED)]
    if kept:
        lines += ["", "## Kept or failed", ""]
        lines += [
            f"- {r.step.contact_name} ({r.step.contact_id}): {r.error or r.step.reason}"
            for r in kept[:200]
        ]
    lines += ["", "## Notes", "", *[f"- {note}" for note in summary.notes]]
    return "\n".join(lines)


@flow(name="undo", **ALERT_HOOKS)
def undo_run(params: UndoParams, settings: RunSettings = None) -> dict:
    """Take a run's applied changes back: properties, open tasks it created, list additions."""
    return run_undo(params, settings).as_dict()
