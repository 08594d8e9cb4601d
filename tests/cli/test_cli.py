"""The `leadops` command as a person uses it: help, clear errors, check and run."""

from __future__ import annotations

from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL, temporary_settings
from typer.testing import CliRunner

from leadops.cli import app
from sandbox.server import SandboxHandle

from support import sandbox_settings, use_portal

runner = CliRunner(env={"COLUMNS": "200"})  # wide enough that table cells do not wrap


@pytest.fixture
def portal(sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    use_portal(monkeypatch, sandbox_settings(sandbox.url, sandbox.token), tmp_path / "outbox")
    return sandbox


@pytest.mark.parametrize("command", [[], ["run"], ["check"], ["sandbox"], ["demo"], ["bench"]])
def test_every_command_has_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_unknown_rule_names_the_choices(portal: SandboxHandle) -> None:
    result = runner.invoke(app, ["run", "promot"])
    assert result.exit_code == 2
    assert "unknown rule 'promot'" in result.output
    assert "promote" in result.output


def test_missing_token_says_how_to_provide_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUBSPOT_ACCESS_TOKEN", raising=False)
    monkeypatch.delenv("HUBSPOT_TOKEN_BLOCK", raising=False)
    monkeypatch.chdir(Path(__file__).parent)  # no .env here
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 2
    assert "HUBSPOT_ACCESS_TOKEN is not set" in result.output


def test_bad_config_is_reported_before_touching_the_portal(
    portal: SandboxHandle, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "rules.yaml"
    config.write_text("promote:\n  threshold: -500000\n")
    monkeypatch.setenv("LIFECYCLE_CONFIG", str(config))
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 2
    assert "promote.threshold: -500000 is not allowed" in result.output
    assert portal.stats()["requests_total"] == 0


def test_check_reports_a_matching_portal(portal: SandboxHandle) -> None:
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 0, result.output
    assert "Config matches the portal." in result.output
    assert portal.stats()["writes_total"] == 0


def test_check_names_a_lead_status_the_portal_lacks(
    portal: SandboxHandle, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "rules.yaml"
    config.write_text("lead_status:\n  unqualified: NOT_A_FIT\n")
    monkeypatch.setenv("LIFECYCLE_CONFIG", str(config))
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 1
    assert "'NOT_A_FIT' is not an option of hs_lead_status" in result.output


@pytest.mark.usefixtures("prefect_harness")
def test_dry_run_prints_the_plan_and_writes_nothing(portal: SandboxHandle) -> None:
    result = runner.invoke(app, ["run", "promote", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "dry run: nothing written" in result.output
    assert "promote" in result.output and "33" in result.output
    assert portal.stats()["writes_total"] == 0


def test_an_inverted_window_is_refused(portal: SandboxHandle) -> None:
    result = runner.invoke(
        app, ["run", "--since", "2026-11-20T00:00:00", "--until", "2026-11-19T00:00:00"]
    )
    assert result.exit_code == 2
    assert "must be after since" in result.output


def test_check_for_a_portal_expects_the_token_to_be_that_portals(portal: SandboxHandle) -> None:
    portal.set_config(portal_id=12345)
    with temporary_settings(restore_defaults={PREFECT_API_URL}):  # not deployed: local settings
        matching = runner.invoke(app, ["check", "--portal", "12345"])
        other = runner.invoke(app, ["check", "--portal", "999"])
        not_an_id = runner.invoke(app, ["check", "--portal", "acme"])
    assert matching.exit_code == 0, matching.output
    assert "portal 12345 (local settings (not deployed yet)" in matching.output
    assert "Config matches the portal." in matching.output
    assert other.exit_code == 1
    assert "HUBSPOT_PORTAL_ID is '999' but HubSpot says the token's portal has '12345'" in (
        " ".join(other.output.split())
    )
    assert not_an_id.exit_code == 2
    assert "--portal 'acme' is not a HubSpot portal id" in not_an_id.output
    assert portal.stats()["writes_total"] == 0


def test_check_takes_another_rules_file(portal: SandboxHandle, tmp_path: Path) -> None:
    config = tmp_path / "acme.yaml"
    config.write_text("lead_status:\n  unqualified: NOT_A_FIT\n")
    result = runner.invoke(app, ["check", "--rules", str(config)])
    assert result.exit_code == 1
    assert "'NOT_A_FIT' is not an option of hs_lead_status" in result.output
    missing = runner.invoke(app, ["check", "--rules", str(tmp_path / "nowhere.yaml")])
    assert missing.exit_code == 2
    assert "cannot read file" in missing.output


def test_check_for_a_deployed_portal_uses_the_rules_its_deployment_records(
    portal: SandboxHandle, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    portal.set_config(portal_id=12345)
    recorded = tmp_path / "acme.yaml"
    recorded.write_text("lead_status:\n  unqualified: NOT_A_FIT\n")
    deployed = {"HUBSPOT_BASE_URL": portal.url, "LIFECYCLE_CONFIG": str(recorded)}
    monkeypatch.setattr("leadops.portals.deployed_env", lambda portal_id: deployed)
    result = runner.invoke(app, ["check", "--portal", "12345"])
    assert result.exit_code == 1
    assert "portal 12345 (deployment lifecycle-cycle/cycle-12345" in result.output
    assert "'NOT_A_FIT' is not an option of hs_lead_status" in result.output
    assert f"fix {recorded}" in " ".join(result.output.split())
