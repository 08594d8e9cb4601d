"""Two cycles at once against one portal: they take turns (a per-portal run lock), so no task,
list membership or digest line is duplicated; a run that cannot get the lock in time stops
before writing, with a clear message."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from portal_state import (
    FastRetries,
    Reference,
    demo_portal,
    point_at,
    run,
    snapshot,
    told,
)
from test_kill import start_cycle, wait_for_writes

from config.settings import Settings
from runstate.lock import RunLockTimeout, portal_lock

from support import wait_until

pytestmark = pytest.mark.usefixtures("prefect_harness")


def summary_of(log: Path) -> dict:
    for line in log.read_text().splitlines():
        if line.startswith("SUMMARY "):
            return json.loads(line.removeprefix("SUMMARY "))
    raise AssertionError(f"no summary in the child's output:\n{log.read_text()[-3000:]}")


def test_two_cycles_at_once_create_nothing_twice(
    fast: FastRetries,
    reference: Reference,
    outbox: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with demo_portal() as handle:
        point_at(monkeypatch, handle, outbox)
        # The second run starts once the first holds the lock and has written, and the first
        # still has ~10 s of requests ahead: the two overlap however slowly processes start.
        handle.set_faults(latency_ms=100)
        logs = [tmp_path / "first.log", tmp_path / "second.log"]
        first = start_cycle(logs[0])
        wait_for_writes(handle, first, 1, logs[0])
        children = [first, start_cycle(logs[1])]
        for child in children:
            assert child.wait(timeout=240) == 0
        handle.set_faults()
        summaries = [summary_of(log) for log in logs]
        assert sorted(s["changes"] for s in summaries)[0] == 0  # the second found it all done
        assert all(s["failed"] == 0 for s in summaries)
        output = "".join(log.read_text() for log in logs)
        assert "waiting for another leadops run on this portal" in output
        state = snapshot(handle)
        assert state.duplicate_tasks() == {}
        assert state == reference.state
        assert told(outbox) == reference.told


def test_a_run_that_cannot_get_the_lock_stops_before_writing(
    fast: FastRetries, outbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with demo_portal() as handle:
        point_at(monkeypatch, handle, outbox)
        monkeypatch.setenv("LEADOPS_LOCK_TIMEOUT", "0.5")
        # The run keys its lock by the portal id HubSpot reports (account-info).
        holder = Settings(_env_file=None, hubspot_portal_id=str(handle.sandbox.config.portal_id))
        with portal_lock(holder), pytest.raises(RunLockTimeout) as raised:
            run()
        message = str(raised.value)
        assert "another leadops run on this portal" in message
        assert f"pid {os.getpid()}" in message and "nothing was written" in message
        assert handle.stats()["writes_total"] == 0


def test_runs_on_other_machines_take_turns_through_a_prefect_limit(
    fast: FastRetries, outbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With LEADOPS_RUN_LIMIT, a writing run also holds a slot of that Prefect global
    concurrency limit: a run elsewhere (another outbox, so no shared file lock) waits."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.concurrency.sync import concurrency

    name = f"leadops-run-{os.getpid()}"
    with get_client(sync_client=True) as client:
        client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=1))
    with demo_portal() as handle:
        point_at(monkeypatch, handle, outbox)
        monkeypatch.setenv("LEADOPS_RUN_LIMIT", name)
        monkeypatch.setenv("LEADOPS_LOCK_TIMEOUT", "1")
        with concurrency(name, occupy=1), pytest.raises(RunLockTimeout) as raised:
            run()  # "the other machine" holds the slot
        assert name in str(raised.value) and "nothing was written" in str(raised.value)
        assert handle.stats()["writes_total"] == 0
        # Slot free again: the run goes ahead. Prefect answers an acquisition it refuses
        # with a Retry-After that may outlast the 1 s that showed the wait (CI failed so).
        with get_client(sync_client=True) as client:
            wait_until(
                "the other machine's slot released",
                lambda: client.read_global_concurrency_limit_by_name(name).active_slots == 0,
            )
        monkeypatch.setenv("LEADOPS_LOCK_TIMEOUT", "60")
        assert run()["failed"] == 0
