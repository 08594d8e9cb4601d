"""A run's changes on disk: read back whole and in order, counted, named beside the journal."""

from __future__ import annotations

from pathlib import Path

from config.settings import Settings
from model.changes import Change, ChangeResult, Outcome
from runstate.changes import Joined, RunChanges, changes_csv_path


def result(n: int, outcome: Outcome = Outcome.APPLIED) -> ChangeResult:
    change = Change("promote", str(n), f"Contact {n}", "7", "score 72 ≥ 50", properties={"a": "b"})
    return ChangeResult(change, outcome, error="boom" if outcome is Outcome.FAILED else None)


def test_batches_read_back_in_order_with_counts_and_failures(tmp_path: Path) -> None:
    changes = RunChanges(tmp_path / "run.changes.csv")
    first = [result(n) for n in range(3)]
    second = [result(3, Outcome.FAILED), result(4, Outcome.SKIPPED)]
    changes.add(first)
    changes.add([])
    changes += second

    assert list(changes) == first + second
    assert list(changes) == first + second  # as often as asked
    assert len(changes) == 5 and changes
    assert changes.counts() == {"promote": {"applied": 3, "dry-run": 0, "failed": 1, "skipped": 1}}
    assert changes.failures == [second[0]]
    lines = (tmp_path / "run.changes.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("rule,contact_id,contact,owner_id,change,reason,outcome")
    assert len(lines) == 6 and lines[4].endswith(",failed,boom,")
    assert list(Joined([result(9)], changes)) == [result(9), *first, *second]
    assert not RunChanges() and list(RunChanges()) == []


def test_each_cycle_of_a_flow_run_gets_its_own_csv_beside_the_journal(tmp_path: Path) -> None:
    settings = Settings(hubspot_access_token="t", outbox_dir=tmp_path / "outbox")
    path = changes_csv_path(settings, "cycle amber/fox")
    assert path.name == "cycle-amber-fox.changes.csv"
    assert path.parent.parent == tmp_path / "outbox" / "journal"
    RunChanges(path).add([result(1)])
    assert changes_csv_path(settings, "cycle amber/fox").name == "cycle-amber-fox-2.changes.csv"
