"""Where a run's temporary files go: a folder per process under the portal's journal folder,
swept of dead runs' folders by the next run.

A run spools its changes (`runstate.changes`) and each recipient's digest lines to disk. In
the system's temp folder a `kill -9`'d run left them there for good. Now each process has one
folder, `<outbox>/journal/<portal key>/spools/<pid>-<random>/`, holding an `fcntl` lock on
its `.held` file for as long as it lives — the same kind of lock as the portal's run lock
(`runstate.lock`), which the kernel releases when the process dies, even by `kill -9`. The
first time a process asks for its folder it removes every folder whose lock nobody holds: the
leftovers of runs that are not running. A folder with no `.held` at all (a process killed
between creating it and locking it) goes once it is an hour old.

Example:
    ```python
    from runstate.journal import journal_folder
    from runstate.spool import spool_folder

    folder = spool_folder(journal_folder(settings))  # created; stale ones removed
    ```
"""

from __future__ import annotations

import atexit
import fcntl
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import IO

SPOOLS = "spools"
HELD = ".held"
UNLOCKED_GRACE = 3600.0  # seconds before a folder that never got its lock counts as stale

_mine: dict[Path, tuple[Path, IO[str]]] = {}  # spools root -> (this process's folder, lock)


def spool_folder(journal: Path) -> Path:
    """This process's spool folder under `journal` (a portal's journal folder): created and
    locked on first use, after removing the folders of processes that are gone."""
    root = (journal / SPOOLS).resolve()
    if root in _mine:
        folder, held = _mine[root]
        if folder.is_dir():
            return folder
        held.close()  # removed under us (the outbox was cleared): make a new one
    root.mkdir(parents=True, exist_ok=True)
    remove_stale_spools(root)
    folder = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=root))
    held = open(folder / f"{HELD}.new", "w")  # noqa: SIM115 - held open (locked) while we live
    fcntl.flock(held, fcntl.LOCK_EX)
    os.replace(folder / f"{HELD}.new", folder / HELD)  # a sweeper only ever sees it locked
    _mine[root] = (folder, held)
    return folder


def remove_stale_spools(root: Path) -> list[Path]:
    """Remove the spool folders under `root` whose process is gone (nobody holds their
    lock); returns them. Folders of live processes, this one's included, stay."""
    removed = []
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        if folder.is_dir() and _stale(folder):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _stale(folder: Path) -> bool:
    try:
        held = open(folder / HELD)  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return time.time() - folder.stat().st_mtime > UNLOCKED_GRACE
    with held:
        try:
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a live process holds it (flock conflicts within a process too)
        fcntl.flock(held, fcntl.LOCK_UN)
        return True


@atexit.register
def _remove_mine() -> None:
    """A process that ends normally takes its folders with it."""
    for folder, held in _mine.values():
        held.close()
        shutil.rmtree(folder, ignore_errors=True)
    _mine.clear()
