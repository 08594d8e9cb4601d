"""Digests people can read: a summary first, sections capped with every line in an attached
CSV, due times in the portal's timezone; table cells capped in run reports."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from config.rules import Rules
from flows.report import change_rows
from model.changes import ChangeResult, Outcome
from notify.deliver import notify_owners
from notify.digest import SECTION_LIMIT
from notify.text import MAX_CELL

from notify_builders import GRACE, OWNERS, applied, promote, task
from smtp_support import SmtpServer, smtp_settings


def test_a_big_digest_shows_a_summary_and_capped_sections_and_attaches_every_line(
    smtp: SmtpServer, tmp_path: Path, rules: Rules
) -> None:
    tasks = [task(str(1000 + n), f"Contact {n}", GRACE.id) for n in range(845)]
    results = applied(*tasks, promote("1", "Ada Lovelace", GRACE.id))
    settings = smtp_settings(tmp_path / "outbox", smtp.port)
    notify_owners.fn(results, OWNERS, rules, settings, "big-run")

    [digest] = [m for m in smtp.messages if m.rcpt_tos == [GRACE.email]]
    text = digest.text()
    readable = len(text.encode()) + len(digest.html().encode())
    assert readable < 100_000, readable  # 845 updates made a 0.5 MB mail before the cap
    body = text.split("TASKS CREATED")[0]
    assert "In short: New SQLs 1 · Tasks created 845." in body  # the summary comes first
    assert "every line is in the attached CSV" in body
    assert text.count("\n- ") == 1 + SECTION_LIMIT
    assert f"... and {845 - SECTION_LIMIT} more in the attached CSV." in text
    assert f"and {845 - SECTION_LIMIT} more in the attached CSV" in digest.html()
    [attachment] = list(digest.message.iter_attachments())
    assert attachment.get_content_type() == "text/csv"
    assert attachment.get_filename() == "leadops-big-run-grace-hopper.csv"
    rows = list(csv.DictReader(io.StringIO(attachment.get_content())))
    assert len(rows) == 846
    assert {row["section"] for row in rows} == {"New SQLs", "Tasks created"}


def test_a_small_digest_has_no_attachment(smtp: SmtpServer, tmp_path: Path, rules: Rules) -> None:
    settings = smtp_settings(tmp_path / "outbox", smtp.port)
    notify_owners.fn(applied(task("5", "Ada", GRACE.id)), OWNERS, rules, settings, "small")
    [digest] = [m for m in smtp.messages if m.rcpt_tos == [GRACE.email]]
    assert list(digest.message.iter_attachments()) == []


def test_due_times_are_shown_in_the_portals_timezone(
    smtp: SmtpServer, tmp_path: Path, rules: Rules
) -> None:
    settings = smtp_settings(
        tmp_path / "outbox", smtp.port, hubspot_portal_timezone="Europe/Berlin"
    )
    notify_owners.fn(applied(task("5", "Ada", GRACE.id)), OWNERS, rules, settings, "tz")
    [digest] = [m for m in smtp.messages if m.rcpt_tos == [GRACE.email]]
    assert "Due: Mon 2026-11-23 17:00 CET" in digest.text()  # 16:00 UTC


def test_report_table_cells_are_capped() -> None:
    long_name = "Dr. " + "Bartholomew " * 26  # 316 characters
    change = promote("42", long_name, GRACE.id)
    [row] = change_rows([ChangeResult(change, Outcome.APPLIED)], OWNERS)
    assert all(len(value) <= MAX_CELL for value in row.values())
    assert row["contact"].endswith("… (42)")
