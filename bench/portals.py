"""Many portals on one worker pool: wall time and API calls with 1, 2 and 4 portals at once.

    PREFECT_API_URL=http://127.0.0.1:4200/api python -m bench.portals [--contacts 300] [1 2 4]

Needs a running Prefect server (any database; the figures in BENCHMARKS.md are on
PostgreSQL). Serves one sandbox per portal (the demo seed, HubSpot Professional's limits:
190 requests per 10 s, 5 searches per second), deploys each as its own portal
(`leadops deploy --portal` on the pool `bench-portals`, schedules off), starts one process
worker on the pool, then for each count N starts N portals' cycles at once (fresh data, no
watermark) and reports the wall time from the first start to the last end, each run's own
time, and the HubSpot requests each portal received.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import TYPE_CHECKING

from rules.registry import RULES
from runstate.watermark import variable_name
from sandbox.server import SandboxHandle, running_sandbox

if TYPE_CHECKING:
    from prefect.client.orchestration import SyncPrefectClient

PROJECT_ROOT = Path(__file__).resolve().parent.parent
POOL = "bench-portals"
FIRST_PORTAL = 7001
RUN_TIMEOUT = 900


def _prefect_client() -> SyncPrefectClient:
    from prefect import get_client

    return get_client(sync_client=True)


def _deploy(sandboxes: dict[str, SandboxHandle], outbox: Path) -> None:
    """`leadops deploy --portal` for each sandbox, as ops would; then schedules off."""
    leadops = str(Path(sys.executable).with_name("leadops"))
    for portal, sandbox in sandboxes.items():
        env = {
            **os.environ,
            "HUBSPOT_ACCESS_TOKEN": sandbox.token,
            "HUBSPOT_BASE_URL": sandbox.url,
            "HUBSPOT_REQUESTS_PER_10S": "190",
            "OUTBOX_DIR": str(outbox),
        }
        command = [leadops, "deploy", "--pool", POOL, "--portal", portal, "--rotate-token"]
        subprocess.run(command, cwd=PROJECT_ROOT, env=env, check=True, capture_output=True)
        with _prefect_client() as client:
            for deployment in client.read_deployments():
                if deployment.name.endswith(f"-{portal}"):
                    for schedule in client.read_deployment_schedules(deployment.id):
                        client.update_deployment_schedule(deployment.id, schedule.id, active=False)


def _round(portals: list[str], sandboxes: dict[str, SandboxHandle], contacts: int) -> dict:
    """N cycles started at once; their wall time and each portal's HubSpot requests."""
    from prefect.exceptions import ObjectNotFound

    with _prefect_client() as client:
        for portal in portals:
            sandboxes[portal].reseed(contacts=contacts)
            sandboxes[portal].reset_stats()
            for rule in RULES:
                with contextlib.suppress(ObjectNotFound):
                    client.delete_variable_by_name(variable_name(portal, rule))
        runs = [
            client.create_flow_run_from_deployment(
                client.read_deployment_by_name(f"lifecycle-cycle/cycle-{portal}").id
            )
            for portal in portals
        ]
        deadline = time.monotonic() + RUN_TIMEOUT
        while True:
            done = [client.read_flow_run(run.id) for run in runs]
            if all(run.state and run.state.is_final() for run in done):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"runs not done within {RUN_TIMEOUT} s")
            time.sleep(1)
    failed = [run.name for run in done if not run.state.is_completed()]
    if failed:
        raise RuntimeError(f"runs did not complete: {failed}")
    wall = max(r.end_time for r in done) - min(r.start_time for r in done)
    return {
        "portals": len(portals),
        "wall_s": round(wall.total_seconds(), 1),
        "run_s": [round(r.total_run_time.total_seconds(), 1) for r in done],
        "requests_per_portal": [sandboxes[p].stats()["requests_total"] for p in portals],
        "429s": sum(sandboxes[p].stats()["rate_limited_total"] for p in portals),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("counts", nargs="*", type=int, default=[1, 2, 4])
    parser.add_argument("--contacts", type=int, default=300)
    args = parser.parse_args(argv)
    if not os.environ.get("PREFECT_API_URL"):
        sys.exit("set PREFECT_API_URL to a running Prefect server (prefect server start)")
    ids = [str(FIRST_PORTAL + i) for i in range(max(args.counts))]
    with contextlib.ExitStack() as stack, TemporaryDirectory(prefix="bench-portals-") as tmp:
        sandboxes = {}
        for portal in ids:
            sandbox = stack.enter_context(
                running_sandbox(
                    contacts=args.contacts,
                    token=f"token-{portal}",
                    requests_per_10s=190,
                    searches_per_second=5,
                )
            )
            sandbox.set_config(portal_id=int(portal))
            sandboxes[portal] = sandbox
        _deploy(sandboxes, Path(tmp) / "outbox")
        worker = subprocess.Popen(
            [str(Path(sys.executable).with_name("prefect")), "worker", "start", "--pool", POOL],
            cwd=PROJECT_ROOT,
            env={**os.environ, "PREFECT_WORKER_QUERY_SECONDS": "2"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            for count in args.counts:
                print(_round(ids[:count], sandboxes, args.contacts), flush=True)
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
