"""One writing run per portal at a time: a file lock under the outbox folder.

Two cycles writing to one portal at once would both plan the same first-touch tasks (neither
sees the other's before creating its own) and both tell owners about them. `portal_lock` makes
a second writing run on the same machine (same `OUTBOX_DIR`) wait for the first; if the first
does not finish within `LEADOPS_LOCK_TIMEOUT` seconds the second stops before any write with a
`RunLockTimeout` naming the holder. The lock is an `fcntl.flock`, so the kernel releases it
when the holding process dies, even by `kill -9`. Across machines, set `LEADOPS_RUN_LIMIT` to
the name of a Prefect global concurrency limit with limit 1 (`prefect gcl create
leadops-run --limit 1`): each writing run then also holds a slot of it (a lease, so a dead
run's slot expires).

Example:
    ```python
    from config.settings import Settings
    from runstate.lock import portal_lock

    with portal_lock(Settings(outbox_dir="/tmp/leadops")):
        ...  # the only writing run on this portal
    ```
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from config.settings import Settings

POLL_SECONDS = 0.2


class RunLockTimeout(RuntimeError):
    """Another writing run on this portal held the lock for longer than the timeout."""


def portal_key(settings: Settings) -> str:
    """`portal-<hash of base URL and portal id>`: names a portal's lock and journal folder."""
    key = f"{settings.hubspot_base_url}\0{settings.hubspot_portal_id}"
    return "portal-" + hashlib.sha256(key.encode()).hexdigest()[:16]


def lock_path(settings: Settings) -> Path:
    """`<outbox>/.locks/<portal key>.lock`, one per portal."""
    return Path(settings.outbox_dir) / ".locks" / f"{portal_key(settings)}.lock"


@contextlib.contextmanager
def portal_lock(
    settings: Settings,
    *,
    timeout: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the portal's run lock; wait up to `timeout` s (default: the setting) for it."""
    timeout = settings.leadops_lock_timeout if timeout is None else timeout
    path = lock_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        deadline = time.monotonic() + timeout
        told = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _holder(path)
                if time.monotonic() >= deadline:
                    raise RunLockTimeout(
                        f"another leadops run on this portal ({holder}) still holds {path} "
                        f"after {timeout:g} s; nothing was written. Let it finish, or raise "
                        "LEADOPS_LOCK_TIMEOUT."
                    ) from None
                if on_wait and not told:
                    on_wait(f"waiting for another leadops run on this portal ({holder})")
                    told = True
                time.sleep(POLL_SECONDS)
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()} since {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC")
            handle.flush()
            with _prefect_slot(settings.leadops_run_limit, timeout):
                yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def _prefect_slot(name: str | None, timeout: float) -> Iterator[None]:
    """Hold one slot of the named Prefect global concurrency limit (runs on other machines
    hold it too); a limit that does not exist is skipped with Prefect's warning."""
    if not name:
        yield
        return
    from prefect.concurrency.sync import concurrency

    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(
                concurrency(name, occupy=1, timeout_seconds=max(timeout, 0.1), strict=False)
            )
        except TimeoutError:
            raise RunLockTimeout(
                f"another leadops run holds the Prefect global concurrency limit {name!r} "
                f"(LEADOPS_RUN_LIMIT) after {timeout:g} s; nothing was written. Let it finish, "
                "or raise LEADOPS_LOCK_TIMEOUT."
            ) from None
        yield


def _holder(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip() or "unknown holder"
    except OSError:
        return "unknown holder"
