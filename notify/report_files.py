"""The lead report saved as files in one folder: `report.html` (opens in a browser, charts
beside it as PNG), `report.json` (every table), `listed_contacts.csv` (every stuck lead and SLA
breach with its record link, written line by line as the report finds them: `ListedCsv`) and
one PNG per chart."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import TextIO

from insights.build import STUCK
from insights.listed import Listed
from insights.report import LeadReport, listed_row, owner_label
from model.records import Owner
from notify.report_render import render_report
from notify.text import record_url

LISTED_CSV = "listed_contacts.csv"
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


class ListedCsv:
    """`listed_contacts.csv`, one line per listed contact as the report finds it (stuck leads
    and SLA breaches in the order read; the `list` column tells which), so no list of them is
    kept. Written under a `.partial` name, renamed when the report is complete.

    Example:
        ```python
        with ListedCsv(folder / "listed_contacts.csv", owners, portal_id="1", ui_domain=d) as out:
            builder = ReportBuilder(rules, since=since, until=until, owners=owners,
                                    on_listed=out.write)
        ```
    """

    def __init__(
        self, path: Path, owners: Mapping[str, Owner], *, portal_id: str, ui_domain: str
    ) -> None:
        self.path, self.owners = path, owners
        self.portal_id, self.ui_domain = portal_id, ui_domain
        self.partial = path.with_name(path.name + ".partial")
        self.rows = 0
        self._handle: TextIO | None = None

    def __enter__(self) -> ListedCsv:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = self.partial.open("w", newline="", encoding="utf-8")
        self._writer = csv.DictWriter(self._handle, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        self._writer.writeheader()
        return self

    def write(self, kind: str, item: Listed) -> None:
        """One line: `kind` is `stuck` or `sla_breach` (`insights.build`'s list names)."""
        owner = owner_label(self.owners, item.owner_id)
        row = listed_row(item, owner, stuck=kind == STUCK)
        url = record_url(self.portal_id, item.contact_id, self.ui_domain)
        self._writer.writerow(row | {"list": kind, "url": url})
        self.rows += 1

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        assert self._handle is not None
        self._handle.close()
        if error is None:
            self.partial.replace(self.path)


def write_report_files(
    report: LeadReport,
    charts: Mapping[str, bytes],
    view: Mapping[str, object],
    folder: Path,
) -> dict[str, Path]:
    """Write the report's files into `folder` (created; `ListedCsv` wrote the CSV there);
    returns them by name."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: folder / f"{name}.png" for name in charts}
    for name, png in charts.items():
        paths[name].write_bytes(png)
    paths["json"] = folder / "report.json"
    paths["json"].write_text(json.dumps(report.as_json(), indent=2, ensure_ascii=False) + "\n")
    paths["csv"] = folder / LISTED_CSV
    subject = f"leadops lead report {view['since']} – {view['until']}"
    _, html = render_report(view, subject, {name: f"{name}.png" for name in charts})
    paths["html"] = folder / "report.html"
    paths["html"].write_text(html, encoding="utf-8")
    return paths
