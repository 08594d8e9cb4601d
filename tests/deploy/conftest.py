"""One real Prefect server for every deployment test of the session (it takes a while to
start): on PostgreSQL when one can be started here (`.ci/run` installs Debian's `postgresql`),
else on SQLite; `database` says which. Started by the first test that needs it, stopped at the
end of the session (also on failure); each module points this process at it while it runs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.events.worker import EventsWorker
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect_harness import PREFECT, Database, Service, free_port, healthy, postgres, wait_for


@pytest.fixture(scope="session")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("logs")


@pytest.fixture(scope="session")
def database(logs: Path) -> Iterator[Database]:
    with postgres(logs) as found:
        yield found


@pytest.fixture(scope="session")
def prefect_env(tmp_path_factory: pytest.TempPathFactory, database: Database) -> dict[str, str]:
    """Environment for every Prefect command started here: own home, own server, no telemetry."""
    secrets = ("HUBSPOT_ACCESS_TOKEN", "HUBSPOT_TOKEN_BLOCK", "SMTP_PASSWORD")
    env = {k: v for k, v in os.environ.items() if k not in secrets}
    env.update(
        PREFECT_HOME=str(tmp_path_factory.mktemp("prefect-home")),
        PREFECT_API_URL=f"http://127.0.0.1:{free_port()}/api",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="5",
        PREFECT_WORKER_QUERY_SECONDS="2",
    )
    if database.url:
        env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = database.url
    return env


@pytest.fixture(scope="session")
def prefect_server(prefect_env: dict[str, str], logs: Path) -> Iterator[str]:
    """A `prefect server start` on a free port, healthy, until the session ends."""
    url = prefect_env["PREFECT_API_URL"]
    port = url.rsplit(":", 1)[1].split("/")[0]
    command = [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", port]
    server = Service.start("server", command, prefect_env, logs)
    try:
        wait_for(
            f"Prefect server health at {url}",
            lambda: healthy(url) or server.process.poll() is not None,
            timeout=120,
            context=server.tail,
        )
        assert server.process.poll() is None, f"the server exited\n{server.tail()}"
        yield url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def prefect_api(prefect_server: str, prefect_env: dict[str, str]) -> Iterator[str]:
    """The session's server, used by this process and its children for one test module (other
    modules keep their own Prefect, e.g. the test harness)."""
    with (
        pytest.MonkeyPatch.context() as patch,
        temporary_settings({PREFECT_API_URL: prefect_server}),
    ):
        for name in ("PREFECT_HOME", "PREFECT_API_URL", "PREFECT_SERVER_ANALYTICS_ENABLED"):
            patch.setenv(name, prefect_env[name])
        yield prefect_server
        EventsWorker.drain_all(timeout=5, at_exit=False)  # send this process's events now


@pytest.fixture(scope="module")
def client(prefect_api: str) -> Iterator[SyncPrefectClient]:
    with get_client(sync_client=True) as prefect_client:
        yield prefect_client
