"""prefect.yaml and `leadops deploy` without a server: what ops get and what they are told."""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path

import pytest
import typer
from prefect.settings import PREFECT_API_URL, temporary_settings
from pydantic import ValidationError
from typer.testing import CliRunner

from config.settings import Settings
from flows.artifact_keys import artifact_key
from flows.params import RunParams
from leadops.deploy import (
    PROJECT_ROOT,
    DeployError,
    DeployReport,
    DeployTarget,
    default_schedules,
    deploy_command,
    keep_paused,
    load_project,
    only_entries,
    prefect_api_url,
    rate_budget,
    render_project,
    target_for,
    to_schedule,
)

PROJECT = load_project()
ENTRIES = {entry["name"]: entry for entry in PROJECT["deployments"]}


def test_one_deployment_for_the_cycle_each_rule_and_the_ops_flows() -> None:
    assert set(ENTRIES) == {
        "cycle",
        "qualify",
        "promote",
        "new-lead",
        "open-deal",
        "meeting-scheduled",
        "connected",
        "attempted",
        "followup",
        "bad-timing",
        "recycle",
        "reconcile",
        "backfill",
        "lead-report",
        "undo",
    }


def module_level_names(source: str) -> set[str]:
    """Functions defined and names assigned at a module's top level."""
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_entrypoint_is_a_flow_under_flows(name: str) -> None:
    path, attribute = ENTRIES[name]["entrypoint"].split(":")
    assert path.startswith("flows/")
    source = (PROJECT_ROOT / path).read_text()
    assert attribute in module_level_names(source), f"{path} does not define {attribute}"


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_every_deployment_queues_catch_up_runs_on_the_leadops_pool(name: str) -> None:
    entry = ENTRIES[name]
    assert entry["concurrency_limit"] == {"limit": 1, "collision_strategy": "ENQUEUE"}
    assert entry["work_pool"]["name"] == "leadops"
    assert "leadops" in entry["tags"]
    env = entry["work_pool"]["job_variables"]["env"]
    assert env == {"HUBSPOT_TOKEN_BLOCK": "hubspot-token", "HUBSPOT_GLOBAL_LIMIT": "hubspot"}


def test_no_entry_carries_schedules_so_redeploys_keep_ui_edits() -> None:
    assert all("schedules" not in e and "schedule" not in e for e in PROJECT["deployments"])


def test_the_cycle_runs_every_15_minutes_the_reconcile_daily_the_report_weekly() -> None:
    defaults = default_schedules(PROJECT, DeployTarget())
    assert defaults == {
        "cycle": [{"cron": "*/15 * * * *", "timezone": "UTC"}],
        "reconcile": [{"cron": "30 3 * * *", "timezone": "UTC"}],
        "lead-report": [{"cron": "0 7 * * 1", "timezone": "UTC"}],
    }
    schedule = to_schedule(defaults["cycle"][0])
    assert (schedule.cron, schedule.timezone) == ("*/15 * * * *", "UTC")


def test_default_run_parameters_are_valid_run_params() -> None:
    for name, entry in ENTRIES.items():
        if name not in ("backfill", "lead-report", "undo"):
            params = RunParams(**entry["parameters"]["params"])
            assert not params.dry_run and params.notify and params.since is None
    assert "parameters" not in ENTRIES["backfill"]  # start/end are asked for at run time
    assert "parameters" not in ENTRIES["lead-report"]  # its defaults: the last lookback_days
    assert "parameters" not in ENTRIES["undo"]  # the run to undo is asked for at run time


def test_interval_schedules_and_bad_ones() -> None:
    assert to_schedule({"interval": 900}).interval == timedelta(minutes=15)
    with pytest.raises(DeployError, match="cron` or `interval"):
        to_schedule({"rrule": "FREQ=DAILY"})


def test_rendering_for_a_portal_suffixes_names_and_sets_its_env() -> None:
    target = DeployTarget(
        pool="agency",
        portal="777",
        token_block="hubspot-token-777",
        global_limit="hubspot-777",
        run_limit="leadops-run-777",
        env={"HUBSPOT_PORTAL_ID": "777"},
    )
    rendered = render_project(PROJECT, target)
    cycle = next(e for e in rendered["deployments"] if e["name"] == "cycle-777")
    assert cycle["work_pool"]["name"] == "agency"
    assert cycle["tags"] == ["leadops", "cycle", "portal-777"]
    assert cycle["work_pool"]["job_variables"]["env"] == {
        "HUBSPOT_TOKEN_BLOCK": "hubspot-token-777",
        "HUBSPOT_GLOBAL_LIMIT": "hubspot-777",
        "LEADOPS_RUN_LIMIT": "leadops-run-777",
        "HUBSPOT_PORTAL_ID": "777",
    }
    assert list(default_schedules(PROJECT, target)) == [
        "cycle-777",
        "reconcile-777",
        "lead-report-777",
    ]
    assert ENTRIES["cycle"]["name"] == "cycle"  # the loaded project is left as it was


def test_without_a_shared_limit_runs_get_no_limit_name() -> None:
    rendered = render_project(PROJECT, DeployTarget(global_limit=None))
    for entry in rendered["deployments"]:
        assert "HUBSPOT_GLOBAL_LIMIT" not in entry["work_pool"]["job_variables"]["env"]


def test_paused_deployments_are_redeployed_paused() -> None:
    kept = keep_paused(render_project(PROJECT, DeployTarget()), {"recycle"})
    paused = {e["name"] for e in kept["deployments"] if e.get("paused")}
    assert paused == {"recycle"}


def test_rendering_drops_schedules_someone_added_to_the_yaml() -> None:
    project = {"deployments": [{"name": "cycle", "schedules": [{"cron": "0 * * * *"}]}]}
    assert "schedules" not in render_project(project, DeployTarget())["deployments"][0]


def test_target_names_blocks_limits_and_folders_per_portal_and_never_carries_the_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LIFECYCLE_CONFIG", raising=False)
    settings = Settings(
        _env_file=None,
        hubspot_access_token="pat-secret",
        hubspot_base_url="http://127.0.0.1:8765",
        hubspot_portal_id="12345",
        outbox_dir="/srv/outbox",
    )
    single = target_for(settings, "leadops", None)
    assert (single.token_block, single.global_limit) == ("hubspot-token", "hubspot")
    assert single.run_limit == "leadops-run"
    assert single.env == {"HUBSPOT_BASE_URL": "http://127.0.0.1:8765", "HUBSPOT_PORTAL_ID": "12345"}
    per_portal = target_for(settings, "leadops", "777")
    assert (per_portal.token_block, per_portal.global_limit) == ("hubspot-token-777", "hubspot-777")
    assert per_portal.run_limit == "leadops-run-777"
    assert per_portal.env["HUBSPOT_PORTAL_ID"] == "777"
    assert per_portal.env["OUTBOX_DIR"] == "/srv/outbox/777"
    assert per_portal.env["REPORT_DIR"] == "reports/777"
    assert per_portal.env["LEADOPS_ARTIFACT_SUFFIX"] == "777"  # its own artifact keys
    assert "pat-secret" not in repr(single) + repr(per_portal)
    assert target_for(settings, "leadops", None, shared_limit=False).global_limit is None


def test_a_portals_rules_file_is_recorded_relative_to_the_checkout(tmp_path: Path) -> None:
    settings = Settings(_env_file=None)
    rules = tmp_path / "config" / "acme.yaml"
    rules.parent.mkdir()
    rules.write_text("promote:\n  threshold: 80\n")
    target = target_for(settings, "leadops", "777", rules=rules, root=tmp_path)
    assert target.env["LIFECYCLE_CONFIG"] == "config/acme.yaml"
    elsewhere = target_for(settings, "leadops", "777", rules=rules, root=PROJECT_ROOT)
    assert elsewhere.env["LIFECYCLE_CONFIG"] == str(rules)


@pytest.mark.parametrize(
    ("portal", "rules", "message"),
    [
        ("acme", None, "--portal 'acme' is not a HubSpot portal id: give the portal's hub id"),
        ("0777", None, "--portal '0777' is not a HubSpot portal id"),
        ("777", "nowhere.yaml", "--rules 'nowhere.yaml': no such file"),
        ("777", "bad.yaml", "promote.threshold: -500000 is not allowed"),
    ],
)
def test_bad_portal_or_rules_is_refused_before_anything_is_written(
    portal: str, rules: str | None, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.yaml").write_text("promote:\n  threshold: -500000\n")
    args = ["--portal", portal, *(["--rules", rules] if rules else [])]
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        result = CliRunner().invoke(cli(), args, env={"HUBSPOT_ACCESS_TOKEN": "pat-secret"})
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert "unreachable" not in result.output  # refused before the server is even asked


def test_rate_limit_is_the_request_rate_with_slot_decay() -> None:
    assert rate_budget(100) == (10, 10.0)
    assert rate_budget(5) == (1, 0.5)


def test_report_says_what_was_created_and_how_to_start_a_worker() -> None:
    report = DeployReport(
        api_url="http://127.0.0.1:4200/api",
        pool="leadops",
        pool_created=True,
        global_limit="hubspot",
        limit=4,
        slot_decay_per_second=4.0,
        run_limit="leadops-run",
        token_block="hubspot-token",
        token_saved=True,
        deployments=["backfill/backfill", "lifecycle-cycle/cycle"],
        created=["lifecycle-cycle/cycle"],
        scheduled=["lifecycle-cycle/cycle"],
    )
    text = "\n".join(report.lines())
    assert "Work pool 'leadops' (process): created" in text
    assert "Deployment lifecycle-cycle/cycle: created with its default schedule" in text
    assert "Deployment backfill/backfill: updated" in text
    assert "prefect worker start --pool leadops" in text
    assert "Global concurrency limit 'hubspot': 4 slot(s), decay 4/s" in text
    assert "Run limit 'leadops-run': 1 writing run of the portal at a time" in text
    report.global_limit = None
    assert "Global concurrency limit: none" in "\n".join(report.lines())


def cli() -> typer.Typer:
    app = typer.Typer()
    app.command()(deploy_command)
    return app


def test_without_a_prefect_api_url_it_says_how_to_get_one() -> None:
    with (
        temporary_settings(restore_defaults={PREFECT_API_URL}),
        pytest.raises(DeployError, match="prefect server start"),
    ):
        prefect_api_url()


def test_unreachable_api_exits_2_with_next_step_and_no_token() -> None:
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        result = CliRunner().invoke(cli(), [], env={"HUBSPOT_ACCESS_TOKEN": "pat-secret"})
    assert result.exit_code == 2
    assert "http://127.0.0.1:9/api is unreachable" in result.output
    assert "prefect server start" in result.output
    assert "pat-secret" not in result.output


def test_missing_prefect_yaml_is_named(tmp_path: Path) -> None:
    with pytest.raises(DeployError, match=r"prefect\.yaml not found"):
        load_project(tmp_path / "prefect.yaml")


def test_only_some_entries_are_deployed_and_an_unknown_one_is_named() -> None:
    picked = only_entries(PROJECT, ["cycle", "backfill"])
    assert [entry["name"] for entry in picked["deployments"]] == ["cycle", "backfill"]
    assert only_entries(PROJECT, []) is PROJECT
    with pytest.raises(DeployError, match=r"no deployment named cycel in prefect\.yaml \(cycle, "):
        only_entries(PROJECT, ["cycel"])


def test_a_portals_set_publishes_under_suffixed_artifact_keys_and_a_single_set_as_before() -> None:
    per_portal = Settings(_env_file=None, leadops_artifact_suffix="777")
    assert artifact_key("lifecycle-cycle-summary", per_portal) == "lifecycle-cycle-summary-777"
    assert artifact_key("reconcile-missed", Settings(_env_file=None)) == "reconcile-missed"
    with pytest.raises(ValidationError, match="leadops_artifact_suffix"):
        Settings(_env_file=None, leadops_artifact_suffix="Portal 777")
