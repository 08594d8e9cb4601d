"""A longer soak: faulty cycles on a bigger seed, each compared with a clean cycle.

    python -m bench.soak --contacts 2000 --rounds 5

Per round: two identical fresh sandboxes (demo seed, N contacts, the same fixed clock); a clean
cycle on one; on the other a cycle with mixed faults from a round-specific RNG seed — 429s of
both policies, 502/503/504, dropped connections, answers slower than the read timeout — then,
if anything failed, one rerun without faults. A round passes when the contacts' stages and
lead statuses, the leadops tasks, the list memberships and the owner digest lines are equal
(`bench/state.py`). Retry backoff is capped at 20 ms so the soak measures behaviour, not
waiting. Exit status 1 when any round differs. `make test` runs the same checks on the
300-contact seed (`tests/reliability`).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def faults_for(round_no: int) -> dict[str, Any]:
    rng = random.Random(round_no)
    return {
        "ten_secondly": round(rng.uniform(0.1, 0.2), 2),
        "secondly": round(rng.uniform(0.05, 0.15), 2),
        "server_errors": round(rng.uniform(0.03, 0.08), 2),
        "drop": round(rng.uniform(0.01, 0.04), 2),
        "latency_ms": 400,
        "slow": round(rng.uniform(0.01, 0.04), 2),
        "seed": round_no,
    }


def _fast_gateways(retries: Counter[str]) -> Any:
    """Make the flows' gateways cap every sleep at 20 ms; count their retries."""
    from flows import engine
    from gateway.client import HubSpotGateway

    built: list[HubSpotGateway] = []

    def sleep(seconds: float) -> None:
        time.sleep(min(seconds, 0.02))

    def gateway_for(settings: Any) -> HubSpotGateway:
        gateway = HubSpotGateway(settings, sleep=sleep)
        built.append(gateway)
        return gateway

    original = engine.gateway_for
    engine.gateway_for = gateway_for

    def restore() -> None:
        engine.gateway_for = original
        for gateway in built:
            retries.update(gateway.retries)

    return restore


def _cycle(handle: Any, outbox: Path, portal_id: str, retries: Counter[str]) -> dict:
    from bench.state import bench_settings
    from flows.cycle import lifecycle_cycle
    from flows.params import RunParams

    handle.set_config(portal_id=int(portal_id))  # flows read it from account-info
    settings = bench_settings(handle, outbox, hubspot_max_retries=10, hubspot_read_timeout=0.25)
    restore = _fast_gateways(retries)
    try:
        return lifecycle_cycle(RunParams(until=NOW), settings)
    finally:
        restore()


def soak_round(round_no: int, contacts: int, workdir: Path) -> dict[str, Any]:
    """One round: clean cycle vs faulty cycle (+ at most one rerun); the comparison."""
    from bench.state import snapshot, told
    from sandbox.server import running_sandbox

    faults = faults_for(round_no)
    retries: Counter[str] = Counter()
    started = time.monotonic()
    with running_sandbox(seed="demo", contacts=contacts, now=NOW) as clean:
        _cycle(clean, workdir / f"clean-{round_no}", f"7{round_no:04d}1", Counter())
        expected_state, expected_told = snapshot(clean), told(workdir / f"clean-{round_no}")
    outbox = workdir / f"faulty-{round_no}"
    with running_sandbox(seed="demo", contacts=contacts, now=NOW) as faulty:
        faulty.set_faults(**faults)
        first = _cycle(faulty, outbox, f"7{round_no:04d}2", retries)
        stats = faulty.stats()
        time.sleep(0.5)  # requests the gateway stopped waiting for still land
        faulty.set_faults()
        reruns = 0
        if first["failed"]:
            reruns = 1
            _cycle(faulty, outbox, f"7{round_no:04d}2", retries)
        state, said = snapshot(faulty), told(outbox)
    return {
        "round": round_no,
        "contacts": contacts,
        "faults": faults,
        "requests": stats["requests_total"],
        "injected": stats["faults"],
        "retries": dict(retries),
        "failed_first_run": first["failed"],
        "reruns": reruns,
        "seconds": round(time.monotonic() - started, 1),
        "state_equal": state == expected_state,
        "duplicate_tasks": len(state.duplicate_tasks()),
        "digest_lines_equal": said == expected_told,
        "digest_lines": sum(said.values()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    from prefect.testing.utilities import prefect_test_harness

    results = []
    with tempfile.TemporaryDirectory() as tmp, prefect_test_harness(server_startup_timeout=120):
        for round_no in range(1, args.rounds + 1):
            result = soak_round(round_no, args.contacts, Path(tmp))
            results.append(result)
            verdict = "ok" if _passed(result) else "DIFFERENT"
            print(
                f"round {round_no}: {verdict}; {result['requests']} requests, injected "
                f"{result['injected']}, retries {sum(result['retries'].values())}, "
                f"{result['failed_first_run']} failed in the first run, "
                f"{result['reruns']} rerun(s), {result['digest_lines']} digest lines, "
                f"{result['seconds']} s",
                flush=True,
            )
    return 0 if all(_passed(r) for r in results) else 1


def _passed(result: dict[str, Any]) -> bool:
    return result["state_equal"] and result["digest_lines_equal"] and not result["duplicate_tasks"]


if __name__ == "__main__":
    sys.exit(main())
