"""Delivery through a real SMTP server (aiosmtpd on 127.0.0.1), the outbox, retries, secrets."""

from __future__ import annotations

import logging
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from config.rules import Rules
from config.settings import Settings
from model.changes import ChangeResult, Outcome
from notify.deliver import compose, notify_owners
from notify.outbox import Outbox, deliver_outbox, scrub, write_outbox

from notify_builders import OWNERS, cycle_results, promote, record_link
from smtp_support import (
    HUBSPOT_TOKEN,
    SMTP_PASSWORD,
    SMTP_USER,
    SmtpServer,
    smtp_settings,
)

RUN = "amber-fox-1a2b3c4d"


def notify(settings: Settings, rules: Rules, results=None, run: str = RUN):
    """`notify_owners` without Prefect: the task's plain function."""
    return notify_owners.fn(results or cycle_results(), OWNERS, rules, settings, run)


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.eml")) if folder.is_dir() else []


def test_digests_arrive_multipart_with_links(smtp: SmtpServer, settings: Settings, rules: Rules):
    summary = notify(settings, rules)
    assert summary.digests == 3 and summary.ops_summary
    assert len(smtp.messages) == 4 and summary.delivery.sent
    got = {m.rcpt_tos[0]: m for m in smtp.messages if "update(s)" in m.message["Subject"]}
    assert set(got) == {"grace@example.com", "alan@example.com", "ops@example.com"}
    grace = got["grace@example.com"]
    assert grace.rcpt_tos == ["grace@example.com"]
    assert grace.message["Subject"] == "leadops: 4 update(s) for your contacts"
    assert grace.message["From"] == rules.notify.sender
    assert grace.message.get_content_type() == "multipart/alternative"
    text, html = grace.text(), grace.html()
    for contact in ("101", "102", "103"):
        assert record_link(contact) in text
        assert f'href="{record_link(contact)}"' in html
    assert "Ada Lovelace" in text and "Nurture - CRM" in html
    assert "Mon 2026-11-23 16:00 UTC" in text
    ops = got["ops@example.com"]
    assert "owner archived: Gone Away" in ops.text() and record_link("304") in ops.html()
    assert "idle@example.com" not in {r for m in smtp.messages for r in m.rcpt_tos}


def test_ops_summary_is_delivered(smtp: SmtpServer, settings: Settings, rules: Rules):
    notify(settings, rules)
    [summary] = [m for m in smtp.messages if m.message["Subject"].startswith("leadops run")]
    assert summary.rcpt_tos == ["ops@example.com"]
    assert "HTTP 500 from HubSpot" in summary.text()
    assert "lead_score is &#39;n/a&#39;" in summary.html()


def test_sent_messages_move_to_sent(smtp: SmtpServer, settings: Settings, rules: Rules):
    notify(settings, rules)
    outbox = Outbox(settings.outbox_dir)
    assert files(outbox.pending) == [] and len(files(outbox.sent)) == 4
    assert all(name.startswith(RUN) for name in files(outbox.sent))


def test_rerun_of_the_same_run_sends_nothing_again(
    smtp: SmtpServer, settings: Settings, rules: Rules
):
    notify(settings, rules)
    again = notify(settings, rules)
    assert len(smtp.messages) == 4
    assert again.written == [] and again.delivery.sent == []


def test_a_new_run_sends_new_digests(smtp: SmtpServer, settings: Settings, rules: Rules):
    notify(settings, rules)
    notify(settings, rules, run="calm-owl-99999999")
    assert len(smtp.messages) == 8


def test_without_smtp_the_outbox_holds_readable_eml(outbox_settings: Settings, rules: Rules):
    summary = notify(outbox_settings, rules)
    pending = Outbox(outbox_settings.outbox_dir).pending
    assert len(files(pending)) == 4 and not summary.delivery.smtp
    assert str(pending) in summary.delivery.describe()
    raw = (pending / summary.written[0]).read_bytes()
    assert b"Content-Transfer-Encoding: 8bit" in raw  # the text part is plain to read
    message = message_from_bytes(raw, policy=policy.default)
    assert "record/0-1/" in message.get_body(("plain",)).get_content()


def test_outbox_retry_smtp_down_then_up_delivers_each_once(
    smtp_down: SmtpServer, tmp_path: Path, rules: Rules
):
    settings = smtp_settings(tmp_path / "outbox", smtp_down.port)
    first = notify(settings, rules)
    assert first.delivery.sent == [] and len(first.delivery.pending) == 4
    assert all("Connection refused" in e or "Errno" in e for e in first.delivery.errors.values())
    smtp_down.start()
    second = notify(settings, rules)  # the retried run: leftovers first, nothing twice
    assert second.written == [] and len(second.delivery.sent) == 4
    third = notify(settings, rules, run="next-run-00000000")
    assert len(third.delivery.sent) == 4
    ids = [m.message["Message-ID"] for m in smtp_down.messages]
    assert len(ids) == 8 and len(set(ids)) == 8


def test_a_refused_recipient_stays_pending_others_go(
    smtp: SmtpServer, settings: Settings, rules: Rules
):
    smtp.handler.refuse.add("alan@example.com")
    summary = notify(settings, rules)
    assert len(smtp.messages) == 3
    [(name, error)] = summary.delivery.errors.items()
    assert "550" in error and summary.delivery.pending == [name]
    smtp.handler.refuse.clear()
    retry = deliver_outbox(settings)
    assert retry.sent == [name] and len(smtp.messages) == 4


def test_a_copy_of_a_sent_message_in_pending_is_dropped(
    smtp: SmtpServer, settings: Settings, rules: Rules
):
    _, messages = compose(cycle_results(), OWNERS, rules, settings, RUN)
    write_outbox(settings, messages[:1])
    deliver_outbox(settings)
    outbox = Outbox(settings.outbox_dir)
    [name] = files(outbox.sent)
    (outbox.pending / name).write_bytes((outbox.sent / name).read_bytes())  # crash leftover
    report = deliver_outbox(settings)
    assert report.already_sent == [name] and report.sent == [] and len(smtp.messages) == 1


def test_secrets_never_reach_messages_outbox_or_logs(
    smtp: SmtpServer, tmp_path: Path, rules: Rules, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    settings = smtp_settings(
        tmp_path / "outbox", smtp.port, smtp_username=SMTP_USER, smtp_password=SMTP_PASSWORD
    )
    leaky = f"login {SMTP_PASSWORD} with Bearer {HUBSPOT_TOKEN} failed"
    bad = ChangeResult(promote("7", f"Mallory {HUBSPOT_TOKEN}", "7"), Outcome.FAILED, leaky)
    summary = notify(settings, rules, [*cycle_results(), bad])
    assert len(summary.delivery.sent) == 4
    wrong = smtp_settings(
        tmp_path / "outbox2", smtp.port, smtp_username=SMTP_USER, smtp_password="x" + SMTP_PASSWORD
    )
    failed = notify(wrong, rules)
    assert failed.delivery.errors and failed.delivery.sent == []
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith("mail.")]
    seen = [*ours, repr(summary), repr(failed), *failed.delivery.errors.values()]
    for path in tmp_path.rglob("*.eml"):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        seen += [path.read_text("utf-8", "replace"), *map(str, message.values())]
        seen += [part.get_content() for part in message.iter_parts()]
    seen += [m.text() + m.html() for m in smtp.messages]
    for text in seen:
        assert SMTP_PASSWORD not in text and HUBSPOT_TOKEN not in text


def test_scrub_masks_secret_values_and_token_shapes() -> None:
    assert scrub("a hunter2 b", ["hunter2"]) == "a ******** b"
    assert scrub("x &lt;&gt;&amp; y", ["<>&"]) == "x ******** y"
    assert "pat-na1" not in scrub("token pat-na1-0000aaaa-bbbb is bad")
    assert scrub("nothing secret", ["", "zzz"]) == "nothing secret"
