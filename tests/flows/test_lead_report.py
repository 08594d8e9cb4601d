"""The lead report end to end on the demo seed with the sandbox's clock fixed: its tables
equal the checked-in expected JSON, every chart renders, the email carries the charts inline,
the CSV lists every listed contact, and HubSpot receives no write at all."""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import yaml
from matplotlib.image import imread

from config.rules import DEFAULT_RULES
from flows.lead_report import ReportParams, lead_report
from sandbox.server import SandboxHandle, running_sandbox

from support import RECORDING_NOW, portal_settings, sandbox_settings

pytestmark = pytest.mark.usefixtures("prefect_harness")

EXPECTED = Path(__file__).with_name("lead_report_expected.json")
MANAGER = "sales.lead@example.com"
READS = re.compile(r"^(GET |POST /crm/v3/objects/\w+/(search|batch/read)$|POST /crm/v4/.*/read$)")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict, SandboxHandle]]:
    """One report over the demo seed as of the recording instant, with a manager configured."""
    folder = tmp_path_factory.mktemp("lead-report")
    rules = yaml.safe_load(DEFAULT_RULES.read_text())
    rules["report"]["managers"] = {MANAGER: ["70000001"]}
    (folder / "lifecycle.yaml").write_text(yaml.safe_dump(rules))
    with running_sandbox(seed="demo", now=RECORDING_NOW) as handle:
        settings = portal_settings(
            sandbox_settings(handle.url, handle.token), folder / "outbox", portal_id=12345
        ).model_copy(
            update={"report_dir": folder / "reports", "lifecycle_config": folder / "lifecycle.yaml"}
        )
        yield lead_report(ReportParams(until=RECORDING_NOW), settings), handle


def test_tables_equal_the_checked_in_expected_json(run: tuple[dict, SandboxHandle]) -> None:
    summary, _ = run
    found = json.loads(Path(summary["files"]["json"]).read_text())
    if os.environ.get("LEADOPS_UPDATE_EXPECTED"):  # after a deliberate change of the demo seed
        EXPECTED.write_text(json.dumps(found, indent=2, sort_keys=True) + "\n")
    expected = json.loads(EXPECTED.read_text())
    for name, rows in expected["tables"].items():
        assert found["tables"][name] == rows, f"table {name} differs from {EXPECTED.name}"
    assert found == expected


def test_every_chart_renders_as_an_image(run: tuple[dict, SandboxHandle]) -> None:
    summary, _ = run
    charts = ("funnel", "outcomes", "time_in_status", "first_touch", "score_conversion")
    for name in charts:
        image = imread(summary["files"][name])
        assert image.shape[:2] == (420, 800), name
        assert image.std() > 0.01, f"{name} is blank"


def test_nothing_is_written_to_hubspot(run: tuple[dict, SandboxHandle]) -> None:
    summary, handle = run
    assert handle.stats()["writes_total"] == 0
    assert summary["calls"] and all(READS.match(endpoint) for endpoint in summary["calls"])
    reads = summary["calls"]["POST /crm/v3/objects/contacts/batch/read"]
    assert reads == -(-summary["contacts"] // 50)  # history reads: 50 contacts a call


def messages(summary: dict) -> dict[str, object]:
    pending = Path(summary["files"]["json"]).parents[2] / "outbox" / "pending"
    found = [message_from_bytes(p.read_bytes(), policy=policy.default) for p in pending.iterdir()]
    return {msg["To"].addresses[0].addr_spec: msg for msg in found}


def test_ops_and_the_manager_get_the_report_with_charts_inline(
    run: tuple[dict, SandboxHandle],
) -> None:
    summary, _ = run
    mail = messages(summary)
    assert set(mail) == {"ops@example.com", MANAGER}
    for msg in mail.values():
        assert msg.get_content_type() == "multipart/alternative"
        html = msg.get_body(("html",)).get_content()
        images = {
            part["Content-ID"].strip("<>"): part
            for part in msg.walk()
            if part.get_content_type() == "image/png"
        }
        cids = re.findall(r'src="cid:([^"]+)"', html)
        assert len(cids) == 5 and set(cids) == set(images)
        assert "https://app.hubspot.com/contacts/12345/record/0-1/" in html
        text = msg.get_body(("plain",)).get_content()
        assert "STUCK LEADS" in text and "FIRST TOUCH WITHIN 24 HOURS" in text
    manager_text = mail[MANAGER].get_body(("plain",)).get_content()
    assert "owners: Alice Archer" in manager_text and "Bob Baker ·" not in manager_text


def test_the_csv_lists_every_stuck_lead_and_breach_with_its_link(
    run: tuple[dict, SandboxHandle],
) -> None:
    summary, _ = run
    with open(summary["files"]["csv"], newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    tables = json.loads(Path(summary["files"]["json"]).read_text())["tables"]
    assert len(rows) == len(tables["stuck"]) + len(tables["sla_breaches"])
    assert all(row["url"].endswith(f"/record/0-1/{row['contact_id']}") for row in rows)
