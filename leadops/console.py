"""What `leadops` shows a person while and after it works: progress, short errors, tables
whose cells fit a terminal.

Importing it does not import Prefect: the CLI sets Prefect's log level before Prefect reads it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from rich.console import Console
from rich.progress import Progress as Bar
from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

from flows.progress import PROGRESS_LOGGER, Progress
from notify.text import MAX_CELL, one_line

MAX_ERROR_LINE = 400


def cell(value: object, limit: int = MAX_CELL) -> str:
    """A table cell's text: one line, at most `limit` characters (cut with "…")."""
    return one_line(value, limit)


def failure_message(exc: BaseException) -> str:
    """One readable line for a run that failed: what went wrong, never a traceback."""
    from gateway.client import HubSpotError

    text = str(exc) if isinstance(exc, HubSpotError) else f"{type(exc).__name__}: {exc}"
    return one_line(text, MAX_ERROR_LINE) + " (run with -v for the traceback)"


class _NoTracebacks(logging.Filter):
    """Prefect logs a failed run's exception with its traceback (hundreds of lines) and a
    `Finished in state Failed(...)` line; the CLI says it once, in one line, instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info or record.getMessage().startswith("Finished in state"):
            return record.levelno < logging.WARNING
        return True


def quiet_prefect_tracebacks() -> None:
    """Keep Prefect's warnings on the console but drop its error tracebacks."""
    import prefect  # noqa: F401  (configures Prefect's logging handlers first)

    for name in ("", "prefect", "prefect.flow_runs", "prefect.task_runs"):
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, _NoTracebacks) for f in handler.filters):
                handler.addFilter(_NoTracebacks())


class _ToBar(logging.Handler):
    def __init__(self, bar: Bar) -> None:
        super().__init__(logging.DEBUG)
        self.bar = bar
        self.tasks: dict[str, int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        progress: Progress | None = getattr(record, "progress", None)
        if progress is None:
            return
        if progress.rule not in self.tasks:
            for earlier in self.tasks.values():  # the cycle moved on: earlier rules are done
                self.bar.update(earlier, completed=1, total=1)
            self.tasks[progress.rule] = self.bar.add_task(progress.rule, total=None)
        self.bar.update(
            self.tasks[progress.rule],
            description=progress.describe(),
        )


@contextlib.contextmanager
def shown_progress(console: Console, what: str) -> Iterator[None]:
    """A live line per rule (contacts judged, changes so far) while the run works."""
    logger = logging.getLogger(PROGRESS_LOGGER)
    with Bar(
        SpinnerColumn(finished_text="✓"),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=not console.is_terminal,
    ) as bar:
        bar.add_task(f"Running {what}…", total=None)
        handler = _ToBar(bar)
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        try:
            yield
        finally:
            logger.removeHandler(handler)
            for task in bar.task_ids:
                bar.update(task, completed=1, total=1)
