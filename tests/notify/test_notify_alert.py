"""Failure alerts (the on_failure / on_crashed hook) and the Prefect path of notify_owners."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from types import SimpleNamespace
from uuid import uuid4

import pytest
from prefect import flow
from prefect.settings import PREFECT_UI_URL, temporary_settings

from config.rules import Rules
from config.settings import Settings
from notify.alerts import alert_ops_on_failure, send_failure_alert
from notify.deliver import notify_owners
from notify.outbox import Outbox

from notify_builders import OWNERS, cycle_results
from smtp_support import HUBSPOT_TOKEN, SMTP_PASSWORD, SmtpServer, smtp_settings


def fake_run(message: str, state: str = "Failed"):
    run_id = uuid4()
    return (
        SimpleNamespace(name="lifecycle-cycle"),
        SimpleNamespace(id=run_id, name="amber-fox"),
        SimpleNamespace(name=state, message=message),
    )


def test_alert_reaches_ops_with_flow_run_error_and_link(
    smtp: SmtpServer, settings: Settings, rules: Rules
):
    flow_, run, state = fake_run("Flow run encountered an exception: RuntimeError: boom")
    with temporary_settings({PREFECT_UI_URL: "http://127.0.0.1:4200"}):
        report = send_failure_alert(flow_, run, state, settings, rules)
    assert report is not None and len(report.sent) == 1
    [alert] = smtp.messages
    assert alert.rcpt_tos == [rules.notify.ops_email]
    subject = "leadops: lifecycle-cycle run amber-fox failed on portal 12345"
    assert alert.message["Subject"] == subject
    for body in (alert.text(), alert.html()):
        assert "lifecycle-cycle" in body and "amber-fox" in body
        assert "RuntimeError: boom" in body
        assert f"http://127.0.0.1:4200/runs/flow-run/{run.id}" in body


def test_crashed_alert_and_secrets_scrubbed(smtp: SmtpServer, tmp_path: Path, rules: Rules):
    settings = smtp_settings(tmp_path / "outbox", smtp.port, smtp_password=SMTP_PASSWORD)
    message = f"Crash: Authorization: Bearer {HUBSPOT_TOKEN} pw={SMTP_PASSWORD}\r\n" + "x" * 5000
    send_failure_alert(*fake_run(message, "Crashed"), settings, rules)
    [alert] = smtp.messages
    assert " crashed on " in alert.message["Subject"]
    text = alert.text()
    assert HUBSPOT_TOKEN not in text and SMTP_PASSWORD not in text
    assert "x" * 1900 in text and "x" * 2000 not in text  # truncated to MAX_ERROR


def test_alert_waits_in_the_outbox_when_smtp_is_down(
    smtp_down: SmtpServer, tmp_path: Path, rules: Rules
):
    settings = smtp_settings(tmp_path / "outbox", smtp_down.port)
    report = send_failure_alert(*fake_run("boom"), settings, rules)
    assert report is not None and len(report.pending) == 1 and report.errors
    smtp_down.start()
    from notify.outbox import deliver_outbox

    assert len(deliver_outbox(settings).sent) == 1 and len(smtp_down.messages) == 1


def test_hook_never_raises(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    broken = Settings(
        _env_file=None, lifecycle_config=tmp_path / "missing.yaml", outbox_dir=tmp_path / "outbox"
    )
    caplog.set_level(logging.WARNING)
    assert send_failure_alert(*fake_run("boom"), broken) is None
    assert "could not send the failure alert" in caplog.text


def test_a_failing_flow_emails_ops_through_the_hook(
    prefect_harness: None, smtp: SmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    for name, value in {
        "SMTP_SERVER": "127.0.0.1",
        "SMTP_PORT": str(smtp.port),
        "SMTP_TYPE": "INSECURE",
        "OUTBOX_DIR": str(tmp_path / "outbox"),
    }.items():
        monkeypatch.setenv(name, value)

    @flow(name="doomed-cycle", on_failure=[alert_ops_on_failure])
    def doomed() -> None:
        raise RuntimeError("HubSpot said no")

    state = doomed(return_state=True)
    assert state.is_failed()
    [alert] = smtp.messages
    assert alert.rcpt_tos == ["ops@example.com"]
    text = alert.text()
    assert "doomed-cycle" in text and "HubSpot said no" in text
    assert alert.message["Subject"].startswith("leadops: doomed-cycle run ")


def test_notify_owners_as_a_prefect_task_names_messages_after_the_run(
    prefect_harness: None, smtp: SmtpServer, settings: Settings, rules: Rules
):
    @flow(name="notify-test")
    def cycle() -> dict:
        return notify_owners(cycle_results(), OWNERS, rules, settings).as_dict()

    summary = cycle()
    assert summary["digests"] == 3 and summary["delivery"]["sent"] == 4
    assert len(smtp.messages) == 4
    run_name = summary["run_name"]
    assert re.fullmatch(r"[a-z]+(-[a-z]+)+-[0-9a-f]{8}", run_name)  # <flow-run name>-<id>
    names = [p.name for p in Outbox(settings.outbox_dir).sent.glob("*.eml")]
    # Files are named by the Message-ID, which starts with the run name (cut to 24 chars).
    assert {name.split(".")[0] for name in names} == {run_name[:24].strip("-")}


def test_delivery_through_an_email_server_credentials_block(
    prefect_harness: None, smtp: SmtpServer, tmp_path: Path, rules: Rules
):
    from prefect_email import EmailServerCredentials

    block = EmailServerCredentials(
        smtp_server="127.0.0.1", smtp_type="INSECURE", smtp_port=smtp.port
    )
    block.save("leadops-test-smtp", overwrite=True)
    settings = Settings(
        _env_file=None,
        smtp_credentials_block="leadops-test-smtp",
        outbox_dir=tmp_path / "outbox",
        hubspot_portal_id="12345",
    )
    summary = notify_owners.fn(cycle_results(), OWNERS, rules, settings, "block-run")
    assert len(summary.delivery.sent) == 4 and len(smtp.messages) == 4
