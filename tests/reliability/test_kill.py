"""`kill -9` of a cycle in the middle of applying changes, then a rerun.

The cycle runs in a subprocess against a sandbox served by this process (it survives the
kill), with every request slowed down so the kill lands while the cycle is writing. The rerun
(in this process) must leave HubSpot exactly as one uninterrupted cycle does, with no task,
list membership or digest line twice, and no applied change left untold.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from portal_state import (
    NOW,
    FastRetries,
    Reference,
    demo_portal,
    point_at,
    run,
    snapshot,
    told,
)
from prefect.settings import PREFECT_API_URL

from sandbox.server import SandboxHandle

from support import sandbox_settled

pytestmark = pytest.mark.usefixtures("prefect_harness")

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("cycle_child.py")


def start_cycle(log: Path) -> subprocess.Popen[bytes]:
    """A writing cycle in its own process, on the test's Prefect API and environment."""
    env = {
        **os.environ,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, str(CHILD), NOW.isoformat()],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_for_writes(
    handle: SandboxHandle, child: subprocess.Popen[bytes], writes: int, log: Path
) -> dict:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        stats = handle.stats()
        if stats["writes_total"] >= writes:
            return stats
        if child.poll() is not None:
            pytest.fail(f"the cycle ended before {writes} write(s):\n{log.read_text()[-3000:]}")
        time.sleep(0.01)
    child.kill()
    pytest.fail(f"no {writes} write(s) within 120 s:\n{log.read_text()[-3000:]}")


@pytest.mark.parametrize("kill_after_writes", [1, 5], ids=["after-first-write", "in-recycle"])
def test_kill_9_mid_apply_then_a_rerun_ends_as_one_clean_run(
    fast: FastRetries,
    reference: Reference,
    outbox: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kill_after_writes: int,
) -> None:
    with demo_portal() as handle:
        point_at(monkeypatch, handle, outbox)
        handle.set_faults(latency_ms=120)  # every request: the kill lands mid-cycle
        log = tmp_path / "child.log"
        child = start_cycle(log)
        try:
            wait_for_writes(handle, child, kill_after_writes, log)
        finally:
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=30)
        assert child.returncode == -signal.SIGKILL
        sandbox_settled(handle)  # a request in flight at the kill still lands in the sandbox
        handle.set_faults()
        at_kill = snapshot(handle)
        assert at_kill != reference.state, "the kill must land before the cycle finished"
        assert "SUMMARY" not in log.read_text()
        assert list((outbox / "journal").rglob("*.jsonl")), "the killed run left its journal"

        summary = run()
        assert summary["failed"] == 0
        assert any("an earlier run made but did not tell" in n for n in summary["notes"])
        state = snapshot(handle)
        assert state.duplicate_tasks() == {}
        assert state == reference.state
        assert told(outbox) == reference.told  # each applied change told exactly once
        assert not list((outbox / "journal").rglob("*.jsonl"))
        assert run()["changes"] == 0
