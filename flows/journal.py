"""A run's journal of applied changes, so a killed run's changes still reach the owners.

Owners hear about changes in the digest sent at the end of a run. A run killed outright
(`kill -9`, OOM, a lost machine) never gets there, and its rerun does not plan those changes
again (they are already in HubSpot), so without a journal nobody would be told. Each writing
run appends what every batch applied to `<outbox>/journal/<run>.jsonl` as soon as the batch
returns; the run deletes its journal once its digests are in the outbox. A journal left behind
belongs to a run that died: the next writing run on the portal (runs are serialised by
`flows.runlock`) tells its changes in its own digests, then deletes it.

The one gap: a batch in flight at the moment of the kill (sent, answer not yet journaled) is
applied by HubSpot but not told.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from config.settings import Settings
from leadops.model import Change, ChangeResult, Outcome, TaskSpec


class Journal:
    """Append-only record of one run's applied changes (JSON lines, fsynced per batch)."""

    def __init__(self, settings: Settings, run_name: str) -> None:
        self.folder = Path(settings.outbox_dir) / "journal"
        self.path = self.folder / f"{_safe(run_name)}.jsonl"

    def record(self, results: Iterable[ChangeResult]) -> None:
        lines = [json.dumps(_dump(r)) for r in results if r.outcome is Outcome.APPLIED]
        if not lines:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def leftovers(self) -> tuple[list[ChangeResult], list[Path]]:
        """Applied changes of earlier runs that died before telling them, and their files."""
        if not self.folder.is_dir():
            return [], []
        files = sorted(p for p in self.folder.glob("*.jsonl") if p != self.path)
        results: list[ChangeResult] = []
        for path in files:
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    results.append(_load(json.loads(line)))
                except (ValueError, KeyError, TypeError):
                    continue  # a line cut short by the kill
        return results, files

    def close(self, others: Sequence[Path] = ()) -> None:
        """Forget this run's journal and the given leftovers (their changes were told)."""
        for path in [self.path, *others]:
            path.unlink(missing_ok=True)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "-" for c in name)[:150] or "run"


def _dump(result: ChangeResult) -> dict[str, Any]:
    change = asdict(result.change)
    if result.change.task is not None:
        change["task"]["due"] = result.change.task.due.isoformat()
    return {"change": change, "outcome": result.outcome.value, "error": result.error}


def _load(data: dict[str, Any]) -> ChangeResult:
    change = dict(data["change"])
    if change.get("task"):
        task = dict(change["task"])
        task["due"] = datetime.fromisoformat(task["due"])
        change["task"] = TaskSpec(**task)
    return ChangeResult(Change(**change), Outcome(data["outcome"]), data.get("error"))
