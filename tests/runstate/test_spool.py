"""A run's spools live under the portal's journal folder; a run killed with `kill -9` leaves
its folder behind, and the next run removes it, never a live run's."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from model.changes import Change, ChangeResult, Outcome
from runstate.changes import RunChanges
from runstate.spool import SPOOLS, remove_stale_spools, spool_folder

ROOT = Path(__file__).resolve().parents[2]
HOLDER = """
import sys, time
from pathlib import Path
from model.changes import Change, ChangeResult, Outcome
from runstate.changes import RunChanges

changes = RunChanges(Path(sys.argv[1]) / "run.changes.csv")
changes.add([ChangeResult(Change("promote", "1", "Ada", "7", "why"), Outcome.APPLIED)])
print(changes._spool, flush=True)
time.sleep(600)  # until killed
"""


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    return tmp_path / "outbox" / "journal" / "portal-1"


@pytest.fixture
def holders() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        process.kill()
        process.wait()


def run_holding_a_spool(journal: Path, started: list[subprocess.Popen[str]]) -> Path:
    """Start a process that spools one change under `journal`; returns the spool's path once
    it is written."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(journal)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    started.append(process)
    assert process.stdout is not None
    return Path(process.stdout.readline().strip())


def test_a_killed_runs_spool_is_removed_by_the_next_run_and_a_live_ones_stays(
    journal: Path, holders: list[subprocess.Popen[str]]
) -> None:
    killed = run_holding_a_spool(journal, holders)
    alive = run_holding_a_spool(journal, holders)
    assert killed.parent.parent == journal / SPOOLS and killed.exists() and alive.exists()
    os.kill(holders[0].pid, signal.SIGKILL)
    holders[0].wait()
    assert killed.exists()  # a kill -9 leaves it behind

    mine = RunChanges(journal / "next.changes.csv")  # the next run
    mine.add([ChangeResult(Change("promote", "2", "Bo", "7", "why"), Outcome.APPLIED)])

    assert not killed.parent.exists()
    assert alive.exists() and len(list(mine)) == 1
    assert spool_folder(journal) in {p.parent for p in (journal / SPOOLS).glob("*/*.spool")}
    assert remove_stale_spools(journal / SPOOLS) == []  # this process's folder is live too


def test_a_spool_folder_removed_under_a_live_process_is_made_again(journal: Path) -> None:
    first = spool_folder(journal)
    shutil.rmtree(journal.parent)  # the outbox cleared while the process lives

    again = spool_folder(journal)

    assert again.is_dir() and again != first and (again / ".held").exists()
    RunChanges(journal / "run.changes.csv").add(
        [ChangeResult(Change("promote", "1", "Ada", "7", "why"), Outcome.APPLIED)]
    )
