"""Real servers for the deployment tests: processes in their own groups, PostgreSQL, polling.

`conftest.py` builds the session's Prefect server from these; the test modules start workers
and wait on runs with them.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import pytest
from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterId,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.client.schemas.objects import FlowRun, StateType

from leadops.deploy import PROJECT_ROOT

PREFECT = str(Path(sys.executable).with_name("prefect"))
RUN_TIMEOUT = 120.0
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(
    what: str,
    check: Callable[[], T],
    timeout: float,
    every: float = 0.5,
    context: Callable[[], str] = str,
) -> T:
    """Poll `check` until it returns something truthy; fail naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(every)
    pytest.fail(f"{what}: not within {timeout:.0f} s\n{context()}")


@dataclass
class Service:
    """A child process in its own process group, logging to a file."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    @classmethod
    def start(cls, name: str, command: list[str], env: dict[str, str], logs: Path) -> Service:
        log = logs / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                command,
                cwd=PROJECT_ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return cls(name, process, log)

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace").splitlines()[-lines:]
        return f"--- last lines of the {self.name} log ---\n" + "\n".join(text)

    def stop(self) -> None:
        """TERM the whole group, wait, then KILL what is left."""
        for sig, grace in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            if self.process.poll() is not None:
                return
            try:
                os.killpg(self.process.pid, sig)
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                continue
            except ProcessLookupError:
                return


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def running_worker(
    name: str, pool: str, env: dict[str, str], logs: Path, *options: str
) -> Iterator[Service]:
    """`prefect worker start --pool <pool>` until the block ends."""
    command = [PREFECT, "worker", "start", "--pool", pool, "--name", name, *options]
    service = Service.start(name, command, env, logs)
    try:
        yield service
    finally:
        service.stop()


def quiet(client: SyncPrefectClient, deployment_id: UUID) -> None:
    """Switch a deployment's schedules off and drop its scheduled runs."""
    for schedule in client.read_deployment_schedules(deployment_id):
        client.update_deployment_schedule(deployment_id, schedule.id, active=False)
    for run in scheduled_runs(client, deployment_id):
        client.delete_flow_run(run.id)


def scheduled_runs(client: SyncPrefectClient, deployment_id: UUID) -> list[FlowRun]:
    return client.read_flow_runs(
        deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])),
        flow_run_filter=FlowRunFilter(
            state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED]))
        ),
    )


def start_run(
    client: SyncPrefectClient, deployment: str, parameters: dict[str, Any], **job_variables: Any
) -> FlowRun:
    deployment_id = client.read_deployment_by_name(deployment).id
    return client.create_flow_run_from_deployment(
        deployment_id, parameters=parameters, job_variables=job_variables or None
    )


def until_final(
    client: SyncPrefectClient,
    run: FlowRun,
    context: Callable[[], str],
    timeout: float = RUN_TIMEOUT,
) -> FlowRun:
    """Wait until `run`'s state is final; returns it as it ended."""

    def final() -> FlowRun | None:
        current = client.read_flow_run(run.id)
        return current if current.state and current.state.is_final() else None

    return wait_for(f"{run.name} ({run.id})", final, timeout, 1, context)


def completed(client: SyncPrefectClient, run: FlowRun, context: Callable[[], str]) -> FlowRun:
    """A run that must complete; a failure shows the run's logs."""
    done = until_final(client, run, context)
    if not done.state.is_completed():
        only_this = LogFilter(flow_run_id=LogFilterFlowRunId(any_=[done.id]))
        logs = "\n".join(log.message for log in client.read_logs(log_filter=only_this)[-40:])
        pytest.fail(f"{done.name} ended {done.state.name}: {done.state.message}\n{logs}")
    return done


def two_past_windows() -> dict[str, Any]:
    """Backfill parameters: 60 to 20 days ago (when the demo seed's MQLs and SQLs last
    changed) in two 20-day windows, event-based rules only."""
    now = datetime.now(UTC)
    return {
        "start": (now - timedelta(days=60)).isoformat(),
        "end": (now - timedelta(days=20)).isoformat(),
        "window_hours": 20 * 24,
        "rules": ["promote", "new_lead"],
    }


# ---- PostgreSQL ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Database:
    """The Prefect server's database: a PostgreSQL URL, or None (SQLite) and why."""

    url: str | None
    why_not: str = ""


def _pg_bin() -> Path | None:
    """The folder of PostgreSQL's server programs (Debian keeps them off PATH)."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=_version)
    return Path(versions[-1]).parent if versions else None


def _version(path: str) -> float:
    try:
        return float(Path(path).parent.parent.name)
    except ValueError:
        return 0.0


@contextmanager
def postgres(logs: Path) -> Iterator[Database]:
    """A throwaway PostgreSQL on a free 127.0.0.1 port (trust auth, no fsync), or why not.

    PostgreSQL refuses to run as root: as root it runs as the `postgres` user (`runuser`).
    """
    bin_dir = _pg_bin()
    if bin_dir is None:
        yield Database(None, "no pg_ctl on PATH or under /usr/lib/postgresql/*/bin")
        return
    as_user: list[str] = []
    owner = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            yield Database(None, "running as root and there is no `postgres` user to run it as")
            return
        as_user = ["runuser", "-u", "postgres", "--"]
    root = Path(tempfile.mkdtemp(prefix="leadops-pg-"))  # pytest's tmp is root-only (0700)
    if owner:
        os.chown(root, owner.pw_uid, owner.pw_gid)
    data, port = root / "data", free_port()
    pg_ctl = [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data)]
    try:
        init = [*as_user, str(bin_dir / "initdb"), "-D", str(data), "-U", "prefect"]
        server_options = f"-h 127.0.0.1 -p {port} -k {root} -F"
        steps = (
            [*init, "--auth=trust", "-E", "UTF8", "--no-sync"],
            [*pg_ctl, "-o", server_options, "-l", str(root / "pg.log"), "-w", "-t", "60", "start"],
        )
        for step in steps:
            done = subprocess.run(step, capture_output=True, text=True, timeout=120)
            if done.returncode != 0:
                (logs / "postgres.log").write_text(done.stdout + done.stderr)
                yield Database(
                    None, f"{Path(step[len(as_user)]).name} failed: {done.stderr[-300:]}"
                )
                return
        yield Database(f"postgresql+asyncpg://prefect@127.0.0.1:{port}/postgres")
    finally:
        subprocess.run([*pg_ctl, "-m", "immediate", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)
