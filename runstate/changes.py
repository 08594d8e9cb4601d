"""Every change of one run, on disk as its batches finish; in memory only counts and failures.

A cycle at 100,000 contacts makes ~77,000 changes: held as objects until the digests and the
report were done, they were most of the run's memory. `RunChanges` takes each batch's results
as the batch returns and writes them twice:

* `<outbox>/journal/<portal key>/<run>.changes.csv`, one row per change (rule, contact,
  owner, what changed, why, outcome, error): what ops open to see every change of a run (the
  run report names its path). It stays; nothing else reads it.
* a spool (pickled batches in a file in the run's spool folder, `runstate.spool`, removed
  with the object; a killed run's is removed by the next run) that the run reads back, one
  batch in memory at a time, for the digests, the SLA escalation, the undo log and the
  report's pages.

Example:
    ```python
    from runstate.changes import RunChanges, changes_csv_path

    changes = RunChanges(changes_csv_path(settings, "cycle-amber-fox-1a2b3c4d"))
    changes.add(results_of_a_batch)
    print(len(changes), changes.counts(), changes.csv_path)
    applied = [r for r in changes if r.outcome.value == "applied"]  # read back from disk
    ```
"""

from __future__ import annotations

import csv
import os
import pickle
import tempfile
import weakref
from collections import Counter
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path

from config.settings import Settings
from model.changes import ChangeResult, Outcome
from runstate.journal import _safe, journal_folder
from runstate.spool import spool_folder

CSV_COLUMNS = (
    "rule",
    "contact_id",
    "contact",
    "owner_id",
    "change",
    "reason",
    "outcome",
    "error",
    "created",
)
OUTCOMES = (Outcome.APPLIED, Outcome.PLANNED, Outcome.FAILED, Outcome.SKIPPED)


def changes_csv_path(settings: Settings, run_name: str) -> Path:
    """Where the run's changes CSV goes: beside its journal, a free name (a backfill runs
    several cycles under one flow run: `<run>.changes.csv`, `<run>-2.changes.csv`, …)."""
    folder, stem = journal_folder(settings), _safe(run_name)
    path, n = folder / f"{stem}.changes.csv", 1
    while path.exists():
        n += 1
        path = folder / f"{stem}-{n}.changes.csv"
    return path


def csv_row(result: ChangeResult) -> tuple[str, ...]:
    change = result.change
    return (
        change.rule,
        change.contact_id,
        change.contact_name,
        change.owner_id or "",
        change.describe(),
        change.reason,
        result.outcome.value,
        result.error or "",
        result.created or "",
    )


class RunChanges:
    """One run's change results, in the order their batches finished: `add` a batch, iterate
    (read back from disk), `len`, `counts()` per rule and outcome, `failures` (kept in memory:
    every one is listed in the report and the ops summary). The spool goes to `spool_dir`,
    by default the spool folder beside `csv_path` (without either: the system's temp)."""

    def __init__(self, csv_path: Path | None = None, spool_dir: Path | None = None) -> None:
        self.csv_path = csv_path
        if spool_dir is None and csv_path is not None:
            spool_dir = spool_folder(csv_path.parent)
        handle, name = tempfile.mkstemp(prefix="changes-", suffix=".spool", dir=spool_dir)
        os.close(handle)
        self._spool = Path(name)
        weakref.finalize(self, self._spool.unlink, missing_ok=True)
        self._counts: dict[str, Counter[str]] = {}
        self._length = 0
        self.failures: list[ChangeResult] = []

    def add(self, results: Iterable[ChangeResult]) -> None:
        """Append one batch (to the spool and the CSV); an empty batch writes nothing."""
        batch = list(results)
        if not batch:
            return
        with open(self._spool, "ab") as spool:
            pickle.dump(batch, spool, protocol=pickle.HIGHEST_PROTOCOL)
        if self.csv_path is not None:
            _append_csv(self.csv_path, batch)
        for result in batch:
            self._counts.setdefault(result.change.rule, Counter())[result.outcome.value] += 1
        self.failures += [r for r in batch if r.outcome is Outcome.FAILED]
        self._length += len(batch)

    def __iadd__(self, results: Iterable[ChangeResult]) -> RunChanges:
        self.add(results)
        return self

    def batches(self) -> Iterator[list[ChangeResult]]:
        """The results read back a batch at a time."""
        if not self._length:
            return
        with open(self._spool, "rb") as spool:
            while True:
                try:
                    yield pickle.load(spool)
                except EOFError:
                    return

    def __iter__(self) -> Iterator[ChangeResult]:
        for batch in self.batches():
            yield from batch

    def __len__(self) -> int:
        return self._length

    def __bool__(self) -> bool:
        return self._length > 0

    def counts(self) -> dict[str, dict[str, int]]:
        """Changes per rule (in the order rules first reported) and outcome."""
        return {rule: {o.value: c[o.value] for o in OUTCOMES} for rule, c in self._counts.items()}


def _append_csv(path: Path, batch: list[ChangeResult]) -> None:
    new = not path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        if new:
            writer.writerow(CSV_COLUMNS)
        writer.writerows(csv_row(r) for r in batch)


class Joined:
    """Several result sequences read as one, as often as needed, without copying them (the
    run's `RunChanges` is read back from disk each time)."""

    def __init__(self, *parts: Collection[ChangeResult]) -> None:
        self.parts = parts

    def __iter__(self) -> Iterator[ChangeResult]:
        for part in self.parts:
            yield from part

    def __len__(self) -> int:
        return sum(len(part) for part in self.parts)

    def __bool__(self) -> bool:
        return any(self.parts)
