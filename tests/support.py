"""Helpers the tests share (importable as `support`; fixtures live in conftest.py)."""

from __future__ import annotations

import itertools
import json
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from config.settings import Settings
from sandbox.server import SandboxHandle

CASSETTES = Path(__file__).parent / "cassettes"
REPLAY_URL = "http://127.0.0.1:9"  # never contacted: cassettes answer every request
REPLAY_TOKEN = "replay-token"
# Cassettes are recorded against a sandbox whose clock starts here, and replayed with runs
# judged at the same instant, so every request body (dates included) matches.
RECORDING_NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
# Changes one cycle (all rules, in order) makes on the 300-contact demo seed, written from
# the seed's scenario table (sandbox/seed.py), never computed by the planners under test:
# promote 20 + 4 + 3 + 3 + 3 hot MQLs; new_lead the 15 SQLs without status; the ladder: open_deal
# 3 + 2, meeting_scheduled 3 + 3 moves and 3 record-outcome tasks, connected 5 + 8 + 5 + 3 + 3 +
# 3 + 3; attempted 15 + 10 + 5 (the 5 connected calls went to connected); followup 76 first-touch
# + 16 next-attempt tasks + 2 first-touch tasks for sla_new_recent; bad_timing 2 re-approach
# tasks; recycle 2 changes (stage, list) × (10 + 12): the 3 old-reply contacts are Connected.
SEED_CYCLE_COUNTS = {
    "promote": 33,
    "new_lead": 15,
    "open_deal": 5,
    "meeting_scheduled": 9,
    "connected": 30,
    "attempted": 30,
    "followup": 94,
    "bad_timing": 2,
    "recycle": 44,
}
# ---- qualification and escalation (issue #14) ------------------------------------------------
# The same cycle with config/scoring-example.yaml: qualify 3 lead_qualifies + 2
# subscriber_qualifies; promote also 3 mql_fit_engaged + 3 mql_top_label (39), which get
# first-touch tasks too (100). First-touch SLA breaches: the New leads with no outbound touch
# since they became New, days ago (new_forwarded 5, new_bounced 5, new_touched_before 8,
# new_with_open_task 6, new_with_done_task 4, new_with_other_task 4, ladder_reply_unprompted 2),
# plus sla_task_overdue 2 (New 1 h, first-touch task past due); sla_new_recent is within 4 h,
# and new_inbound_only's 8 replied leads are Connected by then.
SCORING_CONFIG = Path(__file__).parent.parent / "config" / "scoring-example.yaml"
SEED_SCORING_COUNTS = {**SEED_CYCLE_COUNTS, "qualify": 5, "promote": 39, "followup": 100}
SEED_SLA_BREACHES = 36


# Searches a second where a test sets no limit: the sandbox enforces none unless a test asks
# it to, and pacing at HubSpot's 5 a second made up about half the time of the suite's cycles.
# Settings refuse more than HubSpot's 5 (a user's setting must be), hence an unvalidated copy.
UNPACED_SEARCHES = 1000.0


def sandbox_settings(url: str, token: str, **overrides: object) -> Settings:
    """Settings pointing at a sandbox, fast timeouts, no .env file; searches unpaced unless
    `hubspot_searches_per_second` is given (for a sandbox that limits them)."""
    values: dict[str, object] = {
        "hubspot_access_token": token,
        "hubspot_base_url": url,
        "hubspot_portal_id": "12345",
        "hubspot_requests_per_10s": 1000,
        "hubspot_association_requests_per_10s": 1000,
        "hubspot_connect_timeout": 2,
        "hubspot_read_timeout": 5,
    }
    values.update(overrides)
    settings = Settings(_env_file=None, **values)
    if "hubspot_searches_per_second" in overrides:
        return settings
    return settings.model_copy(update={"hubspot_searches_per_second": UNPACED_SEARCHES})


_portal_ids = itertools.count(900_001)


def next_portal_id() -> int:
    return next(_portal_ids)


def portal_settings(settings: Settings, outbox: Path, portal_id: int | None = None) -> Settings:
    """The settings a test passes to flows (`lifecycle_cycle(params, settings)`) for a portal
    or sandbox, with the run's outbox.

    A sandbox gets its own portal id (what `/account-info/v3/details` answers, and flows key
    watermarks by: `next_portal_id()` unless given), so watermarks (Prefect Variables named by
    portal) of one test never narrow the windows of another in the shared Prefect harness.
    The settings name no portal id: flows read it from HubSpot (replaying cassettes, from
    the recorded answer).
    """
    assert settings.hubspot_access_token is not None
    if settings.hubspot_base_url != REPLAY_URL and settings.hubspot_base_url.startswith(
        "http://127.0.0.1"
    ):
        _sandbox_config(settings.hubspot_base_url, portal_id=portal_id or next_portal_id())
    return settings.model_copy(update={"hubspot_portal_id": None, "outbox_dir": outbox})


def use_portal(monkeypatch: pytest.MonkeyPatch, settings: Settings, outbox: Path) -> None:
    """Point what reads settings from the environment as a deployment does (the CLI, child
    processes) at a portal or sandbox, as `portal_settings` does for flows called directly."""
    settings = portal_settings(settings, outbox)
    assert settings.hubspot_access_token is not None
    monkeypatch.delenv("HUBSPOT_PORTAL_ID", raising=False)
    env = {
        "HUBSPOT_BASE_URL": settings.hubspot_base_url,
        "HUBSPOT_ACCESS_TOKEN": settings.hubspot_access_token.get_secret_value(),
        "HUBSPOT_REQUESTS_PER_10S": str(settings.hubspot_requests_per_10s),
        "HUBSPOT_ASSOCIATION_REQUESTS_PER_10S": str(settings.hubspot_association_requests_per_10s),
        "HUBSPOT_SEARCHES_PER_SECOND": str(min(settings.hubspot_searches_per_second, 5)),
        "HUBSPOT_MAX_RETRIES": str(settings.hubspot_max_retries),
        "HUBSPOT_READ_TIMEOUT": str(settings.hubspot_read_timeout),
        "OUTBOX_DIR": str(outbox),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def _sandbox_config(url: str, **config: object) -> None:
    request = urllib.request.Request(
        f"{url}/_sandbox/config",
        data=json.dumps(config).encode(),
        method="PUT",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30):
        pass


class FakeTime:
    """A clock that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def wait_until(what: str, check: Callable[[], object], timeout: float = 30.0) -> None:
    """Poll `check` until it is truthy; fail naming `what` after `timeout` s (generous: the
    condition normally holds within milliseconds, but CI machines can be slow)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout:g} s")
        time.sleep(0.01)


def sandbox_settled(handle: SandboxHandle) -> dict:
    """Wait until the sandbox has answered every request it received (a client that gave up
    on a slow answer leaves it working on); return its stats then."""
    stats: dict = {}

    def settled() -> bool:
        stats.update(handle.stats())
        answered = sum(stats["statuses"].values()) + stats["faults"].get("drop", 0)
        return answered >= stats["requests_total"]

    wait_until("the sandbox to answer every request in flight", settled)
    return stats
