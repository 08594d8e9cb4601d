"""Run the sandbox: `running_sandbox()` in a background thread (tests, demo), `serve()` blocking.

with running_sandbox(seed="demo") as sb:
    client = HubSpot(access_token=sb.token, host=sb.url)
    ...
    assert sb.stats()["writes_total"] == 0
"""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import uvicorn

from sandbox.app import Sandbox, create_app
from sandbox.faults import Limits
from sandbox.seed import seed_store
from sandbox.store import Store


@dataclass
class SandboxHandle:
    """A running sandbox: where it listens, its token, its state, and admin helpers."""

    url: str
    token: str
    store: Store
    sandbox: Sandbox

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        """Call an admin endpoint (`/_sandbox/...`) and return its JSON answer."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}/_sandbox/{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def stats(self) -> dict[str, Any]:
        """Requests/writes per endpoint, 429s by policy, injected faults, statuses."""
        return self.admin("GET", "stats")

    def reset_stats(self) -> None:
        self.admin("POST", "stats/reset")

    def set_faults(self, **faults: Any) -> dict[str, Any]:
        """Replace fault injection settings (see `sandbox.faults.Faults`); no args = all off."""
        return self.admin("PUT", "faults", faults)

    def set_limits(self, **limits: Any) -> dict[str, Any]:
        """Change real limits: requests_per_10s, searches_per_second, daily,
        associations_per_10s (None = off)."""
        return self.admin("PUT", "limits", limits)

    def set_config(self, **config: Any) -> dict[str, Any]:
        """bad_id_mode ("207"/"400"), association_page_size, empty_associations,
        search_lag_ms, portal_id, time_zone, ui_domain (see `sandbox.web.SandboxConfig`)."""
        return self.admin("PUT", "config", config)

    def edit_task_as_person(self, task_id: str, body: str | None = None) -> str:
        """Save a task in HubSpot's editor (its body, or `body`, becomes rich-text HTML);
        returns the stored `hs_task_body`."""
        edit = {} if body is None else {"hs_task_body": body}
        answer = self.admin("POST", f"tasks/{task_id}/edit", edit)
        return answer["properties"]["hs_task_body"]

    def add_owner(
        self,
        email: str | None,
        first_name: str | None = None,
        last_name: str | None = None,
        archived: bool = False,
        owner_id: str | None = None,
    ) -> dict[str, Any]:
        """Add an owner (HubSpot's owners are read-only over the API); returns its JSON."""
        body = {
            "email": email,
            "firstName": first_name,
            "lastName": last_name,
            "archived": archived,
        }
        if owner_id is not None:
            body["id"] = owner_id
        return self.admin("POST", "owners", body)

    def reseed(self, seed: str = "demo", contacts: int | None = None) -> dict[str, Any]:
        """Replace all data with a fresh seed; returns record counts per object type."""
        return self.admin("POST", "seed", {"seed": seed, "contacts": contacts})


def _build(
    seed: str, contacts: int | None, token: str, limits: Limits, now: datetime | None
) -> tuple[Store, Any]:
    if seed not in ("demo", "empty"):
        raise ValueError(f"seed must be 'demo' or 'empty', not {seed!r}")
    store = Store(now)
    seed_store(store, seed, contacts)
    return store, create_app(store, token=token, limits=limits)


@contextmanager
def running_sandbox(
    *,
    seed: str = "demo",
    contacts: int | None = None,
    token: str = "sandbox-token",
    requests_per_10s: int | None = None,
    searches_per_second: float | None = None,
    now: datetime | None = None,
) -> Iterator[SandboxHandle]:
    """Serve a fresh sandbox on a free 127.0.0.1 port in a background thread.

    Limits default to off so tests run fast; `now` fixes the clock (default: the real time,
    with seed dates counted from the current hour).
    """
    store, app = _build(seed, contacts, token, Limits(requests_per_10s, searches_per_second), now)
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so, and
    # without it every response waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"sandbox-{port}", daemon=True
    )
    thread.start()
    handle = SandboxHandle(f"http://127.0.0.1:{port}", token, store, app.app.state.sandbox)
    try:
        _wait_until_up(handle, thread)
        yield handle
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _wait_until_up(handle: SandboxHandle, thread: threading.Thread) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if not thread.is_alive():
            raise RuntimeError("the sandbox server thread stopped during start-up")
        try:
            handle.stats()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"the sandbox at {handle.url} did not answer within 15 s")


def serve(
    *,
    host: str = "127.0.0.1",
    port: int,
    seed: str = "demo",
    contacts: int | None = None,
    token: str = "sandbox-token",
    requests_per_10s: int | None = 190,
    searches_per_second: float | None = 5,
    now: datetime | None = None,
) -> None:
    """Serve until interrupted, with HubSpot Professional limits by default; `now` sets the
    clock (it then runs on from there)."""
    _, app = _build(seed, contacts, token, Limits(requests_per_10s, searches_per_second), now)
    uvicorn.run(app, host=host, port=port, log_level="info", lifespan="off")
