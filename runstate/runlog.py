"""What each writing run applied, kept so that `leadops undo RUN` can take it back.

HubSpot keeps no record of which run wrote what, and the run report (a Prefect artifact) is
for people. Every run that applied something writes `<outbox>/runs/<portal key>/<run>.json`
when it ends (also when it stops early): each applied change with the values it replaced
(`Change.before`), what it created (`ChangeResult.created`: the task's id, the list joined),
and when the run started and ended. Undo reads it back; nothing else does.

Example:
    ```python
    from runstate.runlog import RunLog

    log = RunLog(settings)
    run = log.load("cycle-clever-fox-1a2b3c4d")  # or the flow run's name alone, if unique
    print(run.name, len(run.applied))
    ```
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from pathlib import Path

from config.settings import Settings
from model.changes import ChangeResult, Outcome
from runstate.journal import _dump_change, _load_change, _safe
from runstate.lock import portal_key


class UnknownRun(LookupError):
    """No run (or more than one) matches the name given."""


@dataclass(frozen=True)
class RecordedRun:
    name: str
    flow: str
    started: datetime
    finished: datetime
    applied: tuple[ChangeResult, ...]


class RunLog:
    """The applied changes of a portal's runs, one JSON file per run."""

    def __init__(self, settings: Settings) -> None:
        self.folder = Path(settings.outbox_dir) / "runs" / portal_key(settings)

    def save(
        self,
        name: str,
        flow: str,
        started: datetime,
        finished: datetime,
        results: Iterable[ChangeResult],
    ) -> Path | None:
        """Keep the run's applied changes; a run that applied nothing leaves no file.

        Written one change at a time: `results` may be a run's `RunChanges`, read from disk."""
        applied = (r for r in results if r.outcome is Outcome.APPLIED)
        first = next(applied, None)
        if first is None:
            return None
        head = {
            "run": name,
            "flow": flow,
            "started": started.isoformat(),
            "finished": finished.isoformat(),
        }
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{_safe(name)}.json"
        draft = path.with_suffix(".json.tmp")
        with open(draft, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(head)[:-1] + ', "applied": [')
            for n, result in enumerate(chain([first], applied)):
                item = {"change": _dump_change(result.change), "created": result.created}
                handle.write((", " if n else "") + json.dumps(item))
            handle.write("]}")
            handle.flush()
            os.fsync(handle.fileno())
        draft.replace(path)  # a run killed while writing leaves the earlier file whole
        return path

    def names(self) -> list[str]:
        """Recorded runs, newest first."""
        files = sorted(self.folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        return [path.stem for path in files]

    def load(self, name: str) -> RecordedRun:
        """The run named `name`: its full name (`<flow run name>-<id prefix>`), or a flow run
        name that matches one recorded run."""
        recorded = self.names()
        matches = [n for n in recorded if n == _safe(name)]
        matches = matches or [n for n in recorded if n.startswith(f"{_safe(name)}-")]
        if len(matches) != 1:
            recent = ", ".join(recorded[:5]) or "none yet"
            problem = "matches several runs" if matches else "is not a run that applied changes"
            raise UnknownRun(
                f"run {name!r} {problem} on this portal (recorded in {self.folder}); "
                f"most recent: {recent}"
            )
        data = json.loads((self.folder / f"{matches[0]}.json").read_text(encoding="utf-8"))
        return RecordedRun(
            name=data["run"],
            flow=data["flow"],
            started=datetime.fromisoformat(data["started"]),
            finished=datetime.fromisoformat(data["finished"]),
            applied=tuple(
                ChangeResult(_load_change(item["change"]), Outcome.APPLIED, created=item["created"])
                for item in data["applied"]
            ),
        )
