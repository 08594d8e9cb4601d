"""Connection settings, read from the environment or a `.env` file.

Example:
    ```python
    from config.settings import Settings

    settings = Settings(hubspot_access_token="pat-na1-...", hubspot_base_url="http://127.0.0.1:8765")
    print(settings.hubspot_base_url)
    ```
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_UI_DOMAIN = "app.hubspot.com"  # HubSpot's app for portals outside the EU


class Settings(BaseSettings):
    """Everything leadops needs to reach HubSpot and deliver mail. Secrets are `SecretStr`."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    hubspot_access_token: SecretStr | None = Field(
        default=None, description="Private-app token. Never printed or logged."
    )
    hubspot_token_block: str | None = Field(
        default=None, description="Name of a Prefect Secret block holding the token instead."
    )
    hubspot_base_url: str = Field(default="https://api.hubapi.com")
    # The portal's identity is read from HubSpot each run (`gateway.identity`); these three are
    # optional checks: a value set here that HubSpot contradicts stops the run before writing.
    hubspot_portal_id: str | None = Field(default=None, description="Expected portal (hub) id.")
    hubspot_portal_timezone: str | None = Field(default=None, description="Expected timezone.")
    hubspot_ui_domain: str | None = Field(
        default=None, description="Expected UI domain (app.hubspot.com, app-eu1.hubspot.com)."
    )
    hubspot_requests_per_10s: int = Field(default=100, ge=1, le=1000)
    hubspot_searches_per_second: float = Field(default=4, gt=0, le=5)
    hubspot_searches_in_request_budget: bool = Field(
        default=True,
        description="Count searches in the 10-second request budget too (HubSpot does not "
        "document whether it does; counting them never causes a 429).",
    )
    hubspot_association_requests_per_10s: int = Field(
        default=100,
        ge=1,
        le=1000,
        description="Pace of associations API calls (/crm/v4/associations/...), which HubSpot "
        "meters with their own burst limit of 100-200 per 10 s by tier; they count in the "
        "10-second request budget too. The default is the lowest tier's.",
    )
    hubspot_connect_timeout: float = Field(default=5.0, gt=0, le=120)
    hubspot_read_timeout: float = Field(default=30.0, gt=0, le=600)
    hubspot_max_retries: int = Field(default=6, ge=0, le=20)
    hubspot_global_limit: str | None = Field(
        default=None,
        description="Name of a Prefect global concurrency limit shared by runs on one portal.",
    )

    leadops_daily_budget_share: float = Field(
        default=0.2,
        gt=0,
        le=1,
        description="Share of the portal's daily HubSpot API budget (shared by every app on "
        "the portal) leadops may spend; a run that reaches it stops before writing more.",
    )

    leadops_state_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the run-state database (incremental cycles' deadlines "
        "and baselines, run costs); empty: a SQLite file under the outbox folder. Workers on "
        "several machines share one (e.g. postgresql+psycopg://...).",
    )
    leadops_schedule_minutes: float = Field(
        default=15,
        gt=0,
        le=1440,
        description="Minutes between scheduled cycles, for the daily-budget projection a run "
        "reports (deployments set it from their schedule).",
    )

    lifecycle_config: Path = Field(
        default=Path(__file__).with_name("lifecycle.yaml"), description="Rules file."
    )

    smtp_server: str | None = None
    smtp_port: int = Field(default=465, ge=1, le=65535)
    smtp_type: str = Field(default="SSL", pattern="^(SSL|STARTTLS|INSECURE)$")
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_credentials_block: str | None = Field(
        default=None, description="Name of a prefect-email EmailServerCredentials block."
    )
    outbox_dir: Path = Field(default=Path("outbox"))
    leadops_digest_max_bytes: int = Field(
        default=10_000_000,
        ge=500_000,
        le=1_000_000_000,
        description="Largest digest email, in bytes as SMTP counts them (10 MB: what many mail "
        "servers accept). A bigger CSV attachment goes out zipped, and with only the rows "
        "that fit, the mail saying how many were left out. Keep it at most the SMTP server's "
        "limit.",
    )
    report_dir: Path = Field(
        default=Path("reports"), description="Where lead reports are saved (one folder each)."
    )
    leadops_lock_timeout: float = Field(
        default=900,
        ge=0,
        le=86_400,
        description="Seconds a writing run waits for another run on the same portal to finish.",
    )
    leadops_run_limit: str | None = Field(
        default=None,
        description="Name of a Prefect global concurrency limit (limit 1) that writing runs "
        "on this portal hold, to take turns across machines.",
    )
    leadops_artifact_suffix: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9][a-z0-9-]*$",
        description="Ends the keys of the runs' Prefect artifacts (`lifecycle-cycle-summary-777`"
        "), so portals sharing a Prefect server keep their own; `leadops deploy --portal` "
        "sets it to the portal id.",
    )

    leadops_ops_email: str | None = Field(
        default=None,
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        description="Where failure alerts go, whatever the rules file says (default: its "
        "notify.ops_email, or the last one that loaded when the file has an error).",
    )

    @field_validator("hubspot_base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"must start with http:// or https://, got {value!r}")
        return value.rstrip("/")

    @field_validator("hubspot_portal_timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA timezone {value!r} (e.g. Europe/Berlin)") from exc
        return value

    @property
    def timezone(self) -> ZoneInfo:
        """The portal's timezone (UTC until read from HubSpot or set)."""
        return ZoneInfo(self.hubspot_portal_timezone or "UTC")

    def access_token(self) -> str:
        """The token: from the named Prefect Secret block when one is set, else the setting.

        The block wins so that a deployment for one portal never picks up a token left in
        a `.env` file for another.
        """
        if self.hubspot_token_block:
            from prefect.blocks.system import Secret

            return Secret.load(self.hubspot_token_block).get()
        if self.hubspot_access_token is not None:
            return self.hubspot_access_token.get_secret_value()
        raise MissingSettingError(
            "HUBSPOT_ACCESS_TOKEN is not set: export it (a private-app token) or set "
            "HUBSPOT_TOKEN_BLOCK to the name of a Prefect Secret block holding it."
        )


class MissingSettingError(RuntimeError):
    """A required setting is absent; the message says how to provide it."""
