"""The lead report's charts as PNG bytes, drawn with matplotlib on its headless Agg canvas.

Example:
    ```python
    from notify.report_charts import draw_charts

    charts = draw_charts(report)  # a LeadReport from insights.build
    open("funnel.png", "wb").write(charts["funnel"])
    ```
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from insights.outcomes import LADDER, OUTCOMES
from insights.report import ALL_OWNERS, LeadReport
from insights.stats import percentile
from notify.text import one_line

SIZE = (8, 4.2)  # inches at 100 dpi: 800 x 420 px, readable in a 640 px mail column
COLORS = (
    "#ff7a59",
    "#00a4bd",
    "#7fd1de",
    "#f5c26b",
    "#00bda5",
    "#6a78d1",
    "#cbd6e2",
    "#f2545b",
    "#99afc4",
)


TIME_TICKS = (
    (0.25, "15 min"),
    (1, "1 h"),
    (4, "4 h"),
    (12, "12 h"),
    (24, "1 d"),
    (48, "2 d"),
    (96, "4 d"),
    (168, "1 w"),
    (336, "2 w"),
    (720, "30 d"),
    (2160, "90 d"),
    (8760, "1 y"),
)


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _png(draw: Callable[[Figure], None]) -> bytes:
    # A bare Figure on the Agg canvas: no pyplot, so no global figure registry to leak.
    figure = Figure(figsize=SIZE, dpi=100)
    FigureCanvasAgg(figure)
    draw(figure)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _empty(axes, text: str = "no data in this window") -> None:
    axes.text(0.5, 0.5, text, ha="center", va="center", transform=axes.transAxes)
    axes.set_axis_off()


def funnel(report: LeadReport) -> bytes:
    """SQLs of the window and how many ever reached each step of the ladder."""
    rows = report.reached_rows()

    def draw(figure: Figure) -> None:
        axes = figure.add_subplot()
        axes.set_title("SQL funnel: contacts that ever reached each step")
        if not rows:
            return _empty(axes)
        total = rows[-1]
        labels = ["SQLs", *(_label(step) for step in LADDER)]
        values = [total["sqls"], *(total[step] for step in LADDER)]
        bars = axes.barh(labels[::-1], values[::-1], color=COLORS[0])
        axes.bar_label(bars, padding=3)
        axes.set_xlabel("contacts")

    return _png(draw)


def outcomes(report: LeadReport) -> bytes:
    """Per month of becoming SQL: what those contacts are now (stacked)."""
    rows = [row for row in report.funnel_rows() if row["month"] != "total"]

    def draw(figure: Figure) -> None:
        axes = figure.add_subplot()
        axes.set_title("What each month's SQLs are now")
        if not rows:
            return _empty(axes)
        months = [row["month"] for row in rows]
        bottom = [0] * len(rows)
        for color, outcome in zip(COLORS, OUTCOMES, strict=True):
            values = [row[outcome] for row in rows]
            axes.bar(months, values, bottom=bottom, label=_label(outcome), color=color)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        axes.set_ylabel("SQLs")
        axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1, 1))

    return _png(draw)


def box(hours: Sequence[float], label: str) -> dict[str, Any]:
    """A box plot's figures from the exact durations: p25 to p75, the median, whiskers at
    p10 and p90, dots at the shortest and the longest (never 0 hours: the axis is log)."""
    ordered = sorted(max(h, 0.1) for h in hours)
    at = {q: percentile(ordered, q) for q in (0.1, 0.25, 0.5, 0.75, 0.9)}
    return {
        "label": label,
        "whislo": at[0.1],
        "q1": at[0.25],
        "med": at[0.5],
        "q3": at[0.75],
        "whishi": at[0.9],
        "fliers": [ordered[0], ordered[-1]],
    }


def time_in_status(report: LeadReport) -> bytes:
    """Distribution of hours spent in each lead status (all owners), as box plots drawn from
    their quantiles (matplotlib never sees the spells themselves)."""
    statuses = [s for s in report.status_order() if (ALL_OWNERS, s) in report.durations]

    def draw(figure: Figure) -> None:
        axes = figure.add_subplot()
        axes.set_title("Time in lead status (finished spells, hours)")
        if not statuses:
            return _empty(axes)
        # Log hours (spells range from minutes to months).
        boxes = [box(report.durations[(ALL_OWNERS, s)], one_line(s, 24)) for s in statuses]
        axes.bxp(boxes, orientation="horizontal", showfliers=True)
        axes.set_xscale("log")
        low, high = min(b["fliers"][0] for b in boxes), max(b["fliers"][1] for b in boxes)
        ticks = [(h, label) for h, label in TIME_TICKS if low / 2 <= h <= high * 2]
        axes.set_xticks([h for h, _ in ticks], [label for _, label in ticks])
        axes.minorticks_off()
        axes.set_xlabel(
            "time in status (box: p25 to p75, line: median, whiskers: p10 to p90, "
            "dots: shortest and longest)",
            fontsize=8,
        )

    return _png(draw)


def first_touch(report: LeadReport) -> bytes:
    """Share of New leads touched within the SLA, per owner."""
    rows = report.first_touch_rows()

    def draw(figure: Figure) -> None:
        axes = figure.add_subplot()
        hours = report.rules.report.first_touch_sla_hours
        axes.set_title(f"First touch within {hours:g} h of New, per owner")
        if not rows:
            return _empty(axes)
        names = [one_line(row["owner"], 24) for row in rows][::-1]  # labels: one line
        shares = [100 * (row["share_within_sla"] or 0) for row in rows][::-1]
        bars = axes.barh(names, shares, color=COLORS[1])
        axes.bar_label(bars, labels=[f"{s:.0f} %" for s in shares], padding=3)
        axes.set_xlim(0, 110)
        axes.set_xlabel("% of New leads touched within the SLA")

    return _png(draw)


def score_conversion(report: LeadReport) -> bytes:
    """SQLs per score band and the share that reached Open Deal or customer."""
    rows = [row for row in report.score_rows() if row["sqls"] or row["mqls"]]

    def draw(figure: Figure) -> None:
        axes = figure.add_subplot()
        axes.set_title("Conversion to Open Deal / customer by score band")
        if not rows:
            return _empty(axes)
        bands = [row["band"] for row in rows]
        spots = range(len(rows))
        series = ((-0.2, "mqls", "MQLs now", COLORS[6]), (0.2, "sqls", "SQLs", COLORS[5]))
        for offset, key, label, color in series:
            values = [row[key] for row in rows]
            axes.bar([x + offset for x in spots], values, 0.4, color=color, label=label)
        axes.set_xticks(list(spots), bands)
        axes.set_ylabel("contacts")
        rates = axes.twinx()
        converted = [100 * (row["conversion_rate"] or 0) for row in rows]
        rates.plot([x + 0.2 for x in spots], converted, "o-", color=COLORS[0], label="converted")
        rates.set_ylim(0, 105)
        rates.set_ylabel("% of SQLs that reached Open Deal / customer")
        axes.legend(fontsize=7, loc="upper left")

    return _png(draw)


CHARTS: dict[str, Callable[[LeadReport], bytes]] = {
    "funnel": funnel,
    "outcomes": outcomes,
    "time_in_status": time_in_status,
    "first_touch": first_touch,
    "score_conversion": score_conversion,
}


def draw_charts(report: LeadReport) -> dict[str, bytes]:
    """Every chart, by name (the file stem and the email's image id)."""
    return {name: draw(report) for name, draw in CHARTS.items()}
