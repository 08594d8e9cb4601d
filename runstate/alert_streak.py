"""Failure streaks per portal and deployment, so ops get one alert per streak, not one per run.

A deployment scheduled every 15 minutes that fails for a day would otherwise mail ops 96
identical alerts. The state lives in `<outbox>/alerts/<portal key>/<deployment>.json` (written
atomically under a file lock, so it survives restarts and two runs finishing at once):

* a failure adds one to the streak; the first failure of a streak is the one to alert on;
* a success ends the streak; when ops were alerted, they get one recovery notice.

The rules' `notify` section that last loaded is kept beside it (`notify.json`), so an alert
still reaches ops when a typo makes the rules file unreadable.

Example:
    ```python
    from config.settings import Settings
    from runstate.alert_streak import AlertStreaks

    streaks = AlertStreaks(Settings(outbox_dir="/tmp/leadops"))
    if streaks.failed("lifecycle-cycle/cycle").failures == 1:
        ...  # mail ops, then streaks.alerted("lifecycle-cycle/cycle")
    ```
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from config.rules import Notify
from config.settings import Settings
from runstate.files import exclusive_lock, write_atomically
from runstate.lock import portal_key


@dataclass(frozen=True)
class Streak:
    """Consecutive failed runs of one deployment, and whether ops were told."""

    failures: int = 0
    alerted: bool = False


class AlertStreaks:
    """The failure streaks and last good notify settings of one portal (by its settings)."""

    def __init__(self, settings: Settings) -> None:
        self.folder = Path(settings.outbox_dir) / "alerts" / portal_key(settings)

    def failed(self, deployment: str) -> Streak:
        """Count a failed run; returns the streak including it."""
        with self._locked():
            streak = self.read(deployment)
            streak = Streak(streak.failures + 1, streak.alerted)
            self._write(deployment, streak)
        return streak

    def alerted(self, deployment: str) -> None:
        """Ops have been told about the current streak (its alert is in the outbox)."""
        with self._locked():
            self._write(deployment, Streak(self.read(deployment).failures, alerted=True))

    def succeeded(self, deployment: str) -> Streak:
        """End the streak; returns the one that just ended (alerted: owe ops a recovery)."""
        with self._locked():
            ended = self.read(deployment)
            if ended != Streak():
                self._write(deployment, Streak())
        return ended

    def read(self, deployment: str) -> Streak:
        try:
            data = json.loads(self._path(deployment).read_text(encoding="utf-8"))
            return Streak(int(data["failures"]), bool(data["alerted"]))
        except (OSError, ValueError, KeyError, TypeError):
            return Streak()

    def remember_notify(self, notify: Notify) -> None:
        """Keep the notify settings of rules that loaded: the alert path's fallback."""
        if self.last_good_notify() != notify:
            with self._locked():
                write_atomically(self.folder / "notify.json", notify.model_dump_json().encode())

    def last_good_notify(self) -> Notify | None:
        try:
            return Notify.model_validate_json((self.folder / "notify.json").read_text("utf-8"))
        except (OSError, ValueError):
            return None

    def _path(self, deployment: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "._-" else "-" for c in deployment)[:150]
        return self.folder / f"{safe or 'run'}.json"

    def _write(self, deployment: str, streak: Streak) -> None:
        write_atomically(self._path(deployment), json.dumps(asdict(streak)).encode())

    def _locked(self) -> contextlib.AbstractContextManager[None]:
        return exclusive_lock(self.folder / ".lock")
