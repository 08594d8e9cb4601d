"""A long run shows where it is: per rule, contacts judged and changes so far, after every
batch (what `leadops run` draws as its progress lines)."""

from __future__ import annotations

import io
import logging

import pytest
from rich.console import Console

from config.settings import Settings
from flows.params import RunParams
from flows.progress import PROGRESS_LOGGER, Progress
from flows.rule_flows import promote_flow
from leadops.console import shown_progress
from sandbox.server import SandboxHandle

pytestmark = pytest.mark.usefixtures("prefect_harness")


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: list[Progress] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(record.progress)


def test_each_batch_reports_contacts_judged_and_changes_so_far(
    sandbox: SandboxHandle, settings: Settings
) -> None:
    screen = io.StringIO()
    collect = Collect()
    with shown_progress(Console(file=screen, width=120, force_terminal=True), "promote"):
        logging.getLogger(PROGRESS_LOGGER).addHandler(collect)
        try:
            promote_flow(RunParams(dry_run=True, notify=False), settings)
        finally:
            logging.getLogger(PROGRESS_LOGGER).removeHandler(collect)
    assert collect.seen, "no progress reported"
    last = collect.seen[-1]
    assert (last.rule, last.changes) == ("promote", 33)
    assert last.judged >= 33
    assert "promote: " in screen.getvalue() and "change(s) so far" in screen.getvalue()
