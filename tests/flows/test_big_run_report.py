"""A big run's report: every table artifact fits in an event Prefect publishes, and the
changes CSV the summary names holds every change."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from prefect.artifacts import TableArtifact
from prefect.events.schemas.events import Event
from prefect.settings import get_current_settings

from flows import report
from flows.report import RunSummary, publish
from model.changes import Change, ChangeResult, Outcome, TaskSpec
from model.records import Owner
from runstate.changes import RunChanges

CHANGES = 12_000
OWNERS = {"7": Owner("7", "grace@example.com", "Grace", "Hopper")}


def synthetic(n: int) -> ChangeResult:
    """A change with cells as long as the table keeps them, non-ASCII included (each such
    character takes six bytes in the event)."""
    name = f"Zoë Ærøskøbing-Łódź {n} " + "ü" * 80
    if n % 3 == 0:
        task = TaskSpec(
            "first_touch",
            "Call " + "é" * 90,
            "body",
            datetime(2026, 12, 1, tzinfo=UTC),
            "CALL",
            "HIGH",
        )
        change = Change("followup", str(n), name, "7", "no touch since " + "→" * 90, task=task)
        return ChangeResult(change, Outcome.APPLIED, created=str(90_000 + n))
    change = Change(
        "promote",
        str(n),
        name,
        "7",
        "score 72 ≥ 50 " + "∅" * 90,
        before={"lifecyclestage": "marketingqualifiedlead"},
        properties={"lifecyclestage": "salesqualifiedlead"},
    )
    outcome = Outcome.FAILED if n % 1000 == 1 else Outcome.APPLIED
    return ChangeResult(
        change, outcome, error="HTTP 500 " + "ß" * 90 if outcome is Outcome.FAILED else None
    )


def published_event_size(key: str | None, table: Any, description: str | None) -> int:
    """The size of the event Prefect's server emits for this artifact, serialized as it
    measures it (`prefect.server.events.messaging`)."""
    data = TableArtifact(table=table).format()
    event = Event(
        occurred=datetime.now(UTC),
        event="prefect.artifact-collection.created",
        resource={"prefect.resource.id": f"prefect.artifact-collection.{uuid4()}"},
        related=[],
        payload={"key": key, "type": "table", "data": data, "description": description},
        id=uuid4(),
    )
    return len(event.model_dump_json().encode())


def test_a_big_run_publishes_pages_prefect_accepts_and_a_csv_of_every_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    changes = RunChanges(tmp_path / "journal" / "run-1.changes.csv")
    for start in range(0, CHANGES, 1000):
        changes.add(synthetic(n) for n in range(start, start + 1000))
    summary = RunSummary("lifecycle-cycle", False, None, datetime.now(UTC), results=changes)
    tables: list[tuple[str | None, list[dict[str, str]], str | None]] = []
    markdowns: list[str] = []
    monkeypatch.setattr(
        report,
        "create_table_artifact",
        lambda table, key=None, description=None: tables.append((key, table, description)),
    )
    monkeypatch.setattr(
        report, "create_markdown_artifact", lambda markdown, **_: markdowns.append(markdown)
    )

    publish(summary, OWNERS, "lifecycle-cycle")

    limit = get_current_settings().server.events.maximum_size_bytes
    sizes = [published_event_size(key, table, text) for key, table, text in tables]
    assert len(tables) > 1 and max(sizes) <= limit, sizes
    assert [key for key, _, _ in tables] == ["lifecycle-cycle-changes"] + [None] * (len(tables) - 1)
    shown = [row["contact"] for _, table, _ in tables for row in table]
    assert len(shown) == CHANGES and shown[-1].endswith(f"({CHANGES - 1})")  # all, in order
    assert tables[1][2] == f"lifecycle-cycle: changes {len(tables[0][1]) + 1:,}–" + (
        f"{len(tables[0][1]) + len(tables[1][1]):,} of {CHANGES:,}, with reason and outcome"
    )
    [markdown] = markdowns
    assert len(json.dumps(markdown)) < limit // 10
    assert f"Every change ({CHANGES:,}): `{changes.csv_path}`" in markdown
    assert f"The changes table: {len(tables)} pages" in markdown
    assert markdown.count("): HTTP 500 ") == len(changes.failures) == 8  # each one named
    with open(changes.csv_path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["contact_id"] for row in rows] == [str(n) for n in range(CHANGES)]
    assert rows[0]["change"] == "task 'Call " + "é" * 90 + "' due 2026-12-01 00:00 UTC"
    assert rows[0]["created"] == "90000"
    assert rows[1]["change"] == "lifecyclestage: marketingqualifiedlead → salesqualifiedlead"
    assert rows[1]["outcome"] == "failed" and rows[1]["error"].startswith("HTTP 500")
    assert summary.as_dict()["changes_csv"] == str(changes.csv_path)
