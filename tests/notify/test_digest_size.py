"""Every owner digest stays deliverable at any portal size: a big CSV goes out zipped, a
digest that would still be too big carries the rows that fit and says how many were left out,
and a message bigger than the SMTP server's advertised SIZE is reported, not tried blindly.

Small thresholds keep these fast: the zip threshold is patched, the size cap is set on a copy
of the settings below the minimum a person may configure."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from pydantic import ValidationError

import notify.zipped
from config.rules import Rules
from config.settings import Settings
from model.changes import ChangeResult
from notify.deliver import notify_owners
from notify.mime_file import wire_size
from notify.outbox import Outbox, deliver_outbox
from notify.plan import plan_digests
from notify.render import render_digest

from notify_builders import GRACE, OWNERS, applied, promote, task
from smtp_support import Handler, Received, SmtpServer, free_port, smtp_settings

TASKS = 1500  # Grace's tasks: a CSV of 270 KB, 11 KB zipped


def graces_results() -> list[ChangeResult]:
    tasks = [task(str(1000 + n), f"Contact {n}", GRACE.id) for n in range(TASKS)]
    return applied(promote("1", "Ada Lovelace", GRACE.id), *tasks)


def graces_digest(server: SmtpServer) -> Received:
    [digest] = [m for m in server.messages if m.rcpt_tos == [GRACE.email]]
    return digest


def zipped_rows(received: Received) -> list[dict[str, str]]:
    [attachment] = list(received.message.iter_attachments())
    assert attachment.get_content_type() == "application/zip"
    assert attachment.get_filename() == "leadops-size-run-grace-hopper.zip"
    with zipfile.ZipFile(io.BytesIO(attachment.get_content())) as archive:
        assert archive.testzip() is None
        [member] = archive.namelist()
        assert member == "leadops-size-run-grace-hopper.csv"
        text = archive.read(member).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def plain_rows(rules: Rules) -> tuple[str, list[dict[str, str]]]:
    """The Message-ID and CSV rows of Grace's digest as it always went out (no size cap)."""
    [digest, *_] = plan_digests(
        graces_results(), OWNERS, rules, portal_id="12345", run_name="size-run"
    )
    message = message_from_bytes(render_digest(digest, rules).as_bytes(), policy=policy.default)
    [attachment] = list(message.iter_attachments())
    return message["Message-ID"], list(csv.DictReader(io.StringIO(attachment.get_content())))


@pytest.fixture
def small_zip_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notify.zipped, "ZIP_ABOVE", 20_000)


@pytest.fixture
def limited_smtp() -> Iterator[SmtpServer]:
    """An SMTP server advertising `SIZE 50000` (RFC 1870)."""
    server = SmtpServer(free_port(), Handler(), size_limit=50_000)
    server.start()
    yield server
    server.stop()


def test_a_digest_past_the_zip_threshold_arrives_as_a_zip_of_every_line(
    smtp: SmtpServer, tmp_path: Path, rules: Rules, small_zip_threshold: None
) -> None:
    settings = smtp_settings(tmp_path / "outbox", smtp.port)
    notify_owners.fn(graces_results(), OWNERS, rules, settings, "size-run")

    received = graces_digest(smtp)
    rows = zipped_rows(received)
    message_id, every_row = plain_rows(rules)
    assert rows == every_row and len(rows) == TASKS + 1
    assert received.message["Message-ID"] == message_id  # zipping does not rename it
    assert "every line is in the CSV in the attached zip file." in received.text()
    assert "more in the attached zip." in received.text()
    assert "every line is in the CSV in the attached zip file." in received.html()


def test_a_small_attachment_stays_a_plain_csv(
    smtp: SmtpServer, tmp_path: Path, rules: Rules
) -> None:
    settings = smtp_settings(tmp_path / "outbox", smtp.port)
    notify_owners.fn(graces_results(), OWNERS, rules, settings, "size-run")

    [attachment] = list(graces_digest(smtp).message.iter_attachments())
    assert attachment.get_content_type() == "text/csv"
    assert attachment.get_filename() == "leadops-size-run-grace-hopper.csv"


def test_a_digest_over_the_size_cap_carries_the_rows_that_fit_and_says_what_is_left_out(
    smtp: SmtpServer, tmp_path: Path, rules: Rules, small_zip_threshold: None
) -> None:
    cap = 56_000  # the mail shows ~50 KB of it; every row zipped would make 65 KB
    settings = smtp_settings(tmp_path / "outbox", smtp.port).model_copy(
        update={"leadops_digest_max_bytes": cap}
    )
    notify_owners.fn(graces_results(), OWNERS, rules, settings, "size-run")

    received = graces_digest(smtp)
    assert received.size <= cap
    rows = zipped_rows(received)
    _, every_row = plain_rows(rules)
    kept = len(rows)
    assert 0 < kept < len(every_row)
    assert rows == every_row[:kept]  # the first rows, in digest order
    text = " ".join(received.text().split())
    left_out = TASKS + 1 - kept
    assert (
        f"the CSV in the attached zip file holds the first {kept} of the {TASKS + 1} lines: "
        f"{left_out} line(s) are left out." in text
    )
    assert "have every change of this run in the run's changes CSV" in text
    assert f"<b>{left_out} line(s) are left out</b>" in received.html()


def test_a_re_rendered_capped_digest_keeps_its_message_id_and_is_not_sent_twice(
    smtp: SmtpServer, tmp_path: Path, rules: Rules, small_zip_threshold: None
) -> None:
    settings = smtp_settings(tmp_path / "outbox", smtp.port).model_copy(
        update={"leadops_digest_max_bytes": 56_000}
    )
    notify_owners.fn(graces_results(), OWNERS, rules, settings, "size-run")
    again = notify_owners.fn(graces_results(), OWNERS, rules, settings, "size-run")

    assert again.written == [] and again.delivery.sent == []
    [received] = [m for m in smtp.messages if m.rcpt_tos == [GRACE.email]]
    assert received.message["Message-ID"] == plain_rows(rules)[0]


def test_a_message_over_the_servers_advertised_size_is_reported_and_kept_pending(
    limited_smtp: SmtpServer, tmp_path: Path, rules: Rules
) -> None:
    settings = smtp_settings(tmp_path / "outbox", limited_smtp.port)
    summary = notify_owners.fn(graces_results(), OWNERS, rules, settings, "size-run")

    [too_big] = summary.delivery.too_big
    assert too_big in summary.delivery.pending
    assert (Outbox(settings.outbox_dir).pending / too_big).exists()
    error = summary.delivery.errors[too_big]
    size = int(re.search(r"is ([\d,]+) bytes", error).group(1).replace(",", ""))
    assert size > 50_000
    assert f"{too_big} (to Grace Hopper <grace@example.com>)" in error
    assert "more than the 50,000 the SMTP server accepts (its ESMTP SIZE)" in error
    assert "LEADOPS_DIGEST_MAX_BYTES to at most 50,000" in error
    assert "552" not in error  # not tried: the server never had to refuse it
    assert "too big for the SMTP server" in summary.delivery.describe()
    assert not [m for m in limited_smtp.messages if m.rcpt_tos == [GRACE.email]]
    assert limited_smtp.messages  # the other messages went out

    again = deliver_outbox(settings)
    assert again.too_big == [too_big] and again.sent == []


def test_the_size_cap_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEADOPS_DIGEST_MAX_BYTES", raising=False)
    assert Settings(_env_file=None).leadops_digest_max_bytes == 10_000_000
    monkeypatch.setenv("LEADOPS_DIGEST_MAX_BYTES", "20000000")
    assert Settings(_env_file=None).leadops_digest_max_bytes == 20_000_000


@pytest.mark.parametrize(
    ("value", "allowed"),
    [
        (1000, "greater than or equal to 500000"),
        (-5, "greater than or equal to 500000"),
        (2_000_000_000, "less than or equal to 1000000000"),
        ("ten megabytes", "a valid integer"),
    ],
)
def test_a_bad_size_cap_is_refused_naming_the_field_the_value_and_what_is_allowed(
    value: object, allowed: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, leadops_digest_max_bytes=value)
    text = str(refused.value)
    assert "leadops_digest_max_bytes" in text
    assert f"input_value={value!r}" in text
    assert allowed in text


@pytest.mark.parametrize("cap", [50_500, 53_000, 58_000, 64_000])
def test_a_cut_digest_fits_its_cap_and_keeps_nearly_all_that_fits(
    rules: Rules, small_zip_threshold: None, cap: int
) -> None:
    [digest, *_] = plan_digests(
        graces_results(), OWNERS, rules, portal_id="12345", run_name="size-run"
    )
    message = render_digest(digest, rules, cap)
    size = wire_size(message)
    assert cap * 0.97 < size <= cap  # SMTP's bytes: what the cap and the server's SIZE count
    received = Received("", [], message_from_bytes(message.as_bytes(), policy=policy.default))
    kept = len(zipped_rows(received))
    assert f"holds the first {kept} of the {TASKS + 1}" in " ".join(received.text().split())
