"""The lead report's listed contacts at scale: the CSV gets every one as it is found (complete
only once the report is), the email shows the kept ones and counts all of them."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from config.rules import Rules
from insights.build import ReportBuilder
from model.records import Owner, Record
from notify.report_files import ListedCsv
from notify.report_render import report_view

UNTIL = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
OWNERS = {"101": Owner("101", "ann@example.com", "Ann", "Ames")}
LINKS = {"portal_id": "12345", "ui_domain": "app.hubspot.com"}


def new_leads(count: int) -> list[Record]:
    """Contacts New for 3 to 3 + count days, untouched: each stuck and an SLA breach."""
    return [
        Record(
            str(n),
            {"firstname": f"Lead{n}", "hs_lead_status": "NEW", "hubspot_owner_id": "101"},
            {"hs_lead_status": (("NEW", UNTIL - timedelta(days=3 + n)),)},
        )
        for n in range(count)
    ]


def builder(out: ListedCsv, keep: int) -> ReportBuilder:
    since = UNTIL - timedelta(days=60)
    return ReportBuilder(
        Rules(), since=since, until=UNTIL, owners=OWNERS, on_listed=out.write, keep_listed=keep
    )


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_the_csv_is_written_as_contacts_are_found_and_completed_at_the_end(
    tmp_path: Path,
) -> None:
    path = tmp_path / "report" / "listed_contacts.csv"
    with ListedCsv(path, OWNERS, **LINKS) as out:
        report = builder(out, keep=3)
        report.add(new_leads(4), {})
        assert out.rows == 8 and out.partial.exists() and not path.exists()
        report.add(new_leads(10)[4:], {})
    rows = read(path)
    assert len(rows) == 20 == out.rows  # 10 stuck + 10 breaches, though 3 of each are kept
    assert {row["list"] for row in rows} == {"stuck", "sla_breach"}
    lead_9 = next(r for r in rows if r["contact_id"] == "9" and r["list"] == "stuck")
    assert (lead_9["owner"], lead_9["days"], lead_9["contact"]) == ("Ann Ames", "12.0", "Lead9")
    assert lead_9["url"] == "https://app.hubspot.com/contacts/12345/record/0-1/9"


def test_a_failed_report_leaves_no_complete_looking_csv(tmp_path: Path) -> None:
    path = tmp_path / "listed_contacts.csv"
    with pytest.raises(RuntimeError), ListedCsv(path, OWNERS, **LINKS) as out:
        builder(out, keep=3).add(new_leads(2), {})
        raise RuntimeError("HubSpot went away")
    assert not path.exists() and len(read(out.partial)) == 4


def test_the_email_lists_the_longest_and_counts_every_listed_contact(tmp_path: Path) -> None:
    with ListedCsv(tmp_path / "listed.csv", OWNERS, **LINKS) as out:
        building = builder(out, keep=3)
        building.add(new_leads(10), {})
    view = report_view(building.finish(), **LINKS)
    assert [row["contact_id"] for row in view["stuck"]] == ["9", "8", "7"]
    assert (view["stuck_total"], view["breaches_total"]) == (10, 10)
