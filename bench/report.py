"""The benchmark's report: JSON, a rich table for the terminal, a markdown table for docs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.table import Table

COLUMNS = (
    ("contacts", "contacts"),
    ("changes", "changes"),
    ("calls", "calls"),
    ("minimum", "minimum"),
    ("calls/min", "calls ÷ min"),
    ("wall s", "wall (s)"),
    ("rate s", "limit-imposed, sustained rate (s)"),
    ("wall/rate", "wall ÷ rate"),
    ("floor s", "limit-imposed, rolling floor (s)"),
    ("wall/floor", "wall ÷ floor"),
    ("Prefect s", "Prefect overhead (s)"),
    ("429s", "429s"),
    ("peak RSS MB", "peak RSS (MB)"),
    ("naive calls", "naive calls"),
    ("saved ×", "naive ÷ calls"),
)


def _ratio(wall: float, limit: float) -> str:
    return f"{wall / limit:.2f}" if limit else "n/a (one burst)"


def row(result: dict[str, Any]) -> list[str]:
    return [
        f"{result['contacts']:,}",
        f"{result['changes']:,}",
        f"{result['calls_total']:,} ({result['searches']} searches)",
        f"{result['minimum_total']:,}",
        f"{result['calls_ratio']:.3f}",
        f"{result['wall_s']:.1f}",
        f"{result['rate_s']:.1f}",
        _ratio(result["wall_s"], result["rate_s"]),
        f"{result['limit_s']:.0f}",
        _ratio(result["wall_s"], result["limit_s"]),
        f"{result['prefect']['total_s']:.1f} ({result['prefect']['task_runs']} tasks)",
        str(result["rate_limited_429"]),
        f"{result['peak_rss_mb']:.0f}",
        f"{result['naive_total']:,}",
        f"{result['naive_factor']:.0f}×",
    ]


def rich_table(results: Sequence[dict[str, Any]]) -> Table:
    """One column per size, one row per figure: readable in an 80-column terminal."""
    table = Table(title="leadops bench — one full cycle", title_justify="left")
    table.add_column("")
    rows = [row(result) for result in results]
    for values in rows:
        table.add_column(f"{values[0]} contacts", justify="right")
    for index, (_, long) in enumerate(COLUMNS[1:], start=1):
        table.add_row(long, *(values[index] for values in rows))
    return table


def endpoint_table(result: dict[str, Any]) -> Table:
    """Calls per endpoint against the minimum, for one size."""
    table = Table(
        title=f"calls per endpoint at {result['contacts']:,} contacts", title_justify="left"
    )
    for name in ("endpoint", "calls", "minimum", "extra"):
        table.add_column(name, justify="left" if name == "endpoint" else "right")
    endpoints = sorted(set(result["calls"]) | set(result["minimum"]))
    for endpoint in endpoints:
        calls, least = result["calls"].get(endpoint, 0), result["minimum"].get(endpoint, 0)
        table.add_row(
            endpoint, str(calls), str(least), f"{calls - least:+d}" if calls != least else ""
        )
    return table


def markdown(results: Sequence[dict[str, Any]]) -> str:
    lines = [
        "| " + " | ".join(long for _, long in COLUMNS) + " |",
        "|" + "---:|" * len(COLUMNS),
    ]
    lines += ["| " + " | ".join(row(result)) + " |" for result in results]
    return "\n".join(lines)


def write_json(results: Sequence[dict[str, Any]], path: Path) -> None:
    path.write_text(json.dumps(list(results), indent=2) + "\n")


def run_and_report(sizes: Sequence[int], json_path: Path | None, console: Any) -> list[dict]:
    """`leadops bench`: measure each size (own processes), show progress, print the report."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from bench.run import run_sizes

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("calls"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        bars = {n: progress.add_task(f"{n:,} contacts: waiting", total=None) for n in sizes}

        def on_progress(contacts: int, stage: str, done: int, total: int) -> None:
            progress.update(
                bars[contacts],
                description=f"{contacts:,} contacts: {stage}",
                completed=done,
                total=total or None,
            )

        results = run_sizes(list(sizes), on_progress)
    console.print(rich_table(results))
    for result in results:
        console.print(endpoint_table(result))
    if json_path is not None:
        write_json(results, json_path)
        console.print(f"JSON written to {json_path}")
    else:
        console.print_json(json.dumps(results))
    return results
