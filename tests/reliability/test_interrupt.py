"""Ctrl-C during writes: the run reports and tells what it applied, the rerun finishes the job.

`leadops run` runs in a child process against a sandbox served by this process, every request
slowed down so the SIGINT lands while the cycle is writing. The interrupted run must say how
many changes it made, exit 130, put what it applied in owners' digests and keep its journal
for what was in flight; a rerun must leave HubSpot and the digests exactly as one clean cycle
does (nothing created twice, nothing told twice or never).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from portal_state import FastRetries, Reference, demo_portal, point_at, run, snapshot, told
from prefect.settings import PREFECT_API_URL

from flows import engine
from flows.cycle import RunInterrupted
from model.changes import ChangeResult, Outcome
from tasks.apply import apply_changes

from support import sandbox_settled, wait_until

pytestmark = pytest.mark.usefixtures("prefect_harness")

ROOT = Path(__file__).resolve().parents[2]
LEADOPS = str(Path(sys.executable).with_name("leadops"))


def test_ctrl_c_mid_writes_reports_what_was_applied_and_a_rerun_is_safe(
    fast: FastRetries,
    reference: Reference,
    outbox: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with demo_portal() as handle:
        point_at(monkeypatch, handle, outbox)
        handle.set_faults(latency_ms=150)  # every request: the SIGINT lands mid-cycle
        env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()), "COLUMNS": "200"}
        log = tmp_path / "cli.log"
        with open(log, "wb") as out:
            child = subprocess.Popen(
                [LEADOPS, "run", "--until", "2026-11-23T12:00:00+00:00"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                # A shell that started the suite in the background ignores SIGINT, and children
                # inherit that: the child takes Ctrl-C as a terminal would deliver it.
                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
            )
        try:
            # The second write means the first batch is done and most of the cycle is ahead
            # (waiting for a later write lets a loaded machine finish the run first).
            wait_until(
                "the cycle's second write",
                lambda: handle.stats()["writes_total"] >= 2 or child.poll() is not None,
                timeout=180,
            )
            assert child.poll() is None, f"the run ended first:\n{log.read_text()[-3000:]}"
            child.send_signal(signal.SIGINT)
            child.wait(timeout=120)
        finally:
            if child.poll() is None:
                child.kill()
        output = log.read_text()
        assert child.returncode == 130, output[-3000:]
        found = re.search(r"interrupted after (\d+) change\(s\); a rerun is safe", output)
        assert found, output[-3000:]
        assert int(found.group(1)) > 0
        assert "Traceback" not in output
        sandbox_settled(handle)
        handle.set_faults()
        assert snapshot(handle) != reference.state, "the SIGINT must land before the end"
        told_at_interrupt = told(outbox)
        assert told_at_interrupt, "what the run applied is told"
        assert not told_at_interrupt - reference.told  # nothing told that a clean run would not

        summary = run()
        assert summary["failed"] == 0
        state = snapshot(handle)
        assert state.duplicate_tasks() == {}
        assert state == reference.state
        assert told(outbox) == reference.told  # each applied change told exactly once
        assert not list((outbox / "journal").rglob("*.jsonl"))


def test_an_interrupt_in_the_middle_of_a_rule_reports_its_finished_batches(
    fast: FastRetries,
    reference: Reference,
    outbox: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Follow-up in batches of 20 contacts, interrupted just after its third batch was
    written: its first two batches are reported and told, the third is checked by the rerun."""
    written: list[int] = []

    def apply_then_interrupt(*args: object, **kwargs: object) -> list[ChangeResult]:
        results = apply_changes(*args, **kwargs)
        if any(r.change.rule == "followup" for r in results):
            written.append(sum(r.outcome is Outcome.APPLIED for r in results))
            if len(written) == 3:
                raise KeyboardInterrupt  # the batch landed in HubSpot; its answer is lost
        return results

    with demo_portal() as handle:
        point_at(monkeypatch, handle, outbox)
        with monkeypatch.context() as patch, pytest.raises(RunInterrupted) as stopped:
            patch.setattr(engine, "ENRICH_BATCH", 20)
            patch.setattr(engine, "apply_changes", apply_then_interrupt)
            run()
        summary = stopped.value.summary
        reported = summary.counts()["followup"]["applied"]
        assert reported == written[0] + written[1] > 0
        assert summary.interrupted == (
            f"interrupted after {sum(c['applied'] for c in summary.counts().values())} "
            "change(s); a rerun is safe"
        )
        tasks_told = [item for item in told(outbox) if item[1] == "TASKS CREATED"]
        earlier_tasks = sum(  # the ladder's record-the-meeting-outcome tasks, before follow-up
            r.outcome is Outcome.APPLIED
            and r.change.task is not None
            and r.change.rule != "followup"
            for r in summary.results
        )
        assert len(tasks_told) == reported + earlier_tasks
        assert list((outbox / "journal").rglob("*.jsonl")), "the lost batch stays in doubt"

        again = run()
        assert any("an earlier run made but did not tell" in n for n in again["notes"])
        assert snapshot(handle) == reference.state
        assert told(outbox) == reference.told
        assert not list((outbox / "journal").rglob("*.jsonl"))
