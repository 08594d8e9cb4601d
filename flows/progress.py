"""Progress of a run as it goes: per rule, contacts judged and changes so far.

The engine calls `report_progress` after every batch; it logs a line on the `leadops.progress`
logger whose record carries a `Progress` (`record.progress`). Whoever shows progress listens
there: `leadops run` draws a rich progress bar from it. Flows and tasks need no callback.

Example:
    ```python
    import logging

    from flows.progress import PROGRESS_LOGGER, Progress

    class Show(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            progress: Progress = record.progress
            print(progress.rule, progress.judged, progress.changes)

    logging.getLogger(PROGRESS_LOGGER).addHandler(Show())
    ```
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

PROGRESS_LOGGER = "leadops.progress"
_logger = logging.getLogger(PROGRESS_LOGGER)


@dataclass(frozen=True)
class Progress:
    """Where a rule is: contacts judged so far and the changes planned for them."""

    rule: str
    judged: int
    changes: int

    def describe(self) -> str:
        return f"{self.rule}: {self.judged} contact(s) judged, {self.changes} change(s) so far"


def report_progress(rule: str, judged: int, changes: int) -> None:
    progress = Progress(rule, judged, changes)
    _logger.debug(progress.describe(), extra={"progress": progress})
