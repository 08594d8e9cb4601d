"""`leadops run` failing as a person sees it, in a real terminal process: one clear message
and a documented exit code, not hundreds of lines of traceback (`-v` keeps it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL

from sandbox.server import SandboxHandle

from support import sandbox_settings, use_portal

pytestmark = pytest.mark.usefixtures("prefect_harness")

ROOT = Path(__file__).resolve().parents[2]
LEADOPS = str(Path(sys.executable).with_name("leadops"))
MAX_LINES = 8  # the error, and a few of Prefect's one-line state messages


def leadops(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()), "COLUMNS": "120"}
    return subprocess.run(
        [LEADOPS, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def portal(sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    use_portal(monkeypatch, sandbox_settings(sandbox.url, sandbox.token), tmp_path / "outbox")
    monkeypatch.setenv("HUBSPOT_MAX_RETRIES", "1")
    return sandbox


@pytest.mark.parametrize(
    "command",
    [("run", "promote"), ("report", "--no-email"), ("backfill", "--start", "2026-11-20")],
    ids=["run", "report", "backfill"],
)
def test_a_wrong_token_is_one_clear_message(
    portal: SandboxHandle, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-na1-00000000-wrong")
    done = leadops(*command)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert len(output.strip().splitlines()) <= MAX_LINES, output
    assert "HubSpot rejected the access token" in output and "401" in output
    assert "Traceback" not in output


def test_an_unreachable_url_is_one_clear_message(
    portal: SandboxHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUBSPOT_BASE_URL", "http://127.0.0.1:9")  # nothing listens there
    done = leadops("run", "promote")
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert len(output.strip().splitlines()) <= MAX_LINES, output
    assert "no answer from HubSpot" in output and "Connection refused" in output
    assert "Traceback" not in output


def test_verbose_keeps_the_traceback(
    portal: SandboxHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-na1-00000000-wrong")
    done = leadops("-v", "run", "promote")
    assert done.returncode == 1
    assert "Traceback" in done.stdout + done.stderr
