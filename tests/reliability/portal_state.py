"""Helpers of the reliability tests: fresh demo portals, fast retries, clean references.

What is compared — a sandbox's end state (`snapshot`) and the digest lines in an outbox
(`told`) — lives in `bench/state.py`, shared with the soak (`python -m bench.soak`).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bench.state import PortalState, digest_items, outbox_files, snapshot, told
from config.settings import Settings
from flows import engine
from flows.cycle import lifecycle_cycle
from flows.params import RunParams
from gateway.client import HubSpotGateway
from sandbox.server import SandboxHandle, running_sandbox

from support import RECORDING_NOW, SEED_CYCLE_COUNTS, sandbox_settings, use_portal

NOW = RECORDING_NOW  # the sandbox's clock starts here and every run judges at this instant
PARAMS = RunParams(until=NOW)
CLEAN_COUNTS = SEED_CYCLE_COUNTS
__all__ = ["PortalState", "digest_items", "outbox_files", "snapshot", "told"]


@contextmanager
def demo_portal(**kwargs: Any) -> Iterator[SandboxHandle]:
    """A fresh demo sandbox whose clock starts at NOW (identical data every time)."""
    with running_sandbox(seed="demo", now=NOW, **kwargs) as handle:
        yield handle


class FastRetries:
    """Make every gateway the flows build sleep at most 5 ms (pacing and backoff), and keep
    the gateways so tests can read their retry counters."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.gateways: list[HubSpotGateway] = []
        self.slept: list[float] = []
        monkeypatch.setattr(engine, "gateway_for", self._build)

    def _sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        time.sleep(min(seconds, 0.005))

    def _build(self, settings: Settings) -> HubSpotGateway:
        gateway = HubSpotGateway(settings, sleep=self._sleep)
        self.gateways.append(gateway)
        return gateway

    def retries(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for gateway in self.gateways:
            total.update(gateway.retries)
        return total


def point_at(
    monkeypatch: pytest.MonkeyPatch, handle: SandboxHandle, outbox: Path, **overrides: Any
) -> Settings:
    """Point cycles (here and in child processes, which read settings from the environment
    as a deployment does) at this sandbox and outbox."""
    overrides.setdefault("hubspot_max_retries", 10)
    settings = sandbox_settings(handle.url, handle.token, **overrides)
    use_portal(monkeypatch, settings, outbox)
    return settings


def run(params: RunParams = PARAMS) -> dict:
    return lifecycle_cycle(params)


def applied(summary: dict) -> dict[str, int]:
    return {rule: c["applied"] for rule, c in summary["rules"].items() if c["applied"]}


@dataclass(frozen=True)
class Reference:
    """A clean cycle's end state and digest lines on a fresh demo portal."""

    state: PortalState
    told: Counter[tuple[str, ...]]
    summary: dict


def clean_reference(monkeypatch: pytest.MonkeyPatch, outbox: Path) -> Reference:
    with demo_portal() as handle:
        point_at(monkeypatch, handle, outbox)
        summary = run()
        return Reference(snapshot(handle), told(outbox), summary)


def run_state(params: RunParams = PARAMS) -> Any:
    """Run a cycle and return its final Prefect state (Failed ones too) instead of raising."""
    return lifecycle_cycle(params, return_state=True)


def artifacts_of(flow_run_id: Any) -> list[Any]:
    """The run's artifacts as the Prefect API stores them (tables and markdown)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        return client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )


def api_logs_of(flow_run_id: Any) -> list[str]:
    """Every log line the run (and its tasks) sent to the Prefect API."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=10)
    with get_client(sync_client=True) as client:
        logs = client.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])), limit=200
        )
        offset = len(logs)
        while True:  # the API pages at 200
            more = client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])),
                limit=200,
                offset=offset,
            )
            if not more:
                break
            logs += more
            offset += len(more)
    return [log.message for log in logs]
