"""A run's write-ahead journal, so that changes made by a run that died still reach owners.

Owners hear about changes in the digests sent at the end of a run. A run killed outright
(`kill -9`, OOM, a lost machine) never gets there, and its rerun does not plan those changes
again (they are in HubSpot already), so without a journal nobody would be told. Each writing
run appends to `<outbox>/journal/<portal key>/<run>.jsonl`, fsynced:

* an `intent` line per change just before its batch is written, and
* a `result` line per change as soon as its batch returns.

The run deletes its journal once its digests are in the outbox, keeping only the changes
in doubt: those reported failed (some may have landed after all: a task create that timed
out, a batch cut short by the DAILY limit) and those of a batch that was being written when
the run was interrupted (Ctrl-C, a Prefect cancellation); the next run checks them. A
journal left behind belongs to a run that died (runs on a portal are serialised by
`runstate.lock`). The next writing run reads it *before its rules run*: applied results are
told again by nobody else, so they go into its digests; intents without a confirmed result
are checked against HubSpot (the contact's properties, its leadops task, its list
membership): what HubSpot shows as done is told, the rest is left to the rules, which plan it
again and tell it themselves. Either way each change is told once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from config.settings import Settings
from gateway.client import HubSpotGateway
from model.changes import Change, ChangeResult, Outcome, TaskSpec
from rules.tasks import marker_of, plain_text
from runstate.lock import portal_key

Key = tuple[str, str, str]  # rule, contact id, action


def journal_folder(settings: Settings) -> Path:
    """The portal's journals (and the runs' changes CSVs, `runstate.changes`)."""
    return Path(settings.outbox_dir) / "journal" / portal_key(settings)


class Journal:
    """Append-only record of one run's planned and applied changes (JSON lines)."""

    def __init__(self, settings: Settings, run_name: str) -> None:
        self.folder = journal_folder(settings)
        self.path = self.folder / f"{_safe(run_name)}.jsonl"
        self._earlier: list[Path] = []
        self._in_doubt: list[Change] = []
        self._unanswered: dict[Key, Change] = {}  # intents whose batch has not returned

    # ---- this run ------------------------------------------------------------------------

    def intend(self, changes: Iterable[Change]) -> None:
        changes = [c for c in changes if not c.skip]
        self._unanswered.update((c.key, c) for c in changes)
        self._append({"intent": _dump_change(c)} for c in changes)

    def record(self, results: Iterable[ChangeResult]) -> None:
        results = list(results)
        for result in results:
            self._unanswered.pop(result.change.key, None)
        results = [r for r in results if r.outcome in (Outcome.APPLIED, Outcome.FAILED)]
        self._in_doubt += [r.change for r in results if r.outcome is Outcome.FAILED]
        self._append(
            {"result": _dump_change(r.change), "outcome": r.outcome.value} for r in results
        )

    @property
    def in_doubt(self) -> int:
        """Changes whose fate this run does not know: reported failed, or in a batch that was
        being written when the run was interrupted."""
        return len(self._in_doubt) + len(self._unanswered)

    def close(self) -> None:
        """The run told its changes: forget them (and the earlier journals it recovered),
        keeping those in doubt for the next run to check."""
        for path in self._earlier:
            path.unlink(missing_ok=True)
        self.path.unlink(missing_ok=True)
        doubtful = [*self._in_doubt, *self._unanswered.values()]
        if doubtful:
            self._append({"intent": _dump_change(c)} for c in doubtful)

    # ---- runs that died --------------------------------------------------------------------

    def recover(self, gateway: HubSpotGateway) -> list[ChangeResult]:
        """Changes of earlier runs that HubSpot shows as done but nobody has told yet.

        Call it before the rules run; `close()` then deletes the journals read here.
        """
        if not self.folder.is_dir():
            return []
        files = sorted(p for p in self.folder.glob("*.jsonl") if p != self.path)
        applied: dict[Key, Change] = {}
        doubtful: dict[Key, Change] = {}
        for path in files:
            intents, results = _read(path)
            for key, (change, outcome) in results.items():
                if outcome is Outcome.APPLIED:
                    applied[key] = change
            for key, change in intents.items():
                if key not in results or results[key][1] is not Outcome.APPLIED:
                    doubtful[key] = change  # written or not: HubSpot will tell
        for key in applied:
            doubtful.pop(key, None)
        confirmed = verify(gateway, list(doubtful.values()))
        self._earlier = files
        return [ChangeResult(c, Outcome.APPLIED) for c in [*applied.values(), *confirmed]]

    def _append(self, entries: Iterable[dict[str, Any]]) -> None:
        lines = [json.dumps(entry) for entry in entries]
        if not lines:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
            handle.flush()
            os.fsync(handle.fileno())


TASK_PROPERTIES = ("hs_task_body", "hs_timestamp")


def verify(gateway: HubSpotGateway, changes: Sequence[Change]) -> list[Change]:
    """The changes HubSpot shows as done: properties equal, the task exists, the contact is
    in the list."""
    done: list[Change] = []
    updates = [c for c in changes if c.properties]
    if updates:
        names = sorted({name for c in updates for name in c.properties})
        read = gateway.batch_read("contacts", [c.contact_id for c in updates], names)
        now = {record.id: record for record in read.succeeded}
        done += [
            c
            for c in updates
            if c.contact_id in now
            and all(now[c.contact_id].get(k) == (v or None) for k, v in c.properties.items())
        ]
    tasks = [c for c in changes if c.task]
    if tasks:
        links = gateway.associations("contacts", "tasks", [c.contact_id for c in tasks])
        task_ids = sorted({t for ids in links.values() for t in ids})
        # Matched by its marker and due time, not its exact body: a person may have edited
        # the task since, and HubSpot then gives the body back as rich text.
        found = {
            r.id: (plain_text(r.get("hs_task_body") or ""), r.time("hs_timestamp"))
            for r in gateway.batch_read("tasks", task_ids, TASK_PROPERTIES).succeeded
        }
        done += [
            c
            for c in tasks
            if c.task
            and any(
                marker_of(c.task) in found[t][0] and _same_instant(found[t][1], c.task.due)
                for t in links.get(c.contact_id, [])
                if t in found
            )
        ]
    adds = [c for c in changes if c.list_name]
    if adds:
        # The lists each contact is in (a call per 100 contacts), not every member of every
        # nurture list (a call per 250 members, ~400 at 100k).
        in_lists = gateway.list_memberships(c.contact_id for c in adds)
        list_ids = {name: gateway.find_list(name) for name in {c.list_name for c in adds}}
        done += [
            c
            for c in adds
            if list_ids[c.list_name] is not None
            and list_ids[c.list_name] in in_lists.get(c.contact_id, set())
        ]
    return done


def _read(path: Path) -> tuple[dict[Key, Change], dict[Key, tuple[Change, Outcome]]]:
    intents: dict[Key, Change] = {}
    results: dict[Key, tuple[Change, Outcome]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
            if "intent" in entry:
                change = _load_change(entry["intent"])
                intents[change.key] = change
            else:
                change = _load_change(entry["result"])
                results[change.key] = (change, Outcome(entry["outcome"]))
        except (ValueError, KeyError, TypeError):
            continue  # a line cut short by the kill
    return intents, results


def _same_instant(read: datetime | None, written: datetime) -> bool:
    """HubSpot keeps timestamps to the millisecond: equal to within a second is the same."""
    return read is not None and abs((read - written).total_seconds()) < 1


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "-" for c in name)[:150] or "run"


def _dump_change(change: Change) -> dict[str, Any]:
    data = asdict(change)
    if change.task is not None:
        data["task"]["due"] = change.task.due.isoformat()
    return data


def _load_change(data: dict[str, Any]) -> Change:
    data = dict(data)
    if data.get("task"):
        task = dict(data["task"])
        task["due"] = datetime.fromisoformat(task["due"])
        data["task"] = TaskSpec(**task)
    return Change(**data)
