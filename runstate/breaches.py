"""First-touch SLA breaches already told, per portal: so a breach is alerted once, ever.

`<outbox>/sla/<portal key>.json` maps each open breach's key (`rules.sla.Breach.key`) to the
fields reports need. Writes replace the file atomically (temporary file, fsync, rename): a run
killed midway leaves the previous state whole. Writing runs on a portal are serialised by
`runstate.lock`, so there is one writer at a time.

Example:
    ```python
    from config.settings import Settings
    from runstate.breaches import BreachBook

    book = BreachBook(Settings(outbox_dir="/tmp/leadops-outbox", hubspot_portal_id="12345"))
    told = book.read()  # {} before the first alert
    book.write({"1001@2026-11-20T09:00:00+00:00": {"contact_id": "1001"}})
    ```
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from config.settings import Settings
from runstate.lock import portal_key

Told = dict[str, dict[str, str]]


class BreachStateError(ValueError):
    """The state file is unreadable; the message names it and how to recover."""


class BreachBook:
    """The told breaches of one portal, kept in the outbox folder beside the journal."""

    def __init__(self, settings: Settings) -> None:
        self.path = Path(settings.outbox_dir) / "sla" / f"{portal_key(settings)}.json"

    def read(self) -> Told:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise BreachStateError(
                f"cannot read SLA breach state {self.path}: {exc}. Fix or delete it (deleting "
                "it re-alerts the breaches still open)."
            ) from None
        if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
            raise BreachStateError(
                f"SLA breach state {self.path} is not a mapping of breaches; fix or delete it"
            )
        return {str(k): {str(f): str(v) for f, v in fields.items()} for k, fields in data.items()}

    def write(self, told: Mapping[str, Mapping[str, str]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(told, handle, indent=1, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)
