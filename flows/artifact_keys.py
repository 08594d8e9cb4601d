"""Artifact keys per portal: several portals on one Prefect server keep their own "latest".

Prefect shows the latest artifact under each key across every flow run of the server (the
Artifacts page), so two portals publishing `lifecycle-cycle-summary` would overwrite each
other's. `leadops deploy --portal 777` records `LEADOPS_ARTIFACT_SUFFIX=777` in the portal's
deployments: their runs publish `lifecycle-cycle-summary-777`, `reconcile-missed-777`, ...
A single-portal installation keeps the plain keys.

Example:
    ```python
    from config.settings import Settings
    from flows.artifact_keys import artifact_key

    print(artifact_key("lifecycle-cycle-summary", Settings(leadops_artifact_suffix="777")))
    ```
"""

from __future__ import annotations

from config.settings import Settings


def artifact_key(base: str, settings: Settings) -> str:
    """`base`, ending in the portal's suffix when the run belongs to a per-portal set."""
    return suffixed(base, settings.leadops_artifact_suffix)


def suffixed(base: str, suffix: str | None) -> str:
    return f"{base}-{suffix}" if suffix else base
