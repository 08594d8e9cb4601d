"""What the reliability tests compare: a sandbox's end state and what owners were told.

`snapshot(handle)` is the portal as HubSpot would show it (every contact's stage and lead
status, leadops tasks per contact, list memberships); `told(outbox)` is every digest line in
the outbox (pending and sent) as a Counter, so a line told twice or never shows up as a
difference against a clean run.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest

from config.settings import Settings
from flows import engine
from flows.cycle import lifecycle_cycle
from flows.params import RunParams
from sandbox.server import SandboxHandle, running_sandbox
from tasks.gateway import HubSpotGateway

from support import RECORDING_NOW, sandbox_settings, use_portal

NOW = RECORDING_NOW  # the sandbox's clock starts here and every run judges at this instant
PARAMS = RunParams(until=NOW)
CLEAN_COUNTS = {"promote": 33, "new_lead": 15, "attempted": 35, "followup": 98, "recycle": 50}
_SECTION = re.compile(r"^([A-Z][A-Z ]+) \((\d+)\)$")
_PORTAL_IN_URL = re.compile(r"(/contacts/)\d+(/record/)")


@dataclass(frozen=True)
class PortalState:
    contacts: dict[str, tuple[str | None, str | None]]  # id -> (lifecyclestage, hs_lead_status)
    tasks: dict[str, tuple[tuple[str, ...], ...]]  # contact id -> its leadops tasks, sorted
    lists: dict[str, tuple[int, ...]]  # list name -> sorted member ids

    def duplicate_tasks(self) -> dict[str, list[tuple[str, ...]]]:
        return {
            c: [t for t, n in Counter(tasks).items() if n > 1]
            for c, tasks in self.tasks.items()
            if len(set(tasks)) != len(tasks)
        }


def snapshot(handle: SandboxHandle) -> PortalState:
    store = handle.store
    contacts = {
        str(r.id): (r.props.get("lifecyclestage") or None, r.props.get("hs_lead_status") or None)
        for r in store.tables["contacts"].records.values()
    }
    tasks: dict[str, list[tuple[str, ...]]] = {}
    for task in store.tables["tasks"].records.values():
        body = task.props.get("hs_task_body") or ""
        if "[leadops:" not in body:
            continue
        row = (
            body,
            task.props.get("hs_task_subject") or "",
            task.props.get("hs_timestamp") or "",
            task.props.get("hs_task_status") or "",
            task.props.get("hubspot_owner_id") or "",
        )
        for contact_id in store.associated("tasks", task.id, "contacts"):
            tasks.setdefault(str(contact_id), []).append(row)
    lists = {lst.name: tuple(sorted(lst.members)) for lst in store.lists.values()}
    return PortalState(contacts, {c: tuple(sorted(t)) for c, t in tasks.items()}, lists)


def digest_items(path: Path) -> list[tuple[str, ...]]:
    """(recipient, section, name, detail lines…, record URL) for each line of one digest."""
    msg = message_from_bytes(path.read_bytes(), policy=policy.default)
    recipient = str(msg["To"])
    text = msg.get_body(("plain",)).get_content()
    items: list[tuple[str, ...]] = []
    section, current = "", None
    for line in text.splitlines():
        header = _SECTION.match(line)
        if header:
            section = header.group(1)
            continue
        if line.startswith("- "):
            if current:
                items.append(tuple(current))
            current = [recipient, section, line[2:]]
        elif line.startswith("  ") and current is not None:
            # Each test's portal has its own id (tests/support.py): compare records, not ids.
            current.append(_PORTAL_IN_URL.sub(r"\1<portal>\2", line.strip()))
        elif current is not None:
            items.append(tuple(current))
            current = None
    if current:
        items.append(tuple(current))
    return items


def outbox_files(outbox: Path) -> list[Path]:
    return sorted(p for sub in ("pending", "sent") for p in (outbox / sub).glob("*.eml"))


def told(outbox: Path) -> Counter[tuple[str, ...]]:
    """Every digest line in the outbox; a Counter, so duplicates count twice."""
    found: Counter[tuple[str, ...]] = Counter()
    for path in outbox_files(outbox):
        if ".digest." in path.name:
            found.update(digest_items(path))
    return found


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
    """Flows read settings from the environment: point them at this sandbox and outbox."""
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
