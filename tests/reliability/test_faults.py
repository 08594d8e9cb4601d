"""Faults injected by the sandbox: the cycle ends in the same state as a clean run, and every
applied change is told to its owner exactly once (after at most one rerun, where noted).

Each scenario runs a full demo cycle (300 contacts) against a fresh sandbox with a seeded
fault RNG, with retries made fast (backoff and pacing sleep at most 5 ms).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from portal_state import (
    CLEAN_COUNTS,
    CLEAN_TASKS,
    NOW,
    FastRetries,
    Reference,
    applied,
    demo_portal,
    point_at,
    run,
    snapshot,
    told,
)

from flows import engine
from flows.params import RunParams
from sandbox.server import SandboxHandle

from support import sandbox_settled

pytestmark = pytest.mark.usefixtures("prefect_harness")


def assert_same_as_clean(handle: SandboxHandle, outbox: Path, reference: Reference) -> None:
    state = snapshot(handle)
    assert state.duplicate_tasks() == {}
    assert state.contacts == reference.state.contacts
    assert state.tasks == reference.state.tasks
    assert state.lists == reference.state.lists
    assert told(outbox) == reference.told  # nothing lost, nothing told twice


SLOW_ENDPOINTS = ["/search", "batch/read", "batch/create", "/owners", "/properties", "/lists"]


def failed_per_rule(summary: dict) -> dict[str, int]:
    return {rule: c["failed"] for rule, c in summary["rules"].items() if c["failed"]}


def assert_only_creates_in_doubt_failed(summary: dict) -> None:
    """Only creates whose fate was unknown failed (task batches, a list), and the stage
    moves held back with their list: nothing a retry could have settled."""
    assert set(failed_per_rule(summary)) <= {*CLEAN_TASKS, "recycle"}
    for failure in summary["failures"]:
        error = failure["error"]
        assert "not retried" in error or "adding the contact to its list failed" in error, error


def test_the_clean_reference_is_the_seed_scenario(reference: Reference) -> None:
    assert applied(reference.summary) == CLEAN_COUNTS
    assert reference.summary["failed"] == 0
    assert sum(reference.told.values()) > 0
    assert max(reference.told.values()) == 1


@pytest.mark.parametrize(
    ("policy", "share", "label"),
    [
        ("ten_secondly", 0.3, "429 TEN_SECONDLY_ROLLING"),
        ("secondly", 0.3, "429 SECONDLY"),
    ],
)
def test_30_percent_429s_change_nothing_in_the_outcome(
    fast: FastRetries,
    reference: Reference,
    outbox: Path,
    monkeypatch: pytest.MonkeyPatch,
    policy: str,
    share: float,
    label: str,
) -> None:
    with demo_portal() as handle:
        point_at(monkeypatch, handle, outbox)
        handle.set_faults(**{policy: share}, seed=7)
        summary = run()
        stats = handle.stats()
        handle.set_faults()
        assert stats["rate_limited"][policy.upper().replace("TEN_SECONDLY", "TEN_SECONDLY_ROLLING")]
        assert stats["rate_limited_total"] >= 0.2 * stats["requests_total"]
        assert fast.retries()[label] == stats["rate_limited_total"]
        assert summary["failed"] == 0 and applied(summary) == CLEAN_COUNTS
        assert_same_as_clean(handle, outbox, reference)


@pytest.mark.parametrize(
    "faults",
    [
        {"server_errors": 0.25, "seed": 11},  # a quarter of all requests, everywhere
        {"server_errors": 1.0, "endpoints": ["tasks/batch/create"]},  # a burst on task creates
    ],
    ids=["25pct-everywhere", "burst-on-task-creates"],
)
def test_bursts_of_502_503_504_need_at_most_one_rerun(
    fast: FastRetries,
    reference: Reference,
    outbox: Path,
    monkeypatch: pytest.MonkeyPatch,
    faults: dict,
) -> None:
    with demo_portal() as handle:
        point_at(monkeypatch, handle, outbox)
        handle.set_faults(**faults)
        first = run()
        stats = handle.stats()
        handle.set_faults()
        assert set(stats["statuses"]) & {"502", "503", "504"}
        # Reads and updates are retried; a task batch answered 5xx is not (HubSpot may have
        # created it), so its tasks are reported failed and the rerun creates them.
        assert_only_creates_in_doubt_failed(first)
        if "endpoints" in faults:
            assert first["failed"] == sum(CLEAN_TASKS.values())
        else:
            assert {"502", "503", "504"} <= set(fast.retries())
        second = run()
        assert second["failed"] == 0
        assert applied(second) == failed_per_rule(first)
        assert_same_as_clean(handle, outbox, reference)


@pytest.mark.parametrize(
    "faults",
    [
        {"slow": 0.15, "endpoints": SLOW_ENDPOINTS, "seed": 3},
        {"slow": 1.0, "endpoints": ["tasks/batch/create"]},
    ],
    ids=["15pct-of-reads-and-creates", "every-task-create"],
)
def test_responses_slower_than_the_read_timeout_need_at_most_one_rerun(
    fast: FastRetries,
    reference: Reference,
    outbox: Path,
    monkeypatch: pytest.MonkeyPatch,
    faults: dict,
) -> None:
    """Answers after the read timeout. Reads are retried; a timed-out create is not resent
    (HubSpot makes it anyway, later): it is reported failed, and the next run finds it,
    creates no second one and tells the owner about it then."""
    with demo_portal() as handle:
        point_at(monkeypatch, handle, outbox, hubspot_read_timeout=0.2)
        handle.set_faults(latency_ms=500, **faults)
        first = run()
        sandbox_settled(handle)  # it finishes what the gateway stopped waiting for
        handle.set_faults()
        assert_only_creates_in_doubt_failed(first)
        second = run()
        assert second["failed"] == 0
        if faults["slow"] < 1.0:
            assert fast.retries()["ReadTimeoutError"] > 0  # reads were retried
        else:  # every task was made by HubSpot after the timeout
            assert failed_per_rule(first) == CLEAN_TASKS
            assert applied(second) == {}  # found, not created again ...
            told_again = f"told {sum(CLEAN_TASKS.values())} change(s)"
            assert told_again in " ".join(second["notes"])
        assert_same_as_clean(handle, outbox, reference)  # ... and told once


def test_hubspot_never_answering_in_time_stops_the_run_before_any_write(
    fast: FastRetries, reference: Reference, outbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with demo_portal() as handle:
        point_at(monkeypatch, handle, outbox, hubspot_read_timeout=0.2)
        handle.set_faults(latency_ms=400, endpoints=["/crm/v3/owners"])  # every owners read
        with pytest.raises(Exception, match="ReadTimeoutError") as raised:
            run()
        handle.set_faults()
        assert "no answer from HubSpot" in str(raised.value)
        assert "gave up after 11 attempts" in str(raised.value)
        assert handle.stats()["writes_total"] == 0
        point_at(monkeypatch, handle, outbox)  # HubSpot answers again: the default timeout
        summary = run()
        assert summary["failed"] == 0 and applied(summary) == CLEAN_COUNTS
        assert_same_as_clean(handle, outbox, reference)


def test_dropped_connections_are_retried(
    fast: FastRetries, reference: Reference, outbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with demo_portal() as handle:
        point_at(monkeypatch, handle, outbox)
        handle.set_faults(drop=0.2, seed=5)
        first = run()
        stats = handle.stats()
        handle.set_faults()
        assert stats["faults"]["drop"] > 0
        assert fast.retries()["ProtocolError"] > 0
        assert_only_creates_in_doubt_failed(first)
        second = run()
        assert second["failed"] == 0
        assert applied(second) == failed_per_rule(first)
        assert_same_as_clean(handle, outbox, reference)


@pytest.mark.parametrize("mode", ["207", "400"])
def test_batches_with_bad_ids_apply_the_good_records(
    fast: FastRetries, outbox: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    """Contacts deleted between the search and the write: HubSpot answers 207 with per-record
    errors (or, unverified, 400 for the whole batch, which the gateway splits)."""
    gone = ["1001", "1002", "1003"]  # promotable MQLs in the demo seed
    with demo_portal() as handle:
        point_at(monkeypatch, handle, outbox)
        handle.set_config(bad_id_mode=mode)
        real_apply = engine.apply_changes

        def delete_then_apply(gateway, changes, **kwargs):  # type: ignore[no-untyped-def]
            for contact_id in gone:
                delete_contact(handle, contact_id)
            return real_apply(gateway, changes, **kwargs)

        monkeypatch.setattr(engine, "apply_changes", delete_then_apply)
        summary = run(RunParams(until=NOW, rules=["promote"], notify=False))
        assert {f["contact_id"] for f in summary["failures"]} == set(gone)
        assert all(f["error"] for f in summary["failures"])
        assert summary["rules"]["promote"]["applied"] == CLEAN_COUNTS["promote"] - len(gone)
        assert handle.stats()["statuses"].get(mode)


def delete_contact(handle: SandboxHandle, contact_id: str) -> None:
    table = handle.store.tables["contacts"]
    if table.records.pop(int(contact_id), None) is not None:
        table.ids.remove(int(contact_id))
        table.version += 1
