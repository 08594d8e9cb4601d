"""Shared fixtures: an in-process sandbox, the replay/record target for cassettes, settings."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import pytest
from vcr.util import read_body

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
# pytest-xdist's workers inherit COLUMNS=80, and rich fixes a console's width from COLUMNS when
# the console is made (at import): tests set the width they need per invocation instead.
os.environ.pop("COLUMNS", None)
os.environ.pop("LINES", None)

from config.settings import Settings
from sandbox.server import SandboxHandle, running_sandbox

from support import (
    CASSETTES,
    RECORDING_NOW,
    REPLAY_TOKEN,
    REPLAY_URL,
    sandbox_settings,
)


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    """A fresh sandbox with the demo seed, served on a free 127.0.0.1 port."""
    with running_sandbox(seed="demo") as handle:
        yield handle


@pytest.fixture
def empty_sandbox() -> Iterator[SandboxHandle]:
    with running_sandbox(seed="empty") as handle:
        yield handle


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, object]:
    return {
        "filter_headers": ["authorization", "cookie", "set-cookie"],
        # The sandbox's port changes between recordings: match on everything but the host.
        "match_on": ["method", "path", "query", "json_body"],
        "decode_compressed_response": True,
        "before_record_request": only_hubspot_calls,
        # Each recorded answer is given once (see `every_recorded_call_played`).
        "allow_playback_repeats": False,
    }


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    vcr.register_matcher("json_body", json_body)


def json_body(recorded: Any, made: Any) -> bool:
    """The same body, or the same JSON: vcrpy's `body` matcher, without the indented JSON diff
    it renders for every recorded request a request does not match (quadratic in a cassette's
    size: a cycle's replay spent most of its time there)."""
    first, second = read_body(recorded), read_body(made)
    if first == second:
        return True
    if not first or not second:
        return False
    try:
        return json.loads(first) == json.loads(second)
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def every_recorded_call_played(request: pytest.FixtureRequest, record_mode: str) -> Iterator[None]:
    """A replayed test must make every request its cassette recorded: a product that stopped
    making one (a dropped write, a skipped page) would otherwise replay cleanly."""
    cassette = request.getfixturevalue("vcr")  # pytest-recording's: the cassette, or None
    yield
    if cassette is None or record_mode != "none":
        return
    unplayed = [
        f"{req.method} {urlparse(req.uri).path}"
        for index, (req, _) in enumerate(cassette.data)
        if not cassette.play_counts[index]
    ]
    assert not unplayed, f"{len(unplayed)} recorded request(s) never made: {unplayed[:10]}"
    assert cassette.play_count == len(cassette.data)


def only_hubspot_calls(request):  # type: ignore[no-untyped-def]
    """Record HubSpot's CRM and account-info APIs only: Prefect's own API calls and sandbox
    admin pass through."""
    path = urlparse(request.uri).path
    return request if path.startswith(("/crm/", "/account-info/")) else None


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    return str(CASSETTES / request.module.__name__.split(".")[-1])


@pytest.fixture
def recorded_settings(request: pytest.FixtureRequest) -> Iterator[Settings]:
    """Settings for cassette tests.

    Replaying (the default): a dummy URL and token; vcrpy answers from `tests/cassettes`.
    Recording (`make cassettes`, i.e. `--record-mode=rewrite`): a fresh demo sandbox, or a
    real test portal when `LEADOPS_RECORD_BASE_URL` and `LEADOPS_RECORD_TOKEN` are set.
    """
    mode = request.config.getoption("--record-mode", default="none")
    if mode in (None, "none"):
        yield sandbox_settings(REPLAY_URL, REPLAY_TOKEN, hubspot_max_retries=0)
        return
    real_url, real_token = os.getenv("LEADOPS_RECORD_BASE_URL"), os.getenv("LEADOPS_RECORD_TOKEN")
    if real_url and real_token:
        yield sandbox_settings(
            real_url, real_token, hubspot_requests_per_10s=100, hubspot_searches_per_second=4
        )
        return
    with running_sandbox(seed="demo", now=RECORDING_NOW) as handle:
        yield sandbox_settings(handle.url, handle.token)


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect API for the whole session (it costs ~10 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
