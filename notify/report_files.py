"""The lead report saved as files in one folder: `report.html` (opens in a browser, charts
beside it as PNG), `report.json` (every table), `listed_contacts.csv` (every stuck lead and SLA
breach with its record link) and one PNG per chart."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from pathlib import Path

from insights.report import LeadReport
from notify.plan import record_url
from notify.report_render import render_report

CSV_COLUMNS = (
    "list",
    "owner",
    "owner_id",
    "contact_id",
    "contact",
    "status",
    "since",
    "days",
    "new_at",
    "first_touch_at",
    "hours",
    "url",
)


def write_listed_csv(report: LeadReport, path: Path, *, portal_id: str, ui_domain: str) -> int:
    """Every listed contact (stuck leads, then SLA breaches) as CSV; returns the row count."""
    tables = report.tables()
    rows = [("stuck", row) for row in tables["stuck"]]
    rows += [("sla_breach", row) for row in tables["sla_breaches"]]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for kind, row in rows:
            url = record_url(portal_id, row["contact_id"], ui_domain)
            writer.writerow({**row, "list": kind, "url": url})
    return len(rows)


def write_report_files(
    report: LeadReport,
    charts: Mapping[str, bytes],
    view: Mapping[str, object],
    folder: Path,
    *,
    portal_id: str,
    ui_domain: str,
) -> dict[str, Path]:
    """Write the report's files into `folder` (created); returns them by name."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: folder / f"{name}.png" for name in charts}
    for name, png in charts.items():
        paths[name].write_bytes(png)
    paths["json"] = folder / "report.json"
    paths["json"].write_text(json.dumps(report.as_json(), indent=2, ensure_ascii=False) + "\n")
    paths["csv"] = folder / "listed_contacts.csv"
    write_listed_csv(report, paths["csv"], portal_id=portal_id, ui_domain=ui_domain)
    subject = f"leadops lead report {view['since']} – {view['until']}"
    _, html = render_report(view, subject, {name: f"{name}.png" for name in charts})
    paths["html"] = folder / "report.html"
    paths["html"].write_text(html, encoding="utf-8")
    return paths
